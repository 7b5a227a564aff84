"""How the link reaches the customer (acknowledgement email, the desk's "Customer link") and what agents
see of the customer's page on the desk ticket view (ratings, replies in the timeline)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from linia.dispatch import outbound
from linia.tickets import actions
from linia.tickets.models import Channel, CustomerLink, Event, Status
from tests import factories
from tests.customer_page.conftest import Setup, make_setup

pytestmark = pytest.mark.django_db
LINK = re.compile(re.escape(settings.PUBLIC_URL) + r"(/t/[A-Za-z0-9_-]+/)")


def _email_ticket(language: str = "ru", **tenant_settings: object):  # type: ignore[no-untyped-def]
    tenant = factories.tenant(settings=tenant_settings)
    contact = actions.find_or_create_contact(None, tenant, name="Olga", emails=["olga@customer.example"])
    return actions.create_ticket(None, tenant, subject="Сломался чайник", channel=Channel.EMAIL, body="Чайник",
                                 contact=contact, language=language, external_id="email:1@customer.example")


def test_the_acknowledgement_email_carries_a_working_link(client: Client) -> None:
    ticket = _email_ticket()
    row = outbound.acknowledge_new_ticket(ticket, ticket.messages.first(), False)
    assert row is not None
    match = LINK.search(row.body_text)
    assert match is not None, row.body_text
    assert "Следить за обращением" in row.body_text
    assert f'<a href="{match.group(0)}">{match.group(0)}</a>' in row.body_html
    page = client.get(match.group(1))
    assert page.status_code == 200 and ticket.reference in page.content.decode()
    assert "Получено" in page.content.decode()  # the ticket's language (ru)


def test_no_link_when_the_tenant_turns_it_off() -> None:
    ticket = _email_ticket(email_ack={"link": False})
    row = outbound.acknowledge_new_ticket(ticket, ticket.messages.first(), False)
    assert row is not None and "/t/" not in row.body_text
    assert not CustomerLink.objects.exists()


def _login(setup: Setup) -> Client:
    client = Client()
    client.force_login(setup.agent)
    return client


def test_an_agent_issues_a_link_shown_only_once(setup: Setup) -> None:
    desk = _login(setup)
    response = desk.post(f"/tickets/{setup.ticket.pk}/customer-link/")
    assert response.status_code == 200
    html = response.content.decode()
    match = LINK.search(html)
    assert match is not None and 'id="customer-link"' in html
    assert response["Cache-Control"].startswith("no-store")
    assert CustomerLink.objects.filter(ticket=setup.ticket).count() == 2  # the fixture's and this one
    event = Event.objects.filter(ticket=setup.ticket, kind="ticket.customer_link_issued").last()
    assert event is not None and event.actor == setup.agent
    again = desk.get(f"/tickets/{setup.ticket.pk}/").content.decode()
    assert match.group(1) not in again and "Customer link" in again  # the token is not shown again
    assert Client().get(match.group(1)).status_code == 200


def test_an_agent_of_another_tenant_cannot_issue_a_link(setup: Setup) -> None:
    foreign = make_setup()
    desk = _login(foreign)
    assert desk.post(f"/tickets/{setup.ticket.pk}/customer-link/").status_code == 404
    assert CustomerLink.objects.filter(ticket=setup.ticket).count() == 1


def test_the_customer_link_needs_a_login_and_a_post(setup: Setup) -> None:
    assert Client().post(f"/tickets/{setup.ticket.pk}/customer-link/").status_code == 302  # to the login page
    assert _login(setup).get(f"/tickets/{setup.ticket.pk}/customer-link/").status_code == 405
    assert CustomerLink.objects.filter(ticket=setup.ticket).count() == 1


def test_agents_see_the_customers_reply_and_rating_on_the_ticket(client: Client, setup: Setup) -> None:
    assert client.post(setup.url + "reply/", {"body": "Any news?"}).status_code == 303
    actions.change_status(setup.agent, setup.ticket, Status.SOLVED)
    assert client.post(setup.url + "rate/", {"score": "4", "comment": "Quick & kind <3"}).status_code == 303
    html = _login(setup).get(f"/tickets/{setup.ticket.pk}/").content.decode()
    assert "Any news?" in html
    assert "The customer replied on the ticket page" in html
    assert "The customer rated the service 4/5 (on the ticket page)" in html
    assert 'data-score="4"' in html and "Quick &amp; kind &lt;3" in html


def test_the_desk_panel_in_russian(setup: Setup) -> None:
    setup.agent.language = "ru"
    setup.agent.save()
    html = _login(setup).get(f"/tickets/{setup.ticket.pk}/").content.decode()
    assert "Ссылка для клиента" in html and "Оценки ещё нет." in html


def test_an_agent_revokes_every_valid_link_of_the_ticket(client: Client, setup: Setup) -> None:
    other = make_setup()  # another ticket's link stays valid
    desk = _login(setup)
    page = desk.get(f"/tickets/{setup.ticket.pk}/").content.decode()
    assert 'id="customer-links-revoke"' in page and "Revoke the link (1 valid)" in page
    response = desk.post(f"/tickets/{setup.ticket.pk}/customer-link/revoke/", follow=True)
    assert "Customer links revoked: 1" in response.content.decode()
    assert 'id="customer-links-revoke"' not in response.content.decode()
    assert client.get(setup.url).status_code == 404
    assert client.get(other.url).status_code == 200
    assert Event.objects.filter(ticket=setup.ticket, kind="ticket.customer_links_revoked", data__count=1).exists()
    assert _login(other).post(f"/tickets/{setup.ticket.pk}/customer-link/revoke/").status_code == 404


def test_a_tenant_template_places_the_link_itself() -> None:
    ticket = _email_ticket(language="pl", email_ack={"templates": {"pl": {"body": "{reference}: {link}\n\n{tenant}"}}})
    row = outbound.acknowledge_new_ticket(ticket, ticket.messages.first(), False)
    assert row is not None
    assert len(LINK.findall(row.body_text)) == 1
    assert row.body_text.startswith(f"{ticket.reference}: {settings.PUBLIC_URL}/t/")
    assert "Tutaj możesz śledzić" not in row.body_text  # no second, built-in link line
