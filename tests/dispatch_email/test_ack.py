"""The acknowledgement of a new email ticket: template per tenant and language, never to automatic mail,
rate-limited per sender, threaded on the customer's message, marked Auto-Submitted."""

from __future__ import annotations

import pytest

from linia.dispatch import outbound, outbox
from linia.dispatch.models import OutboundEmail
from linia.intake.email.actions import ingest_raw
from linia.tickets.models import Event, Ticket
from tests import factories
from tests.dispatch_email.conftest import EmailDesk
from tests.dispatch_email.mail import raw_mail
from tests.dispatch_email.smtp_capture import CaptureServer


def test_acknowledgement_carries_the_reference_and_is_auto_submitted(desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket = desk.email_ticket()
    row = outbound.acknowledge_new_ticket(ticket, desk.first_message(ticket), False)
    assert row is not None
    assert outbox.send_due() == {"sent": 1}
    (captured,) = smtp.take()
    mail = captured.message
    assert captured.rcpt_tos == ["anna@customer.example"]
    assert mail["Subject"].strip() == f"Otrzymaliśmy Twoją wiadomość: Broken kettle [{ticket.reference}]"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["In-Reply-To"] == "<first@customer.example>"
    text = mail.get_body(("plain",)).get_content()
    assert f"zgłoszenie {ticket.reference}" in text and "Dzień dobry Anna Nowak" in text
    assert "Zespół Spar" in text
    assert outbound.ticket_for_msgid(desk.tenant.pk, row.msgid) == ticket.pk


def test_tenant_template_per_language_with_placeholders(db: None, smtp: CaptureServer) -> None:
    from tests.dispatch_email.conftest import make_desk

    desk = make_desk("lenta", "LEN", "help@lenta.example", email_ack={"templates": {
        "ru": {"subject": "Заявка {reference} принята", "body": "{name}, ваша заявка {reference} ({subject}) {x}"}}})
    ticket = desk.email_ticket(language="ru", subject="Сломался чайник")
    outbound.acknowledge_new_ticket(ticket, desk.first_message(ticket), False)
    english = desk.email_ticket(language="en", sender="john@customer.example", msgid="en@customer.example")
    outbound.acknowledge_new_ticket(english, desk.first_message(english), False)
    outbox.send_due()
    by_rcpt = {c.rcpt_tos[0]: c.message for c in smtp.take()}
    ru = by_rcpt["anna@customer.example"]
    assert ru["Subject"].strip() == f"Заявка {ticket.reference} принята [{ticket.reference}]"
    assert f"Anna Nowak, ваша заявка {ticket.reference} (Сломался чайник) {{x}}" in ru.get_body(("plain",)).get_content()
    assert by_rcpt["john@customer.example"]["Subject"].strip() == f"We received your message: Broken kettle [{english.reference}]"


def test_no_acknowledgement_for_automatic_mail_own_addresses_or_when_disabled(desk: EmailDesk, smtp: CaptureServer) -> None:
    ticket = desk.email_ticket()
    assert outbound.acknowledge_new_ticket(ticket, desk.first_message(ticket), True) is None
    factories.department(desk.tenant, email="hr@client.example")
    assert outbound.acknowledge_new_ticket(ticket, None, False, to="hr@client.example") is None
    assert outbound.acknowledge_new_ticket(ticket, None, False, to="support@spar.example") is None
    desk.tenant.settings = {"email_ack": {"enabled": False}}
    desk.tenant.save()
    assert outbound.acknowledge_new_ticket(ticket, None, False) is None
    assert not OutboundEmail.objects.exists()


def test_at_most_three_acknowledgements_per_sender_and_hour(desk: EmailDesk, smtp: CaptureServer) -> None:
    sent = []
    for n in range(5):
        ticket = desk.email_ticket(msgid=f"m{n}@customer.example")
        sent.append(outbound.acknowledge_new_ticket(ticket, desk.first_message(ticket), False) is not None)
    other = desk.email_ticket(sender="other@customer.example", msgid="o@customer.example")
    assert outbound.acknowledge_new_ticket(other, desk.first_message(other), False) is not None
    assert sent == [True, True, True, False, False]
    assert Event.objects.filter(kind="email.ack_suppressed", tenant=desk.tenant).count() == 2
    assert outbox.send_due() == {"sent": 4}
    assert sorted(c.rcpt_tos[0] for c in smtp.take()) == ["anna@customer.example"] * 3 + ["other@customer.example"]


def test_ingested_mail_is_acknowledged_but_an_out_of_office_is_not(desk: EmailDesk, smtp: CaptureServer) -> None:
    human = ingest_raw(raw_mail(sender="Piotr <piotr@customer.example>", to=desk.mailbox_address,
                                subject="Zwrot towaru", body="Chcę zwrócić czajnik.", msgid="h1@customer.example"),
                       recipients=[desk.mailbox_address], source="smtp")
    auto = ingest_raw(raw_mail(sender="bot@customer.example", to=desk.mailbox_address, subject="Out of office",
                               body="I am away.", msgid="a1@customer.example",
                               headers={"Auto-Submitted": "auto-replied"}),
                      recipients=[desk.mailbox_address], source="smtp")
    assert human.status == "created" and auto.status == "created"
    assert outbox.send_due() == {"sent": 1}
    (captured,) = smtp.take()
    assert captured.rcpt_tos == ["piotr@customer.example"]
    reference = Ticket.objects.get(pk=human.ticket_id).reference
    assert f"[{reference}]" in captured.message["Subject"]

    # The customer answers the acknowledgement: it threads into the same ticket (by the outbox Message-ID).
    again = ingest_raw(raw_mail(sender="piotr@customer.example", to=desk.mailbox_address,
                                subject="Re: something else", body="Any news?", msgid="h2@customer.example",
                                in_reply_to=captured.message["Message-ID"]),
                       recipients=[desk.mailbox_address], source="smtp")
    assert (again.status, again.ticket_id) == ("appended", human.ticket_id)


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
def test_default_templates_exist_in_every_language(desk: EmailDesk, smtp: CaptureServer, language: str) -> None:
    ticket = desk.email_ticket(language=language)
    row = outbound.acknowledge_new_ticket(ticket, desk.first_message(ticket), False)
    assert row is not None and ticket.reference in row.body_text and f"[{ticket.reference}]" in row.subject
