"""Canned chat responses (filled per chat, per tenant and language) and the chat transcript on the ticket page."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from linia.core.models import Role
from linia.demo.canned import seed_canned_responses
from linia.desk.canned import hours_text
from linia.desk.models import CannedResponse
from linia.routing import actions as routing
from linia.routing.models import PresenceState, Queue, Reservation, Task
from linia.tickets import actions as tickets
from linia.tickets.models import Channel, Message
from tests import factories as f

pytestmark = pytest.mark.django_db

WEEK = {"mon": ["08:00-22:00"], "tue": ["08:00-22:00"], "wed": ["08:00-22:00"], "thu": ["08:00-22:00"],
        "fri": ["08:00-22:00"], "sat": ["09:00-21:00"], "sun": []}


def _chat_task(tenant, agent, *, store=None, name="Jan Nowak", language="pl"):  # type: ignore[no-untyped-def]
    contact = tickets.find_or_create_contact(None, tenant, name=name, emails=["jan@example.com"], language=language)
    ticket = tickets.create_ticket(None, tenant, subject="Chat", channel="chat", contact=contact.pk,
                                   store=store.pk if store else None, language=language)
    queue = Queue.objects.get_or_create(tenant=tenant, code="chat", defaults={
        "name": "Chat", "channels": ["chat"], "target_answer_seconds": 120})[0]
    routing.set_presence(agent, agent, PresenceState.AVAILABLE)
    task = routing.create_task(None, tenant, channel="chat", queue=queue, ticket=ticket)  # language: the contact's
    routing.dispatch(tenant)
    res = Reservation.objects.get(task=task, agent=agent)
    return routing.accept_offer(agent, res.pk), ticket


def test_hours_text_groups_days_and_speaks_the_language() -> None:
    from django.utils import translation

    assert hours_text(WEEK) == "Mon–Fri 08:00–22:00; Sat 09:00–21:00; Sun closed"
    with translation.override("pl"):
        assert hours_text(WEEK) == "pon.–pt. 08:00–22:00; sob. 09:00–21:00; niedz. nieczynne"
    assert hours_text({"always": True}) == "open 24/7"
    assert hours_text({}) == "" and hours_text({"mon": ["bad"]}) == ""


def test_canned_responses_are_filled_for_the_chat_in_its_language() -> None:
    tenant = f.tenant("dyskont", name="Dyskont", ticket_prefix="DK", default_language="pl", time_zone="Europe/Warsaw")
    other = f.tenant("maison", name="Maison", ticket_prefix="MM", default_language="fr")
    agent = f.user("anna", tenant=tenant, role=Role.AGENT)
    agent.first_name = "Anna"
    agent.save()
    store = f.store(tenant, "WA-1", name="Mokotów", time_zone="Europe/Warsaw", opening_hours=WEEK)
    seed_canned_responses([tenant, other])
    assert seed_canned_responses([tenant, other]) == 0  # idempotent
    CannedResponse.objects.create(tenant=tenant, language="en", title="English only", body="Hi {customer_name}")
    CannedResponse.objects.create(tenant=tenant, language="", title="Any language", body="{unknown} {ticket_number}")
    CannedResponse.objects.create(tenant=tenant, language="pl", title="Off", body="x", is_active=False)
    task, ticket = _chat_task(tenant, agent, store=store)
    client = Client()
    client.force_login(agent)
    response = client.get(f"/desk/agent/tasks/{task.pk}/canned/")
    assert response.status_code == 200
    data = response.json()
    assert data["language"] == "pl"
    by_shortcut = {i["shortcut"]: i for i in data["items"]}
    titles = {i["title"] for i in data["items"]}
    assert "English only" not in titles and "Off" not in titles and "Any language" in titles
    assert "Accueil" not in titles  # another tenant's
    assert by_shortcut["hello"]["text"] == "Dzień dobry, Jan Nowak! Nazywam się Anna. W czym mogę pomóc?"
    assert by_shortcut["hours"]["text"] == "Nasz sklep jest otwarty: pon.–pt. 08:00–22:00; sob. 09:00–21:00; niedz. nieczynne."
    assert ticket.reference in by_shortcut["ticket"]["text"]
    any_lang = next(i for i in data["items"] if i["title"] == "Any language")
    assert any_lang["text"] == "{unknown} " + ticket.reference  # only known placeholders are replaced


def test_store_hours_fall_back_to_the_tenants_text() -> None:
    tenant = f.tenant("quick", name="Quick", ticket_prefix="QD", default_language="en",
                      settings={"store_hours": "every day 7:00–23:00"})
    agent = f.user("ola", tenant=tenant, role=Role.AGENT)
    CannedResponse.objects.create(tenant=tenant, language="en", title="Hours", body="{store_hours}")
    task, _ticket = _chat_task(tenant, agent, language="en")
    client = Client()
    client.force_login(agent)
    assert client.get(f"/desk/agent/tasks/{task.pk}/canned/").json()["items"][0]["text"] == "every day 7:00–23:00"


def test_only_the_chats_holder_gets_its_canned_responses() -> None:
    tenant = f.tenant("spar", name="Spar", ticket_prefix="SPR", default_language="en")
    other = f.tenant("bieda", name="Bieda", ticket_prefix="BDR")
    agent = f.user("anna", tenant=tenant, role=Role.AGENT)
    colleague = f.user("boris", tenant=tenant, role=Role.AGENT)
    foreign = f.user("piotr", tenant=other, role=Role.AGENT)
    task, _ticket = _chat_task(tenant, agent, language="en")
    for user in (colleague, foreign):
        client = Client()
        client.force_login(user)
        response = client.get(f"/desk/agent/tasks/{task.pk}/canned/")
        assert response.status_code in (403, 404), user
        assert "items" not in response.content.decode()
    assert Client().get(f"/desk/agent/tasks/{task.pk}/canned/").status_code == 302  # to the login page


def test_canned_response_admin_is_scoped_to_the_tenant() -> None:
    tenant = f.tenant("spar", name="Spar", ticket_prefix="SPR")
    other = f.tenant("bieda", name="Bieda", ticket_prefix="BDR")
    boss = f.user("sofia", tenant=tenant, role=Role.SUPERVISOR)
    boss.is_staff = True
    boss.save()
    CannedResponse.objects.create(tenant=tenant, title="Ours", body="a")
    theirs = CannedResponse.objects.create(tenant=other, title="Theirs", body="b")
    client = Client()
    client.force_login(boss)
    page = client.get("/admin/desk/cannedresponse/")
    assert page.status_code == 200
    assert "Ours" in page.content.decode() and "Theirs" not in page.content.decode()
    assert client.get(f"/admin/desk/cannedresponse/{theirs.pk}/change/").status_code == 404


def test_ticket_page_shows_the_chat_as_a_transcript_in_the_agents_time_zone() -> None:
    tenant = f.tenant("spar", name="Spar", ticket_prefix="SPR", time_zone="Asia/Vladivostok")
    agent = f.user("anna", tenant=tenant, role=Role.AGENT)
    agent.first_name, agent.last_name, agent.time_zone = "Anna", "Kowalska", "Europe/Warsaw"
    agent.save()
    contact = tickets.find_or_create_contact(None, tenant, name="Jan Nowak", emails=["jan@example.com"])
    ticket = tickets.create_ticket(None, tenant, subject="Where is my order?", channel="chat", contact=contact.pk)
    base = timezone.make_aware(datetime(2026, 7, 1, 10, 0, 0), timezone.get_fixed_timezone(0))
    lines = [(None, "inbound", "Hello, where is my order <b>123</b>?"), (agent, "outbound", "Let me check."),
             (None, "inbound", "Thanks")]
    for n, (who, direction, text) in enumerate(lines):
        m = tickets.add_message(who, ticket, body=text, direction=direction, channel=Channel.CHAT,
                                author_contact=contact if who is None else None)
        Message.objects.filter(pk=m.pk).update(created_at=base + timedelta(seconds=30 * n))
    tickets.add_message(agent, ticket, body="Customer sounded upset", kind="note")
    client = Client()
    client.force_login(agent)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    block = page.split('class="chat-transcript"', 1)[1].split("</section>", 1)[0]
    assert block.count('<li class="chat-line') == 3
    assert block.count("from-customer") == 2 and block.count("from-agent") == 1
    assert "Jan Nowak" in block and "Anna Kowalska" in block
    assert "12:00:00" in block and "12:00:30" in block and "Europe/Warsaw" in block  # 10:00 UTC in Warsaw (CEST)
    assert "&lt;b&gt;123&lt;/b&gt;" in block and "<b>123</b>" not in block
    assert "Customer sounded upset" not in block and "Customer sounded upset" in page  # the note stays a note
    assert Task.objects.count() == 0
