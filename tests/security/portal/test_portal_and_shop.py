"""The portal (store and client staff) and the demo shop pages under hostile input: 4xx pages, never a 500, no
partial writes, escaped output, nosniff downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.portal.conftest import World
from tests.security.conftest import EXAMPLES, FEW, TEXT, XSS, assert_html_error, counts

pytestmark = pytest.mark.django_db
FORM_TEXT = TEXT.filter(lambda v: "\ud800" not in v and "\udfff" not in v)
FILTERS = ["q", "status", "priority", "store_id", "open_only", "order", "overdue", "page"]


def q(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def check(response: Any, before: dict[str, int], ok: tuple[int, ...] = (200, 302, 303)) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code not in ok:
        assert_html_error(response)
        assert counts() == before


@EXAMPLES
@given(params=st.lists(st.tuples(st.sampled_from(FILTERS), TEXT), max_size=4))
def test_ticket_list_and_export_with_any_filters(world: World, params: list[tuple[str, str]]) -> None:
    query = "&".join(f"{k}={q(v)}" for k, v in params)
    c = world.login(world.hq_user)
    before = counts()
    for url in (f"/portal/tickets/?{query}", f"/portal/tickets/export.csv?{query}", f"/portal/?{query}"):
        check(c.get(url), before)


@EXAMPLES
@given(field=st.sampled_from(["kind", "asset", "description", "urgency"]), value=FORM_TEXT)
def test_fault_report_with_any_value(world: World, field: str, value: str) -> None:
    data = {"kind": "equipment", "asset": "Freezer 3", "description": "It is warm", "urgency": "normal", field: value}
    before = counts()
    response = world.login(world.store_user).post("/portal/report/", data)
    check(response, before)


@EXAMPLES
@given(action=st.sampled_from(["message", "reopen", "status", "confirm"]), value=FORM_TEXT)
def test_ticket_actions_with_any_value(world: World, action: str, value: str) -> None:
    c = world.login(world.hq_user)
    data = {"body": value, "reason": value, "status": value}
    before = counts()
    check(c.post(f"/portal/tickets/{world.dept_ticket.pk}/{action}/", data), before)
    # another tenant's ticket: never found, never changed
    before = counts()
    response = c.post(f"/portal/tickets/{world.foreign_ticket.pk}/{action}/", data)
    assert response.status_code in (400, 403, 404)  # 400: a NUL in the post is refused before any look-up
    assert counts() == before


@FEW
@given(name=st.sampled_from(["../../etc/passwd", "a\r\nb.png", "x" * 1000 + ".png", "<svg onload=x>.svg",
                             "ünïcødé.png", "p\x00.png"]),
       content_type=st.sampled_from(["image/png", "text/html", "image/svg+xml"]))
def test_fault_photos_with_odd_names(world: World, name: str, content_type: str) -> None:
    upload = SimpleUploadedFile("f", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, content_type=content_type)
    upload.name = name
    before = counts()
    c = world.login(world.store_user)
    response = c.post("/portal/report/", {"kind": "equipment", "asset": "A", "description": "warm",
                                          "urgency": "normal", "photos": upload})
    check(response, before)
    from linia.tickets.models import Attachment

    for att in Attachment.objects.filter(tenant=world.tenant, message__ticket__store=world.store):
        download = c.get(f"/portal/tickets/{att.message.ticket_id}/attachments/{att.pk}/")
        assert download.status_code == 200
        assert download["X-Content-Type-Options"] == "nosniff"
        if not download["Content-Type"].startswith(("image/png", "image/jpeg", "image/gif", "image/webp")):
            assert download["Content-Disposition"].startswith("attachment")
        assert "\n" not in download["Content-Disposition"]


@FEW
@given(payload=XSS)
def test_xss_in_a_fault_report_is_escaped(world: World, payload: str) -> None:
    c = world.login(world.store_user)
    response = c.post("/portal/report/", {"kind": "equipment", "asset": payload, "description": payload,
                                          "urgency": "normal"})
    assert response.status_code in (200, 302, 303, 400)
    for url in ("/portal/tickets/", f"/portal/tickets/?q={q(payload)}"):
        assert payload.encode() not in c.get(url).content
    from linia.tickets.models import Ticket

    for ticket in Ticket.objects.filter(tenant=world.tenant, store=world.store):
        assert payload.encode() not in c.get(f"/portal/tickets/{ticket.pk}/").content


def test_anonymous_and_wrong_methods(world: World) -> None:
    before = counts()
    anonymous = Client()
    for url in ("/portal/", "/portal/tickets/", "/portal/report/", f"/portal/tickets/{world.dept_ticket.pk}/"):
        assert anonymous.get(url).status_code == 302  # to the login page
    c = world.login(world.hq_user)
    for url in (f"/portal/tickets/{world.dept_ticket.pk}/message/", f"/portal/tickets/{world.dept_ticket.pk}/status/"):
        assert c.get(url).status_code == 405
    assert counts() == before


@EXAMPLES
@given(slug=TEXT, lang=TEXT)
def test_shop_pages_with_any_slug_and_language(db: None, slug: str, lang: str) -> None:
    response = Client().get(f"/shop/{q(slug) or 'x'}/?lang={q(lang)}")
    assert response.status_code in (200, 404), response.content[:300]
    if response.status_code == 404:
        assert "Traceback" not in response.content.decode()
    assert Client().get(f"/shop/?lang={q(lang)}").status_code == 200
    for payload in (slug, lang):
        if "<" in payload:
            assert payload.encode() not in response.content
