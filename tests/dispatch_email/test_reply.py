"""An agent's reply goes out by real SMTP from the outbox: threading headers, signature, attachments, retries."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from linia.core.errors import ActionError
from linia.dispatch import outbound, outbox, tokens
from linia.dispatch.models import OutboundEmail
from linia.tickets import actions
from linia.tickets.models import Channel, Event, Message, Ticket
from tests.dispatch_email.conftest import EmailDesk
from tests.dispatch_email.smtp_capture import CaptureServer

BINARY = bytes(range(256)) * 300  # every byte value, 75 KB
TEXT = "Zażółć gęślą jaźń\nline two\n\nno final newline".encode()
FILES = (actions.NewAttachment("photo.jpg", BINARY, "image/jpeg"),
         actions.NewAttachment("notes.txt", TEXT, "text/plain"),
         actions.NewAttachment("faktura zażółć.pdf", b"%PDF-1.4\n" + BINARY[:999], "application/pdf"))


def _attachments(message) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {part.get_filename(): hashlib.sha256(part.get_payload(decode=True)).hexdigest()
            for part in message.iter_attachments()}


def test_agent_reply_threads_signs_and_carries_attachments_intact(desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket = desk.email_ticket()
    actions.add_message(None, ticket, body="Any news?", direction=Message.Direction.INBOUND,
                        channel=Channel.EMAIL, external_id="email:second@customer.example")
    reply = outbound.send_reply(desk.agent, ticket, body="Dzień dobry,\n\nwymienimy czajnik.", attachments=FILES)

    assert outbox.send_due() == {"sent": 1}
    (captured,) = smtp.take()
    mail = captured.message
    msgid = reply.external_id.removeprefix("email:")
    assert reply.external_id.startswith("email:") and msgid.endswith("@spar.example")
    assert mail["Message-ID"] == f"<{msgid}>"
    assert mail["In-Reply-To"] == "<second@customer.example>"
    assert mail["References"].split() == ["<first@customer.example>", "<second@customer.example>"]
    assert mail["Subject"] == f"Re: Broken kettle [{ticket.reference}]"
    assert mail["From"].addresses[0].addr_spec == "support@spar.example"
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to == tokens.reply_address(ticket)
    assert tokens.resolve_reply_token(tokens.token_from_address(reply_to) or "") == (ticket.pk, None)
    assert captured.rcpt_tos == ["anna@customer.example"]
    assert mail["Auto-Submitted"] is None
    plain = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(("html",)).get_content()
    assert "wymienimy czajnik." in plain and "\n-- \nPozdrawiamy,\nZespół Spar" in plain
    assert "Zespół Spar" in html and "<p>Dzień dobry,</p>" in html
    assert _attachments(mail) == {f.filename: hashlib.sha256(f.data).hexdigest() for f in FILES}

    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    row = OutboundEmail.objects.get(message=reply)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    assert outbox.send_due(timezone.now() + timedelta(days=1)) == {}
    assert smtp.take() == []


def test_smtp_down_is_retried_with_backoff_visible_on_the_ticket_then_sent_once(
        desk: EmailDesk, smtp: CaptureServer, client) -> None:  # type: ignore[no-untyped-def]
    ticket = desk.email_ticket()
    smtp.stop()
    outbound.send_reply(desk.agent, ticket, body="We are on it.")
    start = timezone.now()
    assert outbox.send_due() == {"failed": 1}
    row = OutboundEmail.objects.get(ticket=ticket)
    assert row.attempts == 1 and row.last_error
    assert timedelta(seconds=55) < row.next_attempt_at - start < timedelta(seconds=65)
    failed = Event.objects.get(ticket=ticket, kind="email.failed")
    assert failed.data["attempts"] == 1 and failed.data["next_attempt_at"]
    assert outbound.failing_emails(ticket) == [row]

    client.force_login(desk.agent)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "email-failures" in page and "anna@customer.example" in page

    assert outbox.send_due() == {}  # not due yet
    assert outbox.send_due(start + timedelta(seconds=61)) == {"failed": 1}
    row.refresh_from_db()
    assert row.attempts == 2
    assert timedelta(seconds=115) < row.next_attempt_at - start - timedelta(seconds=61) < timedelta(seconds=125)

    smtp.start()
    assert outbox.send_due(start + timedelta(minutes=10)) == {"sent": 1}
    assert outbox.send_due(start + timedelta(hours=5)) == {}
    (captured,) = smtp.take()
    assert captured.message["Subject"].endswith(f"[{ticket.reference}]")
    assert outbound.failing_emails(ticket) == []
    assert "email-failures" not in client.get(f"/tickets/{ticket.pk}/").content.decode()


def test_gives_up_after_max_attempts_stays_visible_and_an_agent_retries(desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket = desk.email_ticket()
    smtp.stop()
    outbound.send_reply(desk.agent, ticket, body="Hello")
    later = timezone.now()
    statuses = []
    for _ in range(4):  # LINIA_EMAIL_MAX_ATTEMPTS=4 in the fixture
        later += timedelta(hours=2)
        statuses.append(next(iter(outbox.send_due(later))))
    assert statuses == ["failed", "failed", "failed", "dead"]
    assert outbox.send_due(later + timedelta(days=30)) == {}  # dead rows wait for a person
    row = OutboundEmail.objects.get(ticket=ticket)
    assert Event.objects.filter(ticket=ticket, kind="email.dead").count() == 1
    assert outbound.failing_emails(ticket) == [row]

    smtp.start()
    outbound.retry_outbound(desk.agent, ticket, row.pk)
    assert outbox.send_due() == {"sent": 1}
    assert len(smtp.take()) == 1
    with pytest.raises(ActionError):
        outbound.retry_outbound(desk.agent, ticket, row.pk)


def test_a_claimed_row_is_not_sent_by_another_worker_until_its_lease_expires(
        desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket = desk.email_ticket()
    outbound.send_reply(desk.agent, ticket, body="Hello")
    row = OutboundEmail.objects.get(ticket=ticket)
    assert outbox.claim(row.pk) is not None  # worker 1 took it and then died
    assert outbox.claim(row.pk) is None
    assert outbox.send_due() == {}
    assert smtp.take() == []
    assert outbox.send_due(timezone.now() + timedelta(seconds=301)) == {"sent": 1}
    assert len(smtp.take()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_in_parallel_send_every_email_exactly_once(smtp: CaptureServer) -> None:
    from tests.dispatch_email.conftest import make_desk

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("shared-cache in-memory SQLite locks tables without waiting; runs on PostgreSQL and file SQLite")
    desk = make_desk("par", "PAR", "help@par.example")
    for n in range(12):
        ticket = desk.email_ticket(sender=f"c{n}@customer.example", msgid=f"m{n}@customer.example")
        outbound.send_reply(desk.agent, ticket, body=f"Reply {n}")
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            outbox.send_due()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    captured = smtp.take()
    assert sorted(c.rcpt_tos[0] for c in captured) == sorted(f"c{n}@customer.example" for n in range(12))
    assert set(OutboundEmail.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_reply_needs_a_customer_address(desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket = actions.create_ticket(None, desk.tenant, subject="No address", channel=Channel.EMAIL, body="x")
    with pytest.raises(ActionError) as err:
        outbound.send_reply(desk.agent, ticket, body="Hello")
    assert err.value.code == "no_recipient"
    assert not Message.objects.filter(ticket=ticket, direction="outbound").exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_reply_is_sent_at_once_through_the_huey_task(smtp: CaptureServer) -> None:
    from huey.contrib.djhuey import HUEY

    from tests.dispatch_email.conftest import make_desk

    desk = make_desk("hq", "HQ", "help@hq.example")
    ticket = desk.email_ticket()
    HUEY.immediate = True
    try:
        outbound.send_reply(desk.agent, ticket, body="Sent by the worker")  # on commit: the Huey task sends it
    finally:
        HUEY.immediate = False
    (captured,) = smtp.take()
    assert "Sent by the worker" in captured.message.get_body(("plain",)).get_content()
    assert OutboundEmail.objects.get().status == "sent"


def test_round_trip_customer_mail_agent_reply_and_the_customers_answer(desk: EmailDesk, smtp: CaptureServer) -> None:
    from linia.intake.email.actions import ingest_raw
    from tests.dispatch_email.mail import raw_mail

    first = ingest_raw(raw_mail(sender="Ola <Ola@Customer.example>", to=desk.mailbox_address,
                                subject="=?utf-8?q?Hi=0D=0ABcc:_evil@attacker.example?=", body="Where is my order?",
                                msgid="ola-1@customer.example"), recipients=[desk.mailbox_address], source="smtp")
    ticket = Ticket.objects.get(pk=first.ticket_id)
    outbound.send_reply(desk.agent, ticket, body="It ships today.")
    assert outbox.send_due() == {"sent": 2}  # the acknowledgement and the reply
    mails = {c.message["Message-ID"]: c for c in smtp.take()}
    reply = next(c for c in mails.values() if c.message["Auto-Submitted"] is None)
    assert reply.rcpt_tos == ["ola@customer.example"]  # nobody else (no injected Bcc)
    assert reply.message["In-Reply-To"] == "<ola-1@customer.example>"
    assert reply.message["Bcc"] is None
    assert reply.message["Subject"].strip().startswith("Re: Hi")
    assert reply.message["Subject"].strip().endswith(f"[{ticket.reference}]")

    answer = ingest_raw(raw_mail(sender="ola@customer.example", to=reply.message["Reply-To"], subject="new subject",
                                 body="Thanks!", msgid="ola-2@customer.example"),
                        recipients=[str(reply.message["Reply-To"])], source="smtp")
    assert (answer.status, answer.ticket_id) == ("appended", ticket.pk)


def test_a_permanently_refused_recipient_is_dead_at_once_and_shown(desk: EmailDesk, smtp: CaptureServer) -> None:
    smtp.refused.add("anna@customer.example")
    ticket = desk.email_ticket()
    outbound.send_reply(desk.agent, ticket, body="Hello")
    assert outbox.send_due() == {"dead": 1}
    row = OutboundEmail.objects.get(ticket=ticket)
    assert row.attempts == 1 and "550" in row.last_error
    assert outbound.failing_emails(ticket) == [row]
    assert smtp.take() == []
    assert ticket.contact.identities.get().is_failing  # the desk shows the address as failing
