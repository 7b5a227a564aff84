"""Public web forms under hostile posts: a 4xx page with the errors shown (or the confirmation), never a 500,
never a half-filed submission; CRLF never reaches mail headers; the page frames only on allowed origins."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import MULTIPART_CONTENT
from hypothesis import given
from hypothesis import strategies as st

from tests.security.conftest import (
    EXAMPLES,
    FEW,
    NASTY,
    TEXT,
    XSS,
    assert_html_error,
    assert_no_injected_headers,
    counts,
    sent_mail_headers,
)
from tests.webform.conftest import World

pytestmark = pytest.mark.django_db
FIELDS = ["name", "bio", "email", "phone", "colour", "extras", "when", "count", "store", "pickup_date",
          "pickup_time", "items", "code", "consent", "_lf_lang", "_lf_token", "_lf_find", "website", "doc"]
VALID = {"name": "Jan Kowalski", "consent": "on", "email": "jan@example.com"}
# values a posted form can carry: strings (no lone surrogates, which a form encoder cannot send) or several
FORM_VALUES = st.one_of(TEXT.filter(lambda v: v.encode("utf-8", "surrogatepass") == v.encode("utf-8", "replace")),
                        st.lists(st.sampled_from(["a", "", "<b>", "1", "\x00", "x" * 20_000]), max_size=3))


def check(response: Any, before: dict[str, int]) -> None:
    assert response.status_code < 500, response.content[:400]
    if response.status_code == 303:
        return
    if response.status_code == 200:  # "find stores" without JavaScript: the page again, nothing filed
        assert counts() == before
        return
    assert_html_error(response)
    assert counts() == before


@EXAMPLES
@given(field=st.sampled_from(FIELDS), value=FORM_VALUES)
def test_any_value_in_any_field(world: World, field: str, value: Any) -> None:
    token = world.page()[2]
    before = counts()
    response = world.post({**VALID, field: value}, token=token if field != "_lf_token" else None)
    if field == "_lf_token":
        response = world.client.post(f"/forms/{world.form.public_key}/", {**VALID, "_lf_token": value},
                                     content_type=MULTIPART_CONTENT)
    check(response, before)


@EXAMPLES
@given(raw=st.one_of(st.binary(max_size=300), st.sampled_from([
    b"name=\xff\xfe&consent=on", b"name=%ff%fe%00&consent=on", b"name=" + b"a" * 200_000, b"&&&===&&",
    b"--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\xc3\x28\r\n--x--\r\n",
    b"--x\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"../../a\r\nb.pdf\"\r\n\r\nhi\r\n--x--\r\n",
    b"--x\r\nContent-Disposition: form-data\r\n\r\nbroken", b"{\"name\": \"json\"}"])),
       content_type=st.sampled_from(["multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
                                     "application/json", "text/plain", "", "multipart/form-data",
                                     "application/x-www-form-urlencoded; charset=bogus-charset"]))
def test_garbage_bodies(world: World, raw: bytes, content_type: str) -> None:
    before = counts()
    response = world.client.generic("POST", f"/forms/{world.form.public_key}/?lang=en", raw,
                                    content_type=content_type)
    check(response, before)


@FEW
@given(method=st.sampled_from(["PUT", "PATCH", "DELETE", "TRACE"]),
       path=st.sampled_from(["", "stores/", "done/x/"]))
def test_wrong_methods(world: World, method: str, path: str) -> None:
    before = counts()
    response = world.client.generic(method, f"/forms/{world.form.public_key}/{path}")
    assert response.status_code == 405
    assert counts() == before


@EXAMPLES
@given(key=TEXT, blob=TEXT, query=TEXT)
def test_unknown_keys_blobs_and_store_queries(world: World, key: str, blob: str, query: str) -> None:
    def q(value: str) -> str:
        return quote(value.encode("utf-8", "surrogatepass"), safe="") or "x"

    before = counts()
    for url in (f"/forms/{q(key)}/", f"/forms/{world.form.public_key}/done/{q(blob)}/",
                f"/forms/{world.form.public_key}/stores/?q={q(query)}", f"/forms/{world.form.public_key}/stores/?code={q(query)}",
                f"/forms/{world.form.public_key}/?lang={q(query)}&embed={q(query)}"):
        response = world.client.get(url, HTTP_ACCEPT_LANGUAGE=query.encode("utf-8", "replace").decode("latin-1"))
        assert response.status_code < 500, (url, response.content[:300])
        if response.status_code >= 400 and "/stores/" not in url:
            assert_html_error(response)
        elif "/stores/" in url:
            assert response["Content-Type"].startswith("application/json")
    assert counts() == before


@FEW
@given(name=st.one_of(NASTY.filter(lambda v: v and "\ud800" not in v and "\udfff" not in v), st.sampled_from([
    "../../../etc/passwd.pdf", "..\\..\\win.ini.pdf", "a\r\nContent-Type: text/html.pdf", "x" * 1000 + ".pdf",
    "\u202efdp.exe", "cv\x00.pdf", "/abs/cv.pdf", "ünïcødé 履歴書.pdf", "\"q\".pdf", "<script>.pdf", ".pdf"])),
       content=st.sampled_from([b"%PDF-1.4 tiny", b"<html><script>alert(1)</script>", b"", b"x" * 20_000]))
def test_file_field_with_odd_names(world: World, name: str, content: bytes) -> None:
    token = world.page()[2]
    before = counts()
    upload = SimpleUploadedFile("f", content, content_type="application/pdf")
    upload.name = name
    response = world.post({**VALID, "doc": upload}, token=token)
    check(response, before)
    if response.status_code == 303:
        from linia.tickets.models import Attachment

        for att in Attachment.objects.all():
            assert "/" not in att.filename and "\\" not in att.filename and "\x00" not in att.filename
            assert "\r" not in att.filename and "\n" not in att.filename
            assert ".." not in att.file.name


@EXAMPLES
@given(payload=XSS, field=st.sampled_from(["name", "bio", "email", "phone", "code", "colour", "when", "store"]))
def test_xss_in_fields_comes_back_escaped(world: World, payload: str, field: str) -> None:
    token = world.page()[2]
    response = world.post({**VALID, "consent": "", field: payload}, token=token)  # refused: the page shows it again
    assert response.status_code == 400
    assert payload.encode() not in response.content


@EXAMPLES
@given(name=st.sampled_from(["Jan\r\nBcc: evil@example.com", "Jan\nX-Injected: 1", "=?utf-8?q?a?=\r\n evil",
                             "Jan\x00Kowalski", "J" * 300]),
       email=st.sampled_from(["jan@example.com", "jan@example.com\r\nBcc: evil@example.com",
                              "jan@example.com\nX-Injected: 1", "\"a\r\nb\"@example.com",
                              "jan@example.com, evil@example.com"]))
def test_crlf_in_name_or_email_never_reaches_mail_headers(world: World, name: str, email: str) -> None:
    mail.outbox.clear()
    token = world.page()[2]
    before = counts()
    response = world.post({**VALID, "name": name, "email": email}, token=token)
    check(response, before)
    headers = sent_mail_headers()
    if response.status_code == 303 and email == "jan@example.com":
        assert any(n == "To" and "jan@example.com" in v for n, v in headers)  # the confirmation did go out
    assert_no_injected_headers(headers)


def test_oversized_upload_is_refused_without_rows(world: World, settings: Any) -> None:
    token = world.page()[2]
    before = counts()
    upload = SimpleUploadedFile("cv.pdf", b"%PDF" + b"x" * 50_000, content_type="application/pdf")
    response = world.post({**VALID, "doc": upload}, token=token)  # max_mb 0.01 in the form's ui
    assert_html_error(response)
    assert counts() == before
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = world.post({**VALID, "bio": "b" * 5000}, token=token)
    assert response.status_code < 500
    assert counts() == before


def test_framing_only_for_allowed_origins(world: World) -> None:
    response = Client().get(f"/forms/{world.form.public_key}/?embed=1")
    csp = response["Content-Security-Policy"]
    ancestors = next(d for d in csp.split(";") if d.strip().startswith("frame-ancestors")).split()[1:]
    assert set(ancestors) == {"'self'", "https://shop.example.com"}
    assert "X-Frame-Options" not in response
    assert response["Referrer-Policy"] == "no-referrer"
    assert "script-src" in csp or "default-src" in csp
    foreign = Client().get(f"/forms/{world.foreign_form.public_key}/")
    assert "https://shop.example.com" in foreign["Content-Security-Policy"]  # its own list, not the other's
