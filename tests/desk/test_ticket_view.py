from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from linia.core.models import Role
from linia.tickets import actions
from linia.tickets.models import Event, Message, Ticket
from tests import factories as f
from tests.desk.conftest import Desk

pytestmark = pytest.mark.django_db


def url(desk: Desk, name: str = "desk:ticket", ticket: Ticket | None = None) -> str:
    return reverse(name, args=[(ticket or desk.ticket).pk])


def test_ticket_view_shows_header_thread_contact_and_history(desk: Desk) -> None:
    older = actions.create_ticket(None, desk.tenant, subject="Earlier complaint", channel="email",
                                  contact=desk.ticket.contact_id)
    page = desk.client.get(url(desk)).content.decode()
    assert desk.ticket.reference in page and "Sour milk in Svetlanskaya" in page
    assert "The milk was sour." in page and "Ivan Petrov" in page and "+74232223344" in page
    assert older.reference in page  # other tickets of the contact
    assert "Ticket created" in page and "Message received" in page
    assert 'class="badge st-new"' in page


def test_foreign_and_unknown_tickets_are_404(desk: Desk) -> None:
    assert desk.client.get(url(desk, ticket=desk.foreign_ticket)).status_code == 404
    assert desk.client.get("/tickets/999999/").status_code == 404
    for name in ("desk:ticket_reply", "desk:ticket_update", "desk:ticket_merge"):
        response = desk.client.post(url(desk, name, desk.foreign_ticket), {"body": "x", "status": "open"})
        assert response.status_code == 404
    assert desk.foreign_ticket.messages.count() == 0


def test_store_staff_sees_only_their_store(desk: Desk) -> None:
    other_store = f.store(desk.tenant, "VL-002", city="Vladivostok")
    elsewhere = actions.create_ticket(None, desk.tenant, subject="Elsewhere", channel="call", store=other_store.pk)
    staff = f.user("olga", tenant=desk.tenant, role=Role.STORE_STAFF, store=desk.store)
    client = Client()
    client.force_login(staff)
    assert client.get(url(desk)).status_code == 200
    assert client.get(url(desk, ticket=elsewhere)).status_code == 404


def test_public_reply_and_internal_note_with_attachment(desk: Desk) -> None:
    response = desk.client.post(url(desk, "desk:ticket_reply"), {"kind": "public", "body": "We are sorry."})
    assert response.status_code == 302
    scan = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf")
    desk.client.post(url(desk, "desk:ticket_reply"), {"kind": "note", "body": "Call the store", "files": scan})
    reply, note = desk.ticket.messages.order_by("id")[1:]
    assert (reply.kind, reply.direction, reply.author_user) == ("public", "outbound", desk.agent)
    assert (note.kind, note.direction) == ("note", "internal")
    attachment = note.attachments.get()
    page = desk.client.get(url(desk)).content.decode()
    assert 'class="msg note"' in page and 'class="msg outbound"' in page and "receipt.pdf" in page
    download = desk.client.get(reverse("desk:attachment", args=[desk.ticket.pk, attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 receipt"
    assert "receipt.pdf" in download["Content-Disposition"]
    # the attachment id through another ticket's URL is not served
    other = actions.create_ticket(None, desk.tenant, subject="Other", channel="call")
    assert desk.client.get(reverse("desk:attachment", args=[other.pk, attachment.pk])).status_code == 404


def test_empty_reply_shows_error_and_keeps_nothing(desk: Desk) -> None:
    response = desk.client.post(url(desk, "desk:ticket_reply"), {"kind": "public", "body": "  "})
    assert response.status_code == 400
    assert "Write a message or attach a file." in response.content.decode()
    assert desk.ticket.messages.count() == 1


def test_blocked_attachment_type_is_reported(desk: Desk) -> None:
    bad = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    response = desk.client.post(url(desk, "desk:ticket_reply"), {"kind": "note", "body": "see file", "files": bad})
    assert response.status_code == 400 and "not accepted" in response.content.decode()
    assert not Message.objects.filter(body_text="see file").exists()


def test_status_change_and_invalid_transition(desk: Desk) -> None:
    response = desk.client.post(url(desk, "desk:ticket_update"), {"status": "closed"})
    assert response.status_code == 302
    desk.ticket.refresh_from_db()
    assert desk.ticket.status == "closed"
    again = desk.client.post(url(desk, "desk:ticket_update"), {"status": "open"})
    assert again.status_code == 400
    text = again.content.decode()
    assert "This status change is not allowed." in text and "errors" in text
    desk.ticket.refresh_from_db()
    assert desk.ticket.status == "closed"


def test_side_panel_fields_and_custom_fields(desk: Desk) -> None:
    dept = f.department(desk.tenant, "CR", name="Customer relations")
    data = {"status": "open", "priority": "high", "category": desk.category.pk, "store": desk.store.pk,
            "department": dept.pk, "assignee": desk.colleague.pk, "tags": "milk, refund",
            "cf_receipt_no": "A-123", "cf_amount": "12.50", "cf_items": "2", "cf_refund": "on", "cf_kind": "food",
            "cf_bought_on": "2026-11-20"}
    response = desk.client.post(url(desk, "desk:ticket_update"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    t = Ticket.objects.get(pk=desk.ticket.pk)
    assert (t.status, t.priority, t.category_id, t.department_id, t.assignee_id) == (
        "open", "high", desk.category.pk, dept.pk, desk.colleague.pk)
    assert sorted(t.tags.values_list("name", flat=True)) == ["milk", "refund"]
    assert t.custom_fields == {"receipt_no": "A-123", "amount": 12.5, "items": 2, "refund": True, "kind": "food",
                               "bought_on": "2026-11-20"}
    assert Event.objects.filter(ticket=t, kind="ticket.assigned").exists()
    page = desk.client.get(url(desk)).content.decode()
    assert 'value="A-123"' in page and "Receipt number" in page


def test_custom_field_errors_shown_next_to_field(desk: Desk) -> None:
    response = desk.client.post(url(desk, "desk:ticket_update"),
                                {"category": desk.category.pk, "cf_receipt_no": "", "cf_items": "two"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Some fields of this category are missing or wrong." in text and "has-error" in text
    desk.ticket.refresh_from_db()
    assert desk.ticket.category_id is None


def test_custom_fields_partial_for_category(desk: Desk) -> None:
    response = desk.client.get(reverse("desk:custom_fields"), {"category": desk.category.pk})
    text = response.content.decode()
    assert 'name="cf_receipt_no"' in text and 'type="date"' in text and 'type="checkbox"' in text
    assert "non-food" in text
    foreign_cat = f.category(desk.other, "secret", field_schema={"properties": {"secret": {"type": "string"}}})
    empty = desk.client.get(reverse("desk:custom_fields"), {"category": foreign_cat.pk}).content.decode()
    assert "cf_secret" not in empty


def test_merge_by_reference(desk: Desk) -> None:
    target = actions.create_ticket(None, desk.tenant, subject="Same complaint", channel="call")
    bad = desk.client.post(url(desk, "desk:ticket_merge"), {"reference": desk.foreign_ticket.reference})
    assert bad.status_code == 400 and "No ticket" in bad.content.decode()
    response = desk.client.post(url(desk, "desk:ticket_merge"), {"reference": target.reference.lower()})
    assert response.status_code == 302 and response["Location"] == url(desk, ticket=target)
    desk.ticket.refresh_from_db()
    assert desk.ticket.merged_into_id == target.pk and desk.ticket.status == "closed"
    assert "The milk was sour." in desk.client.get(response["Location"]).content.decode()


def test_times_in_agent_time_zone_and_localized_category(desk: Desk) -> None:
    import datetime as dt

    Ticket.objects.filter(pk=desk.ticket.pk).update(
        updated_at=dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC),
        created_at=dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC))
    desk.category.names = {"pl": "Jakość produktu"}
    desk.category.save()
    actions.update_ticket(None, desk.ticket, category=desk.category.pk, custom_fields={"receipt_no": "R-1"})
    Ticket.objects.filter(pk=desk.ticket.pk).update(updated_at=dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC))
    listing = desk.client.get("/tickets/").content.decode()
    assert "15.01.26 13:30" in listing  # agent on Europe/Warsaw (UTC+1 in January)
    assert "15.01.2026 13:00" in desk.client.get(url(desk)).content.decode()
    desk.client.post("/i18n/setlang/", {"language": "pl"})
    assert "Jakość produktu" in desk.client.get("/tickets/").content.decode()


def test_inbound_message_shows_customer_and_registering_agent(desk: Desk) -> None:
    ticket = actions.create_ticket(desk.agent, desk.tenant, subject="Call", channel="call", body="Hello",
                                   contact=desk.ticket.contact_id)
    page = desk.client.get(url(desk, ticket=ticket)).content.decode()
    assert "<strong>Ivan Petrov</strong>" in page and "registered by anna" in page
