"""The outbox admin: scoped to the user's tenants and tickets, read-only, never deletes, retries."""

from __future__ import annotations

from django.test import Client

from linia.core.models import Role
from linia.dispatch import outbound, outbox
from linia.dispatch.models import OutboundEmail
from tests import factories
from tests.dispatch_email.conftest import EmailDesk, make_desk
from tests.dispatch_email.smtp_capture import CaptureServer

LIST = "/admin/dispatch/outboundemail/"


def _staff(desk: EmailDesk) -> Client:
    user = factories.user(tenant=desk.tenant, role=Role.CLIENT_STAFF)
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_staff_see_their_tenants_emails_only_and_can_retry_a_dead_one(desk: EmailDesk, smtp: CaptureServer) -> None:
    other = make_desk("other", "OTH", "help@other.example")
    smtp.refused.add("anna@customer.example")
    mine = desk.email_ticket()
    outbound.send_reply(desk.agent, mine, body="mine")
    theirs = other.email_ticket(sender="bob@customer.example")
    outbound.send_reply(other.agent, theirs, body="theirs")
    outbox.send_due()
    smtp.take()
    client = _staff(desk)
    page = client.get(LIST).content.decode()
    assert "anna@customer.example" in page and "bob@customer.example" not in page
    row = OutboundEmail.objects.get(ticket=mine)
    assert row.status == "dead"
    assert client.get(f"{LIST}{OutboundEmail.objects.get(ticket=theirs).pk}/change/").status_code in (302, 404)
    assert client.post(f"{LIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403

    smtp.refused.clear()
    response = client.post(LIST, {"action": "retry_now", "_selected_action": [row.pk]})
    assert response.status_code == 302
    assert outbox.send_due() == {"sent": 1}
    assert [c.rcpt_tos for c in smtp.take()] == [["anna@customer.example"]]
