"""Every desk URL that takes an id, called with another tenant's id: 404 or refused, never its data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linia.core.models import Role
from linia.desk.models import SavedFilter
from linia.tickets import actions
from linia.tickets.models import Ticket
from tests import factories as f
from tests.desk.conftest import Desk

pytestmark = pytest.mark.django_db


def test_foreign_ids_on_every_id_url(desk: Desk) -> None:
    foreign_store = f.store(desk.other, "PL-1", name="Foreign store")
    message = actions.add_message(None, desk.foreign_ticket, body="secret", kind="public",
                                  attachments=[actions.NewAttachment("secret.txt", b"secret data")])
    foreign_attachment = message.attachments.get()
    outsider = f.user("piotr", tenant=desk.other, role=Role.SUPERVISOR)
    foreign_filter = SavedFilter.objects.create(tenant=desk.other, user=outsider, name="Theirs", shared=True,
                                                params={"status": ["open"]})
    gets = [
        reverse("desk:ticket", args=[desk.foreign_ticket.pk]),
        reverse("desk:attachment", args=[desk.foreign_ticket.pk, foreign_attachment.pk]),
        reverse("desk:attachment", args=[desk.ticket.pk, foreign_attachment.pk]),
        reverse("desk:store", args=[foreign_store.pk]),
        reverse("desk:filter_open", args=[foreign_filter.pk]),
    ]
    for path in gets:
        assert desk.client.get(path).status_code == 404, path
    posts = [
        reverse("desk:ticket_reply", args=[desk.foreign_ticket.pk]),
        reverse("desk:ticket_update", args=[desk.foreign_ticket.pk]),
        reverse("desk:ticket_merge", args=[desk.foreign_ticket.pk]),
        reverse("desk:filter_delete", args=[foreign_filter.pk]),
    ]
    for path in posts:
        assert desk.client.post(path, {"body": "x", "status": "closed", "reference": desk.ticket.reference}
                                ).status_code == 404, path
    assert SavedFilter.objects.filter(pk=foreign_filter.pk).exists()
    assert "Theirs" not in desk.client.get("/tickets/").content.decode()
    assert Ticket.objects.get(pk=desk.foreign_ticket.pk).status == "new"


def test_foreign_references_in_forms_are_refused(desk: Desk) -> None:
    foreign_store = f.store(desk.other, "PL-1")
    foreign_category = f.category(desk.other, "x")
    for field, value in (("store", foreign_store.pk), ("category", foreign_category.pk)):
        response = desk.client.post(reverse("desk:ticket_update", args=[desk.ticket.pk]), {field: value})
        assert response.status_code == 400, field
        assert "does not exist in this tenant" in response.content.decode()
    desk.ticket.refresh_from_db()
    assert desk.ticket.store_id == desk.store.pk and desk.ticket.category_id is None
    listing = desk.client.get("/tickets/", {"store_id": foreign_store.pk}).content.decode()
    assert "No tickets match this filter." in listing
    new = desk.client.post("/tickets/new/", {"channel": "call", "subject": "x", "priority": "normal",
                                             "category": foreign_category.pk})
    assert new.status_code == 400 and not Ticket.objects.filter(subject="x").exists()


def test_not_found_page_is_friendly_and_reveals_nothing(desk: Desk) -> None:
    response = desk.client.get(reverse("desk:ticket", args=[desk.foreign_ticket.pk]))
    text = response.content.decode()
    assert response.status_code == 404 and "Not found" in text and "Back to tickets" in text
    assert desk.foreign_ticket.subject not in text and desk.foreign_ticket.reference not in text
