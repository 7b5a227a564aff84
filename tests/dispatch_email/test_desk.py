"""The desk: a public reply on an email ticket goes out by email; the forward form; ru/pl wording."""

from __future__ import annotations

from django.test import Client

from linia.directory.models import DepartmentKind
from linia.dispatch import outbox
from linia.dispatch.models import OutboundEmail
from linia.tickets import actions
from linia.tickets.models import Message, Status
from tests import factories
from tests.dispatch_email.conftest import EmailDesk
from tests.dispatch_email.smtp_capture import CaptureServer


def test_public_reply_from_the_desk_is_emailed_and_a_note_is_not(desk: EmailDesk, smtp: CaptureServer,
                                                                 client: Client) -> None:
    ticket = desk.email_ticket()
    client.force_login(desk.agent)
    assert "Public replies are emailed to anna@customer.example" in client.get(f"/tickets/{ticket.pk}/").content.decode()
    response = client.post(f"/tickets/{ticket.pk}/reply/", {"kind": "public", "body": "Wymienimy go."})
    assert response.status_code == 302
    client.post(f"/tickets/{ticket.pk}/reply/", {"kind": "note", "body": "internal only"})
    reply = Message.objects.get(ticket=ticket, direction=Message.Direction.OUTBOUND)
    assert reply.external_id and reply.external_id.startswith("email:")
    assert OutboundEmail.objects.get().message == reply
    assert outbox.send_due() == {"sent": 1}
    (captured,) = smtp.take()
    assert "Wymienimy go." in captured.message.get_body(("plain",)).get_content()


def test_public_reply_on_a_phone_ticket_is_not_emailed(desk: EmailDesk, client: Client) -> None:
    ticket = actions.create_ticket(None, desk.tenant, subject="Call", channel="call", body="x")
    client.force_login(desk.agent)
    client.post(f"/tickets/{ticket.pk}/reply/", {"kind": "public", "body": "Noted."})
    assert Message.objects.filter(ticket=ticket, direction="outbound").count() == 1
    assert not OutboundEmail.objects.exists()


def test_forward_form_preselects_the_regional_office_and_forwards(desk: EmailDesk, smtp: CaptureServer,
                                                                  client: Client) -> None:
    factories.department(desk.tenant, "HR", name="HR", kind=DepartmentKind.HR)
    regional = factories.department(desk.tenant, "SL", name="Region Śląsk", kind=DepartmentKind.REGIONAL,
                                    region="Śląskie")
    ticket = desk.email_ticket()
    actions.update_ticket(None, ticket, store=factories.store(desk.tenant, region="Śląskie"))
    client.force_login(desk.agent)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="forward-form"' in page
    assert f'<option value="{regional.pk}" selected>' in page

    bad = client.post(f"/tickets/{ticket.pk}/forward/", {"department": "", "note": "keep me"})
    assert bad.status_code == 400 and "keep me" in bad.content.decode()
    ok = client.post(f"/tickets/{ticket.pk}/forward/", {"department": str(regional.pk), "note": "Please decide"})
    assert ok.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_CLIENT
    assert outbox.send_due() == {"sent": 1}
    assert smtp.take()[0].rcpt_tos == [regional.email]


def test_store_staff_cannot_forward(desk: EmailDesk, client: Client) -> None:
    store = factories.store(desk.tenant)
    ticket = desk.email_ticket()
    actions.update_ticket(None, ticket, store=store)
    dept = factories.department(desk.tenant)
    other_store_staff = factories.user(tenant=desk.tenant, role="store_staff", store=factories.store(desk.tenant))
    client.force_login(other_store_staff)
    response = client.post(f"/tickets/{ticket.pk}/forward/", {"department": str(dept.pk), "note": ""})
    assert response.status_code == 404
    assert not OutboundEmail.objects.exists()


def test_forward_panel_and_failure_banner_in_russian_and_polish(desk: EmailDesk, smtp: CaptureServer,
                                                                client: Client) -> None:
    factories.department(desk.tenant, "D1")
    ticket = desk.email_ticket()
    smtp.stop()
    from linia.dispatch import outbound

    outbound.send_reply(desk.agent, ticket, body="x")
    outbox.send_due()
    for language, words in (("ru", ("Переслать в отдел", "Письмо не доставлено", "Повторить сейчас",
                                     "Публичные ответы уходят письмом на anna@customer.example")),
                            ("pl", ("Przekaż do działu", "E-mail nie został dostarczony", "Ponów teraz",
                                    "Odpowiedzi publiczne są wysyłane e-mailem do anna@customer.example"))):
        desk.agent.language = language
        desk.agent.save()
        client.force_login(desk.agent)
        page = client.get(f"/tickets/{ticket.pk}/").content.decode()
        for word in words:
            assert word in page, (language, word)


def test_retry_button_requeues_a_failed_email_of_this_ticket_only(desk: EmailDesk, smtp: CaptureServer,
                                                                  client: Client) -> None:
    from linia.dispatch import outbound

    ticket = desk.email_ticket()
    other = desk.email_ticket(sender="x@customer.example", msgid="x@customer.example")
    smtp.stop()
    outbound.send_reply(desk.agent, ticket, body="one")
    outbound.send_reply(desk.agent, other, body="two")
    assert outbox.send_due() == {"failed": 2}
    row = OutboundEmail.objects.get(ticket=ticket)
    foreign = OutboundEmail.objects.get(ticket=other)
    client.force_login(desk.agent)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f"/tickets/{ticket.pk}/emails/{row.pk}/retry/" in page
    assert client.post(f"/tickets/{ticket.pk}/emails/{foreign.pk}/retry/").status_code == 302
    foreign.refresh_from_db()
    assert foreign.status == "failed"  # not this ticket's email: untouched
    assert client.post(f"/tickets/{ticket.pk}/emails/{row.pk}/retry/").status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("queued", 0)
    smtp.start()
    assert outbox.send_due() == {"sent": 1}
