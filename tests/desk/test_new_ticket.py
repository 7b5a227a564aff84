from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from linia.core.models import Role
from linia.tickets import actions
from linia.tickets.models import Contact, Ticket
from tests import factories as f
from tests.desk.conftest import Desk

pytestmark = pytest.mark.django_db
NEW = "/tickets/new/"


def test_form_renders_with_channels_and_store_prefill(desk: Desk) -> None:
    page = desk.client.get(NEW, {"store": desk.store.pk}).content.decode()
    for value in ("call", "fax", "post", "walk_in"):
        assert f'value="{value}"' in page
    assert "VL-001 · Svetlanskaya" in page and 'name="files"' in page and 'enctype="multipart/form-data"' in page


def test_register_call_finds_existing_contact(desk: Desk) -> None:
    response = desk.client.post(NEW, {"channel": "call", "contact_name": "Ivan", "contact_phone": "+7 423 222-33-44",
                                      "subject": "Opening hours on Sunday", "description": "Asked about Sunday.",
                                      "priority": "normal", "store": desk.store.pk})
    assert response.status_code == 302
    ticket = Ticket.objects.filter(tenant=desk.tenant).latest("id")
    assert response["Location"] == reverse("desk:ticket", args=[ticket.pk])
    assert (ticket.channel, ticket.store_id, ticket.contact_id) == ("call", desk.store.pk, desk.ticket.contact_id)
    assert ticket.created_by == desk.agent
    assert Contact.objects.filter(tenant=desk.tenant).count() == 1
    page = desk.client.get(response["Location"]).content.decode()
    assert f"Ticket {ticket.reference} created." in page and "Asked about Sunday." in page


def test_register_fax_with_scan_and_custom_fields(desk: Desk) -> None:
    scan = SimpleUploadedFile("fax-page1.tif", b"II*\x00scan", content_type="image/tiff")
    response = desk.client.post(NEW, {
        "channel": "fax", "contact_name": "OOO Romashka", "contact_email": "office@romashka.example",
        "subject": "Complaint by fax", "description": "See the scan.", "priority": "high",
        "category": desk.category.pk, "cf_receipt_no": "R-555", "cf_kind": "non-food", "files": scan})
    assert response.status_code == 302, response.content.decode()[:3000]
    ticket = Ticket.objects.get(subject="Complaint by fax")
    assert ticket.channel == "fax" and ticket.custom_fields == {"receipt_no": "R-555", "kind": "non-food",
                                                                 "refund": False}
    attachment = ticket.messages.get().attachments.get()
    assert attachment.filename == "fax-page1.tif" and attachment.size == 8
    assert ticket.contact.identities.get().value == "office@romashka.example"


def test_post_letter_without_contact(desk: Desk) -> None:
    response = desk.client.post(NEW, {"channel": "post", "subject": "Anonymous letter", "priority": "low"})
    assert response.status_code == 302
    assert Ticket.objects.get(subject="Anonymous letter").contact is None


def test_errors_are_shown_and_nothing_is_created(desk: Desk) -> None:
    before = (Ticket.objects.count(), Contact.objects.count())
    missing = desk.client.post(NEW, {"channel": "call", "subject": "", "priority": "normal"})
    assert missing.status_code == 400 and "Please correct the marked fields." in missing.content.decode()
    bad_phone = desk.client.post(NEW, {"channel": "call", "subject": "x", "priority": "normal",
                                       "contact_name": "New person", "contact_phone": "12"})
    assert bad_phone.status_code == 400 and "not a possible phone number" in bad_phone.content.decode()
    required = desk.client.post(NEW, {"channel": "call", "subject": "x", "priority": "normal",
                                      "category": desk.category.pk, "contact_name": "Somebody"})
    assert required.status_code == 400 and "has-error" in required.content.decode()
    foreign_store = f.store(desk.other, "PL-1")
    foreign = desk.client.post(NEW, {"channel": "call", "subject": "x", "priority": "normal",
                                     "store": foreign_store.pk, "contact_name": "Somebody"})
    assert foreign.status_code == 400 and "does not exist in this tenant" in foreign.content.decode()
    assert (Ticket.objects.count(), Contact.objects.count()) == before


def test_client_staff_cannot_open_the_form(desk: Desk) -> None:
    staff = f.user("klient", tenant=desk.tenant, role=Role.CLIENT_STAFF)
    client = Client()
    client.force_login(staff)
    assert client.get(NEW).status_code == 403


def test_known_customer_lookup_by_phone(desk: Desk) -> None:
    response = desk.client.get(reverse("desk:contact_lookup"), {"contact_phone": "423 222 33 44"})
    text = response.content.decode()
    assert "Ivan Petrov" in text and desk.ticket.reference in text and 'data-phone="+74232223344"' in text
    assert desk.client.get(reverse("desk:contact_lookup"), {"contact_phone": "99"}).content.decode().strip() == ""
    f.user("outsider", tenant=desk.other)
    actions.find_or_create_contact(None, desk.other, name="Ivan Foreign", phones=["+7 423 222 33 45"])
    foreign = desk.client.get(reverse("desk:contact_lookup"), {"contact_name": "Ivan"}).content.decode()
    assert "Ivan Petrov" in foreign and "Ivan Foreign" not in foreign


def test_numeric_enum_custom_field_keeps_its_type(desk: Desk) -> None:
    category = f.category(desk.tenant, "size", field_schema={
        "type": "object", "properties": {"size": {"type": "integer", "enum": [1, 5, 10], "title": "Pack"}}})
    response = desk.client.post(NEW, {"channel": "walk_in", "subject": "Pack size", "priority": "normal",
                                      "category": category.pk, "cf_size": "5"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Ticket.objects.get(subject="Pack size").custom_fields == {"size": 5}
    bad = desk.client.post(NEW, {"channel": "walk_in", "subject": "Pack size 2", "priority": "normal",
                                 "category": category.pk, "cf_size": "7"})
    assert bad.status_code == 400 and "has-error" in bad.content.decode()
