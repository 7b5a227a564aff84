"""Forward to a department by real SMTP; its emailed reply comes back through ingestion as the client's reply."""

from __future__ import annotations

import hashlib

import pytest

from linia.core.errors import ActionError, NotFound
from linia.directory.models import DepartmentKind
from linia.dispatch import forwarding, outbox, tokens
from linia.dispatch.models import OutboundEmail
from linia.intake.email.actions import ingest_raw
from linia.tickets import actions
from linia.tickets.models import Event, Message, Status, Ticket
from tests import factories
from tests.dispatch_email.conftest import EmailDesk, make_desk
from tests.dispatch_email.mail import raw_mail
from tests.dispatch_email.smtp_capture import CaptureServer

PHOTO = bytes(range(256)) * 40


def _forwarded(desk: EmailDesk, smtp: CaptureServer) -> tuple[Ticket, object, object]:
    store = factories.store(desk.tenant, "W01", name="Spar Mokotów", region="Mazowieckie")
    dept = factories.department(desk.tenant, "REG-MAZ", name="Region Mazowsze", kind=DepartmentKind.REGIONAL,
                                region="Mazowieckie", email="mazowsze@spar-client.example")
    ticket = desk.email_ticket(body="Czajnik przecieka, zdjęcie w załączniku.",
                               attachments=(actions.NewAttachment("czajnik.jpg", PHOTO, "image/jpeg"),))
    actions.update_ticket(None, ticket, store=store)
    note = forwarding.forward_to_department(desk.agent, ticket, dept, "Prosimy o decyzję w sprawie zwrotu.")
    assert outbox.send_due() == {"sent": 1}
    (captured,) = smtp.take()
    return ticket, note, captured


def test_forward_emails_the_department_a_clear_summary_with_attachments(desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket, note, captured = _forwarded(desk, smtp)
    mail = captured.message
    ticket.refresh_from_db()
    assert captured.rcpt_tos == ["mazowsze@spar-client.example"]
    assert ticket.status == Status.PENDING_CLIENT and ticket.department.code == "REG-MAZ"
    assert note.kind == Message.Kind.NOTE and note.direction == Message.Direction.OUTBOUND  # type: ignore[attr-defined]
    assert mail["Message-ID"] == f"<{note.external_id.removeprefix('email:')}>"  # type: ignore[attr-defined]
    assert mail["Subject"].strip() == f"Fwd: Broken kettle [{ticket.reference}]"
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith("support+t-") and reply_to.endswith("@spar.example")
    assert tokens.resolve_reply_token(tokens.token_from_address(reply_to) or "") == (ticket.pk, ticket.department_id)
    text = mail.get_body(("plain",)).get_content()
    for expected in ("Prosimy o decyzję w sprawie zwrotu.", ticket.reference, "W01, Spar Mokotów",
                     "anna@customer.example", "Anna Nowak", "> Czajnik przecieka, zdjęcie w załączniku.",
                     "czajnik.jpg"):
        assert expected in text, expected
    assert " CET" in text or " CEST" in text  # times in the tenant's zone (Europe/Warsaw)
    assert "<th align=\"left\" style=\"color:#555\">Sklep</th>" in mail.get_body(("html",)).get_content()
    (part,) = mail.iter_attachments()
    assert part.get_filename() == "czajnik.jpg"
    assert hashlib.sha256(part.get_payload(decode=True)).hexdigest() == hashlib.sha256(PHOTO).hexdigest()
    event = Event.objects.get(ticket=ticket, kind="ticket.forwarded")
    assert event.data["department_id"] == ticket.department_id and event.actor == desk.agent


def test_department_reply_by_email_comes_back_as_the_clients_reply_and_reopens(
        desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket, _note, captured = _forwarded(desk, smtp)
    reply_to = captured.message["Reply-To"].addresses[0].addr_spec
    raw = raw_mail(sender="Region Mazowsze <mazowsze@spar-client.example>", to=reply_to,
                   subject=f"Re: {captured.message['Subject'].strip()}", body="Zgoda na zwrot.\n\n> cytat",
                   msgid="dept-1@spar-client.example", in_reply_to=captured.message["Message-ID"])
    result = ingest_raw(raw, recipients=[reply_to], source="smtp")
    assert (result.status, result.ticket_id) == ("appended", ticket.pk)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    reply = Message.objects.get(ticket=ticket, external_id="email:dept-1@spar-client.example")
    assert reply.kind == Message.Kind.NOTE and reply.direction == Message.Direction.INBOUND
    replied = Event.objects.get(ticket=ticket, kind="ticket.client_replied")
    assert replied.data == {"message_id": reply.pk, "department_id": ticket.department_id}
    assert Event.objects.filter(ticket=ticket, kind="ticket.status_changed", data__reason="client_reply").count() == 1
    assert not OutboundEmail.objects.filter(kind="ack", ticket=ticket).exists()  # nobody acknowledges a department
    # The same reply delivered twice changes nothing.
    assert ingest_raw(raw, recipients=[reply_to], source="smtp").status == "duplicate"
    assert Event.objects.filter(ticket=ticket, kind="ticket.client_replied").count() == 1


def test_on_department_reply_directly_is_idempotent(desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket, _note, _captured = _forwarded(desk, smtp)
    message = actions.add_message(None, ticket, body="OK from the portal", direction=Message.Direction.INBOUND)
    assert forwarding.on_department_reply(ticket, message) is True
    assert forwarding.on_department_reply(ticket, message) is False
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert Event.objects.get(ticket=ticket, kind="ticket.client_replied").data["department_id"] == ticket.department_id


def test_a_token_of_one_tenant_never_adds_to_another(desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket, _note, captured = _forwarded(desk, smtp)
    token = tokens.token_from_address(captured.message["Reply-To"].addresses[0].addr_spec) or ""
    other = make_desk("zabka", "ZAB", "help@zabka.example")
    assert tokens.resolve_reply_token(token, tenant_id=desk.tenant.pk) is not None
    assert tokens.resolve_reply_token(token, tenant_id=other.tenant.pk) is None
    forged = f"help+t-{token}@zabka.example"
    result = ingest_raw(raw_mail(sender="mazowsze@spar-client.example", to=forged, subject="Re: Fwd",
                                 body="Zgoda.", msgid="cross@spar-client.example"),
                        recipients=[forged], source="smtp")
    assert result.ticket_id != ticket.pk
    assert Ticket.objects.get(pk=result.ticket_id).tenant_id == other.tenant.pk
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_CLIENT
    assert not Message.objects.filter(ticket=ticket, external_id="email:cross@spar-client.example").exists()


def test_unknown_or_malformed_tokens_resolve_to_nothing(db: None) -> None:
    for token in ("", "t-", "abc", "a" * 20 + "!", "A" * 21, tokens.new_token()):
        assert tokens.resolve_reply_token(token) is None
    assert tokens.token_from_address("support@spar.example") is None
    assert len(tokens.new_token()) == 20 and tokens.TOKEN_RE.match(tokens.new_token())


def test_reply_address_falls_back_to_the_reply_domain_without_a_mailbox(db: None, smtp: CaptureServer) -> None:
    tenant = factories.tenant("nobox", ticket_prefix="NOB")
    ticket = actions.create_ticket(None, tenant, subject="x", channel="email", body="y")
    address = tokens.reply_address(ticket)
    assert address.startswith("nobox+t-") and address.endswith("@linia.test")
    assert tokens.reply_address(ticket) == address  # one token per ticket (and department)
    assert tokens.resolve_reply_token(tokens.token_from_address(address) or "") == (ticket.pk, None)


def test_department_for_prefers_the_ticket_then_the_stores_region_then_the_category(desk: EmailDesk) -> None:
    tenant = desk.tenant
    regional = factories.department(tenant, "R1", kind=DepartmentKind.REGIONAL, region="Pomorskie")
    factories.department(tenant, "R2", kind=DepartmentKind.REGIONAL, region="Śląskie")
    hr = factories.department(tenant, "HR", kind=DepartmentKind.HR)
    no_mail = factories.department(tenant, "NM", email="")
    ticket = desk.email_ticket()
    assert forwarding.department_for(ticket) is None
    ticket.category = factories.category(tenant, default_department=hr)
    assert forwarding.department_for(ticket) == hr
    ticket.store = factories.store(tenant, region="pomorskie")
    assert forwarding.department_for(ticket) == regional
    ticket.department = hr
    assert forwarding.department_for(ticket) == hr
    ticket.department = no_mail
    assert forwarding.department_for(ticket) == regional


def test_forward_refuses_other_tenants_departments_missing_email_and_closed_tickets(
        desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket = desk.email_ticket()
    other = factories.department(factories.tenant("other", ticket_prefix="OTH"), "X")
    with pytest.raises(NotFound):
        forwarding.forward_to_department(desk.agent, ticket, other, "")
    with pytest.raises(ActionError) as err:
        forwarding.forward_to_department(desk.agent, ticket, factories.department(desk.tenant, "NE", email=""), "")
    assert err.value.code == "department_no_email"
    actions.change_status(None, ticket, Status.CLOSED)
    with pytest.raises(ActionError):
        forwarding.forward_to_department(desk.agent, ticket, factories.department(desk.tenant, "OK"), "")
    outsider = factories.user(tenant=factories.tenant("out", ticket_prefix="OUT"))
    from linia.core.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        forwarding.forward_to_department(outsider, ticket, factories.department(desk.tenant, "OK2"), "")
    assert not OutboundEmail.objects.exists()


def test_a_departments_out_of_office_does_not_reopen(desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket, _note, captured = _forwarded(desk, smtp)
    assert captured.message["Auto-Submitted"] == "auto-generated"  # polite responders stay quiet
    reply_to = captured.message["Reply-To"].addresses[0].addr_spec
    result = ingest_raw(raw_mail(sender="mazowsze@spar-client.example", to=reply_to, subject="Out of office",
                                 body="I am on leave until Monday.", msgid="ooo@spar-client.example",
                                 headers={"Auto-Submitted": "auto-replied"}),
                        recipients=[reply_to], source="smtp")
    assert result.ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_CLIENT
    assert not Event.objects.filter(ticket=ticket, kind="ticket.client_replied").exists()
