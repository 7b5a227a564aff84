"""Odd query strings and form posts: a message or an empty result, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.desk.conftest import Desk

pytestmark = pytest.mark.django_db

ODD = ["", "abc", "-1", "0", "99999999999999999999999", "1.5", "'; DROP TABLE x; --", "\x00", "%00", "ж" * 3000,
       "<script>alert(1)</script>"]


@pytest.mark.parametrize("value", ODD)
def test_list_and_directory_never_fail(desk: Desk, value: str) -> None:
    requests = [
        ("/tickets/", {"q": value}), ("/tickets/", {"page": value}), ("/tickets/", {"store_id": value}),
        ("/tickets/", {"assignee": value, "order": value}), ("/tickets/", {"created_from": value}),
        ("/tickets/export.csv", {"q": value}), ("/directory/", {"q": value, "city": value}),
        ("/directory/", {"open_now": value}), (reverse("desk:store_picker"), {"store_q": value}),
        (reverse("desk:custom_fields"), {"category": value, "ticket": value}),
        (reverse("desk:contact_lookup"), {"contact_phone": value, "contact_name": value}),
        (reverse("desk:store", args=[desk.store.pk]), {"q": value}),
        ("/tickets/new/", {"store": value, "channel": value}),
    ]
    for path, params in requests:
        response = desk.client.get(path, params)
        assert response.status_code in (200, 302, 400), (path, params, response.status_code)
        if response.status_code == 200 and not response.streaming:
            assert b"<script>alert(1)</script>" not in response.content


@pytest.mark.parametrize("value", ODD)
def test_ticket_forms_never_fail(desk: Desk, value: str) -> None:
    pk = desk.ticket.pk
    posts = [
        (reverse("desk:ticket_update", args=[pk]), {"status": value}),
        (reverse("desk:ticket_update", args=[pk]), {"priority": value, "store": value, "assignee": value}),
        (reverse("desk:ticket_update", args=[pk]), {"category": value, "department": value, "tags": value}),
        (reverse("desk:ticket_reply", args=[pk]), {"kind": value, "body": value}),
        (reverse("desk:ticket_merge", args=[pk]), {"reference": value}),
        (reverse("desk:filter_create"), {"name": value, "query": value}),
        (reverse("desk:switch_tenant"), {"tenant": value, "next": value}),
        ("/tickets/new/", {"channel": "call", "subject": value, "priority": value, "contact_phone": value,
                           "contact_email": value, "store": value, "category": value}),
    ]
    for path, data in posts:
        response = desk.client.post(path, data)
        assert response.status_code in (200, 302, 400), (path, data, response.status_code)


def test_nul_character_is_refused_with_a_message(desk: Desk) -> None:
    response = desk.client.post("/tickets/new/", {"channel": "call", "subject": "bad\x00subject",
                                                  "priority": "normal"})
    assert response.status_code == 400 and "control character (NUL)" in response.content.decode()
    assert desk.client.get("/directory/", {"q": "a\x00"}).status_code == 400
