"""The chat widget's HTTP API under hostile input: always a 4xx JSON error, never a 500, never a partial write."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st

from tests.chat.conftest import FORM, SHOP, Chat
from tests.security.conftest import (
    EXAMPLES,
    FEW,
    JSON_VALUES,
    NASTY,
    TEXT,
    XSS,
    assert_json_error,
    assert_no_injected_headers,
    counts,
    dump,
    sent_mail_headers,
)

pytestmark = pytest.mark.django_db(transaction=False)
API = "/chat/api/pk_spar"


def post(path: str, body: bytes, content_type: str = "application/json", origin: str = SHOP, **extra: Any) -> Any:
    return Client().generic("POST", path, body, content_type=content_type, HTTP_ORIGIN=origin, **extra)


def started(chat: Chat, **data: Any) -> str:
    response = post(f"{API}/sessions", dump({**FORM, **data}))
    assert response.status_code == 201, response.content
    return str(response.json()["token"])


@EXAMPLES
@given(body=JSON_VALUES)
def test_start_with_any_json_is_refused_cleanly(chat: Chat, body: Any) -> None:
    before = counts()
    response = post(f"{API}/sessions", dump(body))
    assert_json_error(response)
    assert counts() == before


@EXAMPLES
@given(field=st.sampled_from(["name", "email", "phone", "topic", "consent", "language", "page_url", "text"]),
       value=st.one_of(JSON_VALUES, NASTY))
def test_start_with_a_wrong_field_never_fails_or_half_writes(chat: Chat, field: str, value: Any) -> None:
    before = counts()
    response = post(f"{API}/sessions", dump({**FORM, field: value}))
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 201:
        assert_json_error(response)
        assert counts() == before


@EXAMPLES
@given(raw=st.one_of(st.binary(max_size=200), st.sampled_from([
    b"\xff\xfe{", b'{"name": "\xc3\x28"}', b'{"name": "\\ud800"}', b"{" * 5000, b"[" * 100_000,
    b'{"name":' + b"9" * 5000 + b"}", b"\x00", b"", b"null", b'"string"', b"1e999999"])),
       content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data; boundary=x",
                                     "application/x-www-form-urlencoded", "", "application/json; charset=latin-1"]))
def test_start_with_garbage_bytes(chat: Chat, raw: bytes, content_type: str) -> None:
    before = counts()
    response = post(f"{API}/sessions", raw, content_type=content_type)
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 201:
        assert_json_error(response)
        assert counts() == before


@FEW
@given(method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "HEAD", "TRACE"]),
       endpoint=st.sampled_from(["sessions", "sessions/TOKEN/files", "sessions/TOKEN/transcript",
                                 "sessions/TOKEN/rating", "config"]))
def test_wrong_methods(chat: Chat, method: str, endpoint: str) -> None:
    token = started(chat)
    before = counts()
    response = Client().generic(method, f"{API}/{endpoint.replace('TOKEN', token)}", b"{}",
                                content_type="application/json", HTTP_ORIGIN=SHOP)
    if endpoint == "config" and method == "GET":
        assert response.status_code == 200
    else:
        assert response.status_code == 405
        if method != "HEAD":
            assert_json_error(response)
    assert counts() == before


@EXAMPLES
@given(key=st.one_of(TEXT, st.just("pk_bieda")).filter(lambda k: k != "pk_spar"),
       token=st.one_of(TEXT, st.just("")))
def test_unknown_keys_and_tokens(chat: Chat, key: str, token: str) -> None:
    from urllib.parse import quote

    before = counts()
    # lone surrogates go out as the (invalid UTF-8) bytes a hostile client can put in a URL
    key_part = quote(key.encode("utf-8", "surrogatepass"), safe="") or "x"
    token_part = quote(token.encode("utf-8", "surrogatepass"), safe="") or "x"
    client = Client()
    for response in (client.get(f"/chat/api/{key_part}/config", HTTP_ORIGIN=SHOP),
                     post(f"/chat/api/{key_part}/sessions", dump(FORM)),
                     post(f"{API}/sessions/{token_part}/rating", dump({"score": 5})),
                     post(f"{API}/sessions/{token_part}/transcript", dump({"email": "a@b.example"})),
                     client.get(f"{API}/sessions/{token_part}/files/1", HTTP_ORIGIN=SHOP)):
        if response.status_code == 404 and not response["Content-Type"].startswith("application/json"):
            continue  # the URL did not resolve at all (a "/" in the key): Django's own 404
        assert_json_error(response)
    assert counts() == before


@EXAMPLES
@given(origin=st.one_of(TEXT, st.sampled_from([
    "https://shop.example.evil.com", "https://evilshop.example", "http://shop.example", "https://spar.example",
    "https://a.spar.example.evil", "null", "https://shop.example:444", "https://shop.example\r\nX: y",
    "HTTPS://SHOP.EXAMPLE/", "file://", "https://xspar.example"])))
def test_spoofed_origins_are_refused(chat: Chat, origin: str) -> None:
    before = counts()
    response = post(f"{API}/sessions", dump(FORM), origin=origin)
    if response.status_code == 201 and not origin:  # no Origin: not a browser's cross-site call, no CORS
        assert "Access-Control-Allow-Origin" not in response
        return
    if response.status_code == 201:  # only an allowed origin may start a chat, and gets CORS for itself only
        assert response["Access-Control-Allow-Origin"] == origin
        return
    body = assert_json_error(response)
    assert body["error"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert counts() == before


@EXAMPLES
@given(email=st.one_of(NASTY, st.sampled_from([
    "a@b.example\r\nBcc: evil@example.com", "a@b.example\nSubject: hi", "\"a\r\nb\"@b.example",
    "a@b.example, c@d.example", "a@b.example\x00", "<a@b.example>", "=?utf-8?q?x?= <a@b.example>",
    "a@b.example%0d%0aBcc:x@y.example", "visitor@example.com"]), st.text(max_size=80)))
@example(email="visitor@example.com")  # one that is accepted: the mail really goes out
def test_transcript_email_header_injection(chat: Chat, email: str) -> None:
    token = started(chat)
    mail.outbox.clear()
    response = post(f"{API}/sessions/{token}/transcript", dump({"email": email}))
    assert response.status_code < 500
    if response.status_code != 202:
        assert_json_error(response)
    headers = sent_mail_headers()
    if response.status_code == 202:  # accepted: the transcript went out, to one clean address
        assert headers
        assert [v for n, v in headers if n == "To"] == [email.strip().lower()]
    assert_no_injected_headers(headers)


@EXAMPLES
@given(body=JSON_VALUES)
def test_rating_with_any_json(chat: Chat, body: Any) -> None:
    token = started(chat)
    before = counts()
    response = post(f"{API}/sessions/{token}/rating", dump(body))
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 200:
        assert_json_error(response)
        assert counts() == before


@EXAMPLES
@given(payload=XSS)
def test_xss_in_the_prechat_form_is_not_echoed_raw(chat: Chat, payload: str) -> None:
    response = post(f"{API}/sessions", dump({**FORM, "name": payload, "text": payload, "topic": payload}))
    assert payload.encode() not in response.content
    config = Client().get(f"{API}/config", HTTP_ORIGIN=SHOP, QUERY_STRING=f"lang={payload}")
    assert config.status_code == 200
    assert payload.encode() not in config.content


@FEW
@given(name=st.one_of(NASTY, st.sampled_from([
    "../../../etc/passwd", "..\\..\\windows\\win.ini", "a\r\nContent-Type: text/html", "x" * 1000 + ".png",
    "\u202egnp.exe", "photo\x00.png", "/abs/path.png", "CON", ".htaccess", "ünïcødé 照片.png", "", "\"quoted\".png",
    "<script>.png"])),
       content=st.sampled_from([b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, b"<html><script>alert(1)</script>", b""]),
       content_type=st.sampled_from(["image/png", "text/html", "image/svg+xml", "application/octet-stream", ""]))
def test_uploads_with_odd_filenames(chat: Chat, name: str, content: bytes, content_type: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    token = started(chat)
    before = counts()
    upload = SimpleUploadedFile(name or "f", content, content_type=content_type)
    upload.name = name  # as sent, not cleaned by the test client
    response = Client().post(f"{API}/sessions/{token}/files", {"file": upload, "client_id": "c1"}, HTTP_ORIGIN=SHOP)
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 201:
        assert_json_error(response)
        assert counts() == before
        return
    seq = response.json()["message"]["seq"]
    download = Client().get(f"{API}/sessions/{token}/files/{seq}", HTTP_ORIGIN=SHOP)
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    disposition = download["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition.split("filename")[-1]
    if not download["Content-Type"].startswith("image/"):
        assert download["Content-Type"] == "application/octet-stream"
        assert disposition.startswith("attachment")


def test_oversized_upload_is_refused_without_a_row(chat: Chat, settings: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.LINIA_CHAT_MAX_FILE_BYTES = 1024
    token = started(chat)
    before = counts()
    upload = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000, content_type="image/png")
    response = Client().post(f"{API}/sessions/{token}/files", {"file": upload}, HTTP_ORIGIN=SHOP)
    assert assert_json_error(response)["error"] == "file_too_large"
    assert counts() == before


def test_body_over_the_request_limit_is_a_json_413(chat: Chat, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = counts()
    response = post(f"{API}/sessions", dump({**FORM, "text": "x" * 5000}))
    assert assert_json_error(response)["error"] == "too_large"
    assert counts() == before


def test_cors_preflight_only_for_allowed_origins(chat: Chat) -> None:
    ok = Client().options(f"{API}/sessions", HTTP_ORIGIN=SHOP)
    assert ok.status_code == 204 and ok["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in ok["Vary"]
    bad = Client().options(f"{API}/sessions", HTTP_ORIGIN="https://evil.example")
    assert_json_error(bad)
    assert "Access-Control-Allow-Origin" not in bad
    assert "Access-Control-Allow-Credentials" not in ok  # the API never uses cookies
