"""ingest_raw on the test database: tickets, threading, duplicates, tenants, automatic mail and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from linia.intake.email import actions
from linia.intake.email.models import InboundEmail, Mailbox
from linia.tickets.models import Attachment, Contact, ContactIdentity, Event, Message, Status, Ticket
from tests import factories as f
from tests.email_ingest.conftest import mail, msgid_of

pytestmark = pytest.mark.django_db

TO = ["support@shop.example"]


def ingest(raw: bytes, recipients: list[str] | None = None) -> actions.IngestResult:
    return actions.ingest_raw(raw, recipients=TO if recipients is None else recipients, source="smtp")


def test_new_message_makes_a_ticket_with_contact_raw_copy_and_events(mailbox: Mailbox) -> None:
    raw = mail(html="<p>Hello, <b>my order</b><script>alert(1)</script></p>")
    result = ingest(raw)
    assert result.status == "created"
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.channel == "email" and ticket.subject == "Where is my order?"
    assert ticket.tenant_id == mailbox.tenant_id
    message = ticket.messages.get()
    assert message.external_id == "email:" + msgid_of(raw)
    assert message.direction == "inbound" and message.channel == "email"
    assert "my order has not arrived" in message.body_text
    assert "<b>my order</b>" in message.body_html and "script" not in message.body_html
    contact = ticket.contact
    assert contact is not None and contact.name == "Anna Kowalska"
    assert contact.identities.get().value == "anna@client.example"
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert row.status == "processed" and row.ticket_id == ticket.pk and row.message_id == message.pk
    assert row.raw.name.startswith(f"email/raw/{mailbox.tenant_id}/") and row.raw.name.endswith(".eml")
    with row.raw.open("rb") as fh:
        assert fh.read() == raw  # the full original, byte for byte
    kinds = list(Event.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert "ticket.created" in kinds and "message.created" in kinds and "email.received" in kinds
    assert message.interaction is not None and message.interaction.channel == "email"


def test_reply_threads_by_in_reply_to_references_and_subject(mailbox: Mailbox) -> None:
    first = mail()
    ticket = Ticket.objects.get(pk=ingest(first).ticket_id)
    by_irt = ingest(mail(subject="Re: Where is my order?", in_reply_to=msgid_of(first)))
    assert by_irt.status == "appended" and by_irt.ticket_id == ticket.pk
    second_id = ticket.messages.order_by("-id").first().external_id.removeprefix("email:")  # type: ignore[union-attr]
    by_refs = ingest(mail(subject="again", references=f"<unknown@x> <{msgid_of(first)}> <{second_id}>"))
    assert by_refs.ticket_id == ticket.pk
    by_subject = ingest(mail(subject=f"Re: [{ticket.reference}] still waiting", sender="other@client.example"))
    assert by_subject.status == "appended" and by_subject.ticket_id == ticket.pk
    assert ticket.messages.count() == 4
    fresh = ingest(mail(subject="A new question"))
    assert fresh.status == "created" and fresh.ticket_id != ticket.pk


def test_reply_to_an_outbound_message_threads(mailbox: Mailbox) -> None:
    from linia.tickets import actions as tickets

    ticket = Ticket.objects.get(pk=ingest(mail()).ticket_id)
    tickets.add_message(None, ticket, body="We are checking.", direction="outbound",
                        external_id="email:agent-reply-1@shop.example")
    result = ingest(mail(subject="Re: checking", in_reply_to="agent-reply-1@shop.example"))
    assert result.ticket_id == ticket.pk


def test_reply_token_threads_and_a_department_reply_is_the_clients(mailbox: Mailbox) -> None:
    tokens = pytest.importorskip("linia.dispatch.tokens")
    ticket = Ticket.objects.get(pk=ingest(mail()).ticket_id)
    to_ticket = tokens.reply_address(ticket)
    assert to_ticket.startswith("support+t-")
    result = ingest(mail(subject="no reference here", to=to_ticket), [to_ticket])
    assert result.status == "appended" and result.ticket_id == ticket.pk
    department = f.department(mailbox.tenant)
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.PENDING_CLIENT)
    to_department = tokens.reply_address(ticket, department)
    answer = ingest(mail(subject="Re: forwarded", sender=department.email, to=to_department), [to_department])
    assert answer.ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN  # the client answered
    reply = Message.objects.get(pk=InboundEmail.objects.get(pk=answer.inbound_id).message_id)
    assert reply.author_contact is None  # the department is not made a customer contact
    assert not ContactIdentity.objects.filter(value=department.email).exists()


def test_another_tenants_reference_or_message_id_never_threads(mailbox: Mailbox) -> None:
    other = f.tenant()
    Mailbox.objects.create(tenant=other, address="help@other.example")
    theirs = mail(to="help@other.example")
    their_ticket = Ticket.objects.get(pk=ingest(theirs, ["help@other.example"]).ticket_id)
    assert their_ticket.tenant_id == other.pk
    by_subject = ingest(mail(subject=f"Re: [{their_ticket.reference}] hello"))
    by_irt = ingest(mail(subject="Re: hello", in_reply_to=msgid_of(theirs)))
    for result in (by_subject, by_irt):
        assert result.status == "created"
        ticket = Ticket.objects.get(pk=result.ticket_id)
        assert ticket.tenant_id == mailbox.tenant_id and ticket.pk != their_ticket.pk
    assert their_ticket.messages.count() == 1


def test_same_message_twice_is_one_message(mailbox: Mailbox) -> None:
    raw = mail()
    first, second = ingest(raw), ingest(raw)
    assert (first.status, second.status) == ("created", "duplicate")
    assert second.ticket_id == first.ticket_id
    assert Message.objects.filter(external_id="email:" + msgid_of(raw)).count() == 1
    assert InboundEmail.objects.count() == 1
    # A redelivery with other trace headers but the same Message-ID is the same message.
    assert ingest(b"Received: from mx2 by mx1\r\n" + raw).status == "duplicate"
    assert Ticket.objects.count() == 1


def test_without_message_id_the_content_hash_dedupes(mailbox: Mailbox) -> None:
    raw = mail(message_id=None)
    assert ingest(raw).status == "created"
    assert ingest(raw).status == "duplicate"
    assert ingest(mail(message_id=None, body="different text")).status == "created"
    row = InboundEmail.objects.order_by("id").first()
    assert row is not None and row.dedupe_key and row.dedupe_key.startswith("sha256:")


def test_several_tenants_each_get_their_ticket(mailbox: Mailbox) -> None:
    other = f.tenant()
    Mailbox.objects.create(tenant=other, address="help@other.example")
    raw = mail(to="support@shop.example, help@other.example")
    ingest(raw, ["support@shop.example", "help@other.example"])
    assert sorted(Ticket.objects.values_list("tenant_id", flat=True)) == sorted([mailbox.tenant_id, other.pk])


def test_unknown_recipient_and_inactive_mailbox_are_rejected(mailbox: Mailbox) -> None:
    result = ingest(mail(to="nobody@shop.example"), ["nobody@shop.example"])
    assert result.status == "rejected" and result.reason == "unknown_recipient"
    Mailbox.objects.filter(pk=mailbox.pk).update(is_active=False)
    assert ingest(mail()).reason == "unknown_recipient"
    assert not actions.recipient_known("support@shop.example")
    assert Ticket.objects.count() == 0
    assert set(InboundEmail.objects.values_list("status", flat=True)) == {"rejected"}


def test_plus_addresses_and_case_reach_the_mailbox(mailbox: Mailbox) -> None:
    assert actions.recipient_known("Support+anything@Shop.Example")
    assert ingest(mail(), ["SUPPORT@shop.example"]).status == "created"


def test_pipe_delivery_without_recipient_uses_the_headers(mailbox: Mailbox) -> None:
    result = actions.ingest_raw(mail(to="Support <support@shop.example>"), recipients=[], source="pipe")
    assert result.status == "created"


@override_settings(EMAIL_MAX_BYTES=10_000)
def test_oversized_message_is_rejected_with_a_reason(mailbox: Mailbox) -> None:
    result = ingest(mail(attachments=(("big.bin", "application/octet-stream", b"x" * 20_000),)))
    assert result.status == "rejected" and result.reason == "too_large"
    assert "exceeds the limit of 10000 bytes" in result.message
    assert Ticket.objects.count() == 0
    row = InboundEmail.objects.get()
    assert row.status == "rejected" and not row.raw  # not kept


@pytest.mark.parametrize("garbage", [b"", b"\x00\x01\x02\xff" * 50, b"\x89PNG\r\n\x1a\n" + bytes(range(256))])
def test_binary_garbage_is_rejected(mailbox: Mailbox, garbage: bytes) -> None:
    result = ingest(garbage)
    assert result.status == "rejected" and result.reason == "not_an_email"
    assert Ticket.objects.count() == 0


def test_missing_from_is_kept_as_a_ticket_without_contact(mailbox: Mailbox) -> None:
    result = ingest(mail(sender=None))
    assert result.status == "created"
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.contact is None and ticket.messages.count() == 1
    assert Contact.objects.count() == 0


def test_header_injection_in_subject_and_name_stays_one_line(mailbox: Mailbox) -> None:
    raw = (b"From: =?utf-8?q?Eve=0D=0ABcc=3A_victim=40x=2Eexample?= <eve@client.example>\r\n"
           b"To: support@shop.example\r\nSubject: =?utf-8?q?hi=0D=0ABcc=3A_victim=40x=2Eexample?=\r\n"
           b"Message-ID: <inj@client.example>\r\n\r\nbody\r\n")
    ticket = Ticket.objects.get(pk=ingest(raw).ticket_id)
    assert "\n" not in ticket.subject and "\r" not in ticket.subject
    assert ticket.contact is not None and "\n" not in ticket.contact.name


def test_attachments_are_kept_dangerous_types_only_download(mailbox: Mailbox) -> None:
    raw = mail(attachments=(("invoice.pdf", "application/pdf", b"%PDF-1.4 test"),
                            ("page.html", "text/html", b"<script>alert(1)</script>"),
                            ("setup.exe", "application/x-msdownload", b"MZ\x90\x00"),
                            ("image.svg", "image/svg+xml", b"<svg onload='alert(1)'/>"),
                            ("../../etc/passwd", "text/plain", b"root")))
    ticket = Ticket.objects.get(pk=ingest(raw).ticket_id)
    stored = {a.filename: a for a in Attachment.objects.filter(message__ticket=ticket)}
    assert set(stored) == {"invoice.pdf", "page.html", "setup.exe", "image.svg", "passwd"}
    assert stored["invoice.pdf"].content_type == "application/pdf"
    for name in ("page.html", "setup.exe", "image.svg"):
        assert stored[name].content_type == "application/octet-stream"
    with stored["setup.exe"].file.open("rb") as fh:
        assert fh.read() == b"MZ\x90\x00"


def test_attachment_download_is_never_inline(mailbox: Mailbox, client: Any) -> None:
    from django.urls import reverse

    from linia.core.models import Role

    raw = mail(attachments=(("page.html", "text/html", b"<script>alert(1)</script>"),))
    ticket = Ticket.objects.get(pk=ingest(raw).ticket_id)
    attachment = Attachment.objects.get(message__ticket=ticket)
    agent = f.user(tenant=mailbox.tenant, role=Role.SUPERVISOR)
    client.force_login(agent)
    url = reverse("desk:attachment", kwargs={"pk": ticket.pk, "attachment_id": attachment.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_auto_reply_is_stored_never_routed_never_reopens(mailbox: Mailbox, email_queue: Any) -> None:
    from linia.routing.models import Task

    first = mail()
    ticket = Ticket.objects.get(pk=ingest(first).ticket_id)
    assert Task.objects.filter(ticket=ticket, channel="email").count() == 1
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.PENDING_CUSTOMER)
    ooo = mail(subject="Out of office", in_reply_to=msgid_of(first),
               headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"})
    result = ingest(ooo)
    assert result.status == "appended" and result.ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_CUSTOMER
    alone = ingest(mail(subject="Automatic reply: away", headers={"Auto-Submitted": "auto-replied"}))
    auto_ticket = Ticket.objects.get(pk=alone.ticket_id)
    assert list(auto_ticket.tags.values_list("name", flat=True)) == ["auto"]
    assert not Task.objects.filter(ticket=auto_ticket).exists()
    assert InboundEmail.objects.get(pk=alone.inbound_id).is_auto


def test_acknowledgement_for_new_tickets_only_and_never_for_auto_mail(mailbox: Mailbox) -> None:
    models = pytest.importorskip("linia.dispatch.models")
    first = mail()
    ingest(first)
    ingest(mail(subject="Re:", in_reply_to=msgid_of(first)))
    ingest(mail(subject="Away", sender="bob@client.example", headers={"Auto-Submitted": "auto-replied"}))
    acks = models.OutboundEmail.objects.filter(kind="ack")
    assert [a.recipient for a in acks] == ["anna@client.example"]


def test_bounce_marks_the_address_failing(mailbox: Mailbox) -> None:
    from linia.tickets import actions as tickets

    contact = tickets.find_or_create_contact(None, mailbox.tenant, name="Jan", emails=["jan@client.example"])
    bounce = (b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.shop.example>\r\n"
              b"To: support@shop.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
              b"Message-ID: <bounce1@mx.shop.example>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
              b"--B\r\nContent-Type: text/plain\r\n\r\nDelivery to jan@client.example failed.\r\n"
              b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.shop.example\r\n\r\n"
              b"Final-Recipient: rfc822; jan@client.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
              b"--B--\r\n")
    result = ingest(bounce)
    assert result.status in ("created", "appended")
    identity = ContactIdentity.objects.get(contact=contact)
    assert identity.is_failing
    assert not ContactIdentity.objects.filter(value__icontains="mailer-daemon").exists()


def test_reply_to_a_closed_ticket_opens_a_follow_up(mailbox: Mailbox) -> None:
    first = mail()
    ticket = Ticket.objects.get(pk=ingest(first).ticket_id)
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    result = ingest(mail(subject="Re: again", in_reply_to=msgid_of(first)))
    assert result.status == "created" and result.ticket_id != ticket.pk
    event = Event.objects.get(kind="email.received", ticket_id=result.ticket_id)
    assert event.data["follow_up_of"] == ticket.reference


def test_new_email_ticket_gets_a_routing_task(mailbox: Mailbox, email_queue: Any) -> None:
    from linia.routing.models import Task

    result = ingest(mail())
    task = Task.objects.get(ticket_id=result.ticket_id)
    assert task.channel == "email" and task.queue_id == email_queue.pk and task.status == "queued"
    assert task.interaction is not None and task.interaction.ticket_id == result.ticket_id


def test_crash_between_the_steps_is_finished_by_reprocess(mailbox: Mailbox) -> None:
    from linia.intake.email.parse import parse_message

    raw = mail()
    row, created = actions._store(raw, "0" * 64, msgid_of(raw), tenant=mailbox.tenant, mailbox=mailbox,
                                  recipients=TO, source="smtp", parsed=parse_message(raw))
    assert created and row.status == "stored" and Ticket.objects.count() == 0  # the process died here
    assert ingest(raw).status == "duplicate"  # the sender's retry finishes it
    assert Message.objects.count() == 1
    raw2 = mail()
    actions._store(raw2, "1" * 64, msgid_of(raw2), tenant=mailbox.tenant, mailbox=mailbox, recipients=TO,
                   source="smtp", parsed=parse_message(raw2))
    results = actions.reprocess_stored()
    assert [r.status for r in results] == ["created"]
    assert actions.reprocess_stored() == []
    assert Message.objects.count() == 2


def test_a_processing_error_keeps_the_message_and_is_retried(mailbox: Mailbox, monkeypatch: Any) -> None:
    raw = mail()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(actions, "_deliver", broken)
    result = ingest(raw)
    assert result.status == "failed" and result.accepted
    row = InboundEmail.objects.get()
    assert row.status == "failed" and "database hiccup" in row.error and row.attempts == 1
    other = mail()
    assert ingest(other).status == "failed"
    monkeypatch.undo()
    assert ingest(raw).status == "duplicate"  # the sender's redelivery retries it
    row.refresh_from_db()
    assert row.status == "processed" and row.error == "" and row.message is not None
    assert actions.reprocess_stored() == []  # failed ones only on request
    assert [r.status for r in actions.reprocess_stored(include_failed=True)] == ["created"]
    assert Message.objects.count() == 2


def test_a_reply_token_of_another_tenant_does_not_thread(mailbox: Mailbox) -> None:
    tokens = pytest.importorskip("linia.dispatch.tokens")
    other = f.tenant()
    Mailbox.objects.create(tenant=other, address="help@other.example")
    their_ticket = Ticket.objects.get(pk=ingest(mail(to="help@other.example"), ["help@other.example"]).ticket_id)
    token = tokens.token_for(their_ticket)
    to = f"support+t-{token}@shop.example"  # their token, our mailbox
    result = ingest(mail(subject="hello", to=to), [to])
    assert result.status == "created" and result.ticket_id != their_ticket.pk
    assert Ticket.objects.get(pk=result.ticket_id).tenant_id == mailbox.tenant_id


def test_a_department_answering_a_forward_by_plain_reply_is_the_clients_answer(mailbox: Mailbox) -> None:
    pytest.importorskip("linia.dispatch.forwarding")
    from linia.tickets import actions as tickets

    ticket = Ticket.objects.get(pk=ingest(mail()).ticket_id)
    department = f.department(mailbox.tenant, email="stores@client.example")
    tickets.add_message(None, ticket, body="Please check the delivery.", kind=Message.Kind.NOTE,
                        direction=Message.Direction.OUTBOUND, external_id="email:fwd-1@shop.example")
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.PENDING_CLIENT)
    result = ingest(mail(subject="Re: forward", sender="Stores <stores@client.example>",
                         in_reply_to="fwd-1@shop.example"))
    assert result.ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    event = Event.objects.get(kind="email.received", ticket=ticket, data__inbound_id=result.inbound_id)
    assert event.data["department_id"] == department.pk
    assert Event.objects.filter(kind="ticket.client_replied", ticket=ticket).exists()


def test_nul_bytes_and_broken_bytes_are_stored_cleanly(mailbox: Mailbox) -> None:
    raw = (b"From: =?utf-8?b?QW5uYQBY?= <anna@client.example>\r\nTo: support@shop.example\r\n"
           b"Subject: =?utf-8?q?nul=00_here?= \xff\xfe\r\nMessage-ID: <nul@client.example>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nHello\x00 world \xed\xa0\x80 end\r\n")
    result = ingest(raw)
    assert result.status == "created", result
    message = Ticket.objects.get(pk=result.ticket_id).messages.get()
    assert "\x00" not in message.body_text and "Hello" in message.body_text
    ticket = message.ticket
    assert "\x00" not in ticket.subject and ticket.contact is not None and "\x00" not in ticket.contact.name


def test_a_very_long_message_id_still_threads(mailbox: Mailbox) -> None:
    long_id = "x" * 400 + "@client.example"
    first = ingest(mail(message_id=long_id))
    reply_raw = (f"From: anna@client.example\r\nTo: support@shop.example\r\nSubject: Re: more\r\n"
                 f"Message-ID: <r1@client.example>\r\nIn-Reply-To: <{long_id}>\r\n\r\nmore\r\n").encode()
    reply = ingest(reply_raw)
    assert reply.status == "appended" and reply.ticket_id == first.ticket_id
    assert ingest(mail(message_id=long_id)).status == "duplicate"


def test_the_mails_language_is_a_routing_requirement_only_where_the_queue_works_in_it(
        mailbox: Mailbox, email_queue: Any) -> None:
    """Otherwise a Polish mail to a queue whose agents list no languages would wait for nobody."""
    from linia.routing.models import Task

    mailbox.language = "pl"
    mailbox.save()
    first = Ticket.objects.get(pk=ingest(mail(subject="Reklamacja")).ticket_id)
    assert first.language == "pl"
    assert Task.objects.get(ticket=first, channel="email").language == ""
    email_queue.languages = ["pl", "en"]
    email_queue.save()
    second = Ticket.objects.get(pk=ingest(mail(subject="Zwrot")).ticket_id)
    assert Task.objects.get(ticket=second, channel="email").language == "pl"
