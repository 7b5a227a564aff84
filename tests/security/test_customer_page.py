"""The customer's private ticket page /t/<token>/ under hostile input: 4xx pages, no partial writes, escaped
output, private headers; files never sniffed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.customer_page.conftest import Setup
from tests.security.conftest import EXAMPLES, FEW, NASTY, TEXT, XSS, assert_html_error, counts

pytestmark = pytest.mark.django_db
FORM_TEXT = TEXT.filter(lambda v: "\ud800" not in v and "\udfff" not in v)


def client() -> Client:
    from django.core.cache import cache

    cache.clear()  # the page's own rate limits are constants: every example starts fresh
    return Client(enforce_csrf_checks=False)


def q(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="") or "x"


def assert_private(response: Any) -> None:
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


@EXAMPLES
@given(token=TEXT, lang=TEXT)
def test_unknown_tokens_get_the_private_not_found_page(setup: Setup, token: str, lang: str) -> None:
    before = counts()
    c = client()
    for response in (c.get(f"/t/{q(token)}/?lang={q(lang)}"), c.post(f"/t/{q(token)}/reply/", {"body": "hi"}),
                     c.post(f"/t/{q(token)}/rate/", {"score": "5"}), c.get(f"/t/{q(token)}/files/1/")):
        if response.status_code == 404 and "Referrer-Policy" in response and response["Referrer-Policy"] == "same-origin":
            continue  # the URL did not resolve ("/" in the token): Django's own 404, no token page involved
        assert_html_error(response)
        assert_private(response)
    assert counts() == before


@EXAMPLES
@given(body=FORM_TEXT, nonce=FORM_TEXT)
def test_reply_with_any_text(setup: Setup, body: str, nonce: str) -> None:
    before = counts()
    response = client().post(f"{setup.url}reply/", {"body": body, "nonce": nonce})
    assert response.status_code < 500, response.content[:300]
    assert_private(response)
    if response.status_code != 303:
        assert_html_error(response)
        assert counts() == before


@EXAMPLES
@given(score=st.one_of(FORM_TEXT, st.sampled_from(["0", "6", "-1", "5.5", "1e9", "9" * 5000, "٣", "５", " 5 "])),
       comment=FORM_TEXT)
def test_rating_with_any_score(setup: Setup, score: str, comment: str) -> None:
    from linia.tickets import actions

    if setup.ticket.status != "solved":
        actions.change_status(setup.agent, setup.ticket, "solved")
    before = counts()
    response = client().post(f"{setup.url}rate/", {"score": score, "comment": comment})
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 303:
        assert_html_error(response)
        assert counts() == before


@EXAMPLES
@given(raw=st.one_of(st.binary(max_size=200), st.sampled_from([
    b"body=\xff\xfe", b"body=%ff%00", b"--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"\xff/../a\"\r\n"
    b"\r\nhi\r\n--x--\r\n", b"--x\r\nbroken"])),
       content_type=st.sampled_from(["multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
                                     "application/json", "", "multipart/form-data"]))
def test_garbage_bodies(setup: Setup, raw: bytes, content_type: str) -> None:
    before = counts()
    response = client().generic("POST", f"{setup.url}reply/", raw, content_type=content_type)
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 303:
        assert_html_error(response)
        assert counts() == before


@FEW
@given(name=st.one_of(NASTY.filter(lambda v: v and "\ud800" not in v and "\udfff" not in v), st.sampled_from([
    "../../etc/passwd", "a\r\nContent-Type: text/html", "x" * 1000 + ".png", "photo\x00.png", "<svg onload=x>.svg",
    "ünïcødé 写真.png"])),
       content=st.sampled_from([b"<html><script>alert(1)</script>", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16]),
       content_type=st.sampled_from(["text/html", "image/svg+xml", "image/png", "application/octet-stream"]))
def test_uploaded_files_are_never_rendered(setup: Setup, name: str, content: bytes, content_type: str) -> None:
    before = counts()
    upload = SimpleUploadedFile("f", content, content_type=content_type)
    upload.name = name
    response = client().post(f"{setup.url}reply/", {"body": "see file", "files": upload})
    assert response.status_code < 500
    if response.status_code != 303:
        assert_html_error(response)
        assert counts() == before
        return
    from linia.tickets.models import Attachment

    if counts()["Attachment"] == before["Attachment"]:
        return  # Django's multipart parser drops a file whose name sanitizes to nothing ("\x00"): no file, no row
    att = Attachment.objects.filter(message__ticket=setup.ticket).order_by("-pk").first()
    assert att is not None and "/" not in att.filename and "\r" not in att.filename and "\n" not in att.filename
    download = client().get(f"{setup.url}files/{att.pk}/")
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    assert_private(download)
    assert "sandbox" in download["Content-Security-Policy"]
    if download["Content-Type"] not in ("image/png", "image/jpeg", "image/gif", "image/webp"):
        assert download["Content-Type"] == "application/octet-stream"
        assert download["Content-Disposition"].startswith("attachment")
    assert "\n" not in download["Content-Disposition"]


@EXAMPLES
@given(payload=XSS)
def test_xss_in_a_reply_is_escaped_on_the_page(setup: Setup, payload: str) -> None:
    response = client().post(f"{setup.url}reply/", {"body": payload, "nonce": "n"})
    assert response.status_code in (303, 400)
    page = client().get(f"{setup.url}?lang={q(payload)}&done={q(payload)}")
    assert page.status_code == 200
    assert payload.encode() not in page.content
    refused = client().post(f"{setup.url}rate/", {"score": "9", "comment": payload})
    assert payload.encode() not in refused.content


def test_page_headers(setup: Setup) -> None:
    response = client().get(setup.url)
    assert response.status_code == 200
    assert_private(response)
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp


def test_wrong_methods(setup: Setup) -> None:
    c = client()
    before = counts()
    for method, path in (("PUT", ""), ("DELETE", ""), ("GET", "reply/"), ("GET", "rate/"), ("POST", "files/1/")):
        response = c.generic(method, f"{setup.url}{path}")
        assert response.status_code == 405, (method, path)
    assert counts() == before


def test_oversized_request_body(setup: Setup, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = counts()
    response = client().post(f"{setup.url}reply/", {"body": "x" * 5000})
    assert response.status_code < 500
    assert counts() == before
