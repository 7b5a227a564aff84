"""Bad input of every kind gets a 4xx in the one error format, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.api.conftest import Api, World, error_of

from linia.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _err(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:400])
    assert response["Content-Type"].startswith("application/json")
    err = error_of(response)
    if code is not None:
        assert err["code"] == code, err
    return err


@pytest.mark.parametrize("raw", [
    b'{"subject": ', b"{'subject': 'x'}", b"\xff\xfe\x00", b'{"subject": "x", "channel": NaN}',
    b'{"subject": "x", "channel": "call", "custom_fields": {"n": Infinity}}', b"[" * 100_000,
    b'{"subject": "x", "channel": "call", "custom_fields": {"n": 1e999}}',
])
def test_malformed_json_is_400(world: World, raw: bytes) -> None:
    err = _err(world.a.api.post("tickets", raw=raw), 400, "malformed_json")
    assert "JSON" in err["message"]


@pytest.mark.parametrize("body", [[], [1, 2], "ticket", 42, None])
def test_json_that_is_not_an_object_is_422(world: World, body: Any) -> None:
    _err(world.a.api.post("tickets", raw=json.dumps(body)), 422, "invalid_request")


def test_empty_body_is_422(world: World) -> None:
    err = _err(world.a.api.post("tickets", raw=b""), 422, "invalid_request")
    assert "body" in err["fields"]


def test_missing_fields_are_named(world: World) -> None:
    err = _err(world.a.api.post("tickets", {}), 422, "invalid_request")
    assert {"subject", "channel"} <= set(err["fields"])
    err = _err(world.a.api.post("products", {"name": "x"}), 422)
    assert set(err["fields"]) == {"sku"}


@pytest.mark.parametrize(("body", "field"), [
    ({"subject": 123, "channel": "call"}, "subject"),
    ({"subject": "x", "channel": 5}, "channel"),
    ({"subject": "x", "channel": "call", "category_id": "abc"}, "category_id"),
    ({"subject": "x", "channel": "call", "category_id": 10**30}, "category_id"),
    ({"subject": "x", "channel": "call", "category_id": -3}, "category_id"),
    ({"subject": "x", "channel": "call", "tags": "milk"}, "tags"),
    ({"subject": "x", "channel": "call", "tags": [{"a": 1}]}, "tags.0"),
    ({"subject": "x", "channel": "call", "custom_fields": []}, "custom_fields"),
    ({"subject": "x", "channel": "call", "contact": "Jan"}, "contact"),
    ({"subject": "x", "channel": "call", "contact": {"phone": 12}}, "contact.phone"),
    ({"subject": "", "channel": "call"}, "subject"),
    ({"subject": "x" * 301, "channel": "call"}, "subject"),
    ({"subject": "a\x00b", "channel": "call"}, "subject"),
    ({"subject": "\ud800", "channel": "call"}, "subject"),
    ({"subject": "x", "channel": "call", "tags": ["\udfff"]}, "tags"),
    ({"subject": "x", "channel": "pigeon"}, "channel"),
    ({"subject": "x", "channel": "call", "priority": "asap"}, "priority"),
    ({"subject": "x", "channel": "call", "language": "xx"}, "language"),
])
def test_wrong_types_and_unknown_enums_are_422(world: World, body: dict[str, Any], field: str) -> None:
    err = _err(world.a.api.post("tickets", body), 422)
    assert field in err["fields"], err
    assert Ticket.objects.filter(tenant=world.a.tenant).count() == 2


def test_unknown_status_and_kind_values(world: World) -> None:
    a = world.a
    err = _err(a.api.post(f"tickets/{a.ticket.pk}/status", {"status": "done"}), 422)
    assert "status" in err["fields"]
    err = _err(a.api.post(f"tickets/{a.ticket.pk}/messages", {"body": "x", "kind": "shout"}), 422)
    assert "kind" in err["fields"]
    err = _err(a.api.post(f"tickets/{a.ticket.pk}/messages", {"body": ""}), 422)
    assert "body" in err["fields"]


def test_invalid_status_transition_says_what_is_allowed(world: World) -> None:
    a = world.a
    assert a.api.post(f"tickets/{a.ticket.pk}/status", {"status": "closed"}).status_code == 200
    err = _err(a.api.post(f"tickets/{a.ticket.pk}/status", {"status": "open"}), 400, "invalid_transition")
    assert "closed" in err["message"] and "open" in err["message"]
    assert err["fields"]["status"]


def test_invalid_merges_are_400(world: World) -> None:
    a = world.a
    err = _err(a.api.post(f"tickets/{a.ticket.pk}/merge", {"into_id": a.ticket.pk}), 400, "invalid_merge")
    assert "itself" in err["message"]
    a.api.post(f"tickets/{a.other_ticket.pk}/status", {"status": "closed"})
    _err(a.api.post(f"tickets/{a.ticket.pk}/merge", {"into_id": a.other_ticket.pk}), 400, "invalid_merge")


def test_invalid_custom_fields_are_422_with_fields(world: World) -> None:
    a = world.a
    err = _err(a.api.post("tickets", {"subject": "x", "channel": "call", "category_id": a.category.pk,
                                      "custom_fields": {"receipt_no": "1", "amount": "lots"}}),
               422, "invalid_custom_fields")
    assert {"custom_fields.receipt_no", "custom_fields.amount"} <= set(err["fields"])
    err = _err(a.api.patch(f"tickets/{a.ticket.pk}", {"custom_fields": {}}), 422, "invalid_custom_fields")
    assert "custom_fields.receipt_no" in err["fields"]
    assert Ticket.objects.get(pk=a.ticket.pk).custom_fields == {"receipt_no": "R-123"}


def test_patch_with_unknown_or_empty_values(world: World) -> None:
    a = world.a
    err = _err(a.api.patch(f"tickets/{a.ticket.pk}", {"subject": "   "}), 422)
    assert "subject" in err["fields"]
    assert a.api.patch(f"tickets/{a.ticket.pk}", {"no_such_field": 1}).status_code == 200  # ignored
    assert a.api.patch(f"tickets/{a.ticket.pk}", {}).json()["subject"] == a.ticket.subject
    err = _err(a.api.patch(f"contacts/{a.contact.pk}", {"phones": ["not a phone"]}), 422, "invalid_contact")
    assert "phones" in err["fields"]
    err = _err(a.api.patch(f"contacts/{a.contact.pk}", {"emails": ["nope@"]}), 422, "invalid_contact")
    assert "emails" in err["fields"]


def test_huge_body_is_413(world: World, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    body = {"subject": "x", "channel": "call", "body": "ы" * 60_000}
    _err(world.a.api.post("tickets", body), 413, "too_large")
    rows = [{"store_code": "S", "sku": "K", "quantity": 1}] * 5_000
    _err(world.a.api.post("stock/bulk", {"rows": rows}), 413, "too_large")


def test_huge_upload_is_413_and_big_file_is_refused(world: World, settings: Any) -> None:
    a = world.a
    settings.LINIA_ATTACHMENT_MAX_BYTES = 1000
    big = SimpleUploadedFile("big.pdf", b"0" * (1024 * 1024 + 5000))
    _err(a.api.upload(f"tickets/{a.ticket.pk}/attachments", {"file": big}), 413, "too_large")
    over = SimpleUploadedFile("over.pdf", b"0" * 2000)
    err = _err(a.api.upload(f"tickets/{a.ticket.pk}/attachments", {"file": over}), 422, "attachment_too_large")
    assert "attachments" in err["fields"]


def test_too_many_files(world: World) -> None:
    a = world.a
    files = [SimpleUploadedFile(f"f{i}.txt", b"x") for i in range(11)]
    err = _err(a.api.upload(f"tickets/{a.ticket.pk}/attachments", {"file": files}), 422)
    assert "file" in err["fields"]


@pytest.mark.parametrize("params", [
    {"limit": -1}, {"limit": 0}, {"limit": 201}, {"limit": 10**12}, {"limit": "abc"}, {"limit": "1e3"},
    {"offset": -1}, {"offset": 10**10}, {"offset": "x"},
])
def test_bad_pagination_is_422(world: World, params: dict[str, Any]) -> None:
    for path in ("tickets", "stores", "contacts", "products", f"tickets/{world.a.ticket.pk}/messages"):
        err = _err(world.a.api.get(path, params), 422, "invalid_request")
        assert set(err["fields"]) == set(params)


@pytest.mark.parametrize("params", [
    {"created_from": "yesterday"}, {"category_id": "x"}, {"assignee": "someone"}, {"open_only": "maybe"},
    {"order": "random"}, {"created_from": "2026-02-01", "created_to": "2026-01-01"}, {"store_id": "9" * 30},
])
def test_bad_ticket_filters_are_422(world: World, params: dict[str, str]) -> None:
    err = _err(world.a.api.get("tickets", params), 422, "invalid_filter")
    assert err["fields"]


@pytest.mark.parametrize("path", [
    "tickets/abc", "tickets/1.5", "tickets/%20", "stores/ten", "messages/1e5", "attachments/0x10/download",
])
def test_ids_that_are_not_numbers_are_422(world: World, path: str) -> None:
    _err(world.a.api.get(path), 422, "invalid_request")


@pytest.mark.parametrize("path", [
    "tickets/0", "tickets/-1", "tickets/99999999999999999999999", "stores/9223372036854775808",
    "contacts/-5", "messages/99999999999999999999", "attachments/18446744073709551616/download",
    "products/0", "departments/99999999999999999999", "categories/-1",
])
def test_out_of_range_ids_are_404(world: World, path: str) -> None:
    _err(world.a.api.get(path), 404, "not_found")


def test_out_of_range_ids_in_writes_are_404(world: World) -> None:
    a = world.a
    _err(a.api.patch("tickets/99999999999999999999999", {"subject": "x"}), 404)
    _err(a.api.delete("stores/99999999999999999999999"), 404)
    _err(a.api.post("tickets/99999999999999999999/status", {"status": "open"}), 404)


def test_nul_characters_are_refused(world: World) -> None:
    a = world.a
    _err(a.api.get("tickets", {"q": "milk\x00"}), 400, "invalid_value")
    _err(a.api.get("contacts", {"q": "\x00"}), 400, "invalid_value")
    err = _err(a.api.post("stores", {"code": "N\x00", "name": "x", "city": "y"}), 422)
    assert "code" in err["fields"]
    err = _err(a.api.post("tickets", {"subject": "x", "channel": "call", "custom_fields": {"k\x00": 1}}), 422)
    assert "custom_fields" in err["fields"]


def test_unicode_everywhere(world: World) -> None:
    a = world.a
    subject = "Жалоба 🥛 على الحليب 牛奶 — zażółć gęślą jaźń"
    r = a.api.post("tickets", {
        "subject": subject, "channel": "messenger", "body": "Текст 👍\u200d", "tags": ["молоко", "🥛"],
        "custom_fields": {"заметка": "да", "emoji": "🧾"},
        "contact": {"name": "Ёжик Ünal 李", "email": "Unal@Bücher.example"}})
    assert r.status_code == 201, r.content
    t = r.json()
    assert t["subject"] == subject and sorted(t["tags"]) == sorted(["молоко", "🥛"])
    assert t["custom_fields"]["заметка"] == "да"
    assert [x["id"] for x in a.api.get("tickets", {"tag": "молоко"}).json()["items"]] == [t["id"]]
    assert a.api.get("tickets", {"q": "牛奶 Жалоба"}).status_code == 200
    assert a.api.get("stores", {"q": "Жубр 🥛", "city": "Варшава"}).status_code == 200
    assert a.api.get("contacts", {"q": "Ёжик"}).json()["count"] == 1
    assert a.api.get("products", {"q": "Żubr"}).json()["count"] == 1
    assert "Жалоба" in a.api.get(f"tickets/{t['id']}").content.decode()


def test_unknown_route_and_method_are_json(world: World) -> None:
    a = world.a
    _err(a.api.get("no/such/thing"), 404, "not_found")
    _err(a.api.get("tickets/"), 404, "not_found")
    _err(Api(None).get("nowhere"), 404, "not_found")
    err = _err(a.api.delete("tickets"), 405, "method_not_allowed")
    assert "GET" in err["message"]
    _err(a.api.call("put", f"tickets/{a.ticket.pk}", {"subject": "x"}), 405)


def test_multipart_to_a_json_endpoint(world: World) -> None:
    a = world.a
    r = a.api.client.post("/api/v1/tickets", {"subject": "x", "channel": "call"}, **a.api.headers)
    assert r.status_code in (400, 422)
    error_of(r)


# --- property: arbitrary JSON never makes a 500 ------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
_ticket_keys = st.sampled_from(["subject", "channel", "body", "category_id", "store_id", "contact_id", "contact",
                                "priority", "tags", "custom_fields", "language", "external_id", "assignee_id",
                                "department_id", "queue", "status", "into_id", "kind", "rows", "skip_invalid",
                                "name", "phones", "emails", "sku", "code", "city", "time_zone", "opening_hours",
                                "quantity", "latitude"])
_bodies = st.one_of(_json, st.dictionaries(_ticket_keys, _json, max_size=6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies, target=st.sampled_from([
    ("post", "tickets"), ("patch", "tickets/{t}"), ("post", "tickets/{t}/status"), ("post", "tickets/{t}/merge"),
    ("post", "tickets/{t}/messages"), ("post", "contacts"), ("patch", "contacts/{c}"), ("post", "stores"),
    ("patch", "stores/{s}"), ("post", "products"), ("post", "stock/bulk"),
]))
def test_arbitrary_json_never_500(world: World, body: Any, target: tuple[str, str]) -> None:
    a = world.a
    method, path = target
    path = path.format(t=a.ticket.pk, c=a.contact.pk, s=a.store.pk)
    response = a.api.call(method, path, raw=json.dumps(body))
    assert response.status_code < 500, (method, path, body, response.content[:400])
    if response.status_code >= 400:
        error_of(response)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["q", "status", "priority", "channel", "category_id", "store_id",
                                                "assignee", "tag", "contact_id", "created_from", "created_to",
                                                "open_only", "order", "limit", "offset", "city", "open_now",
                                                "after", "kind", "sku"]),
                              st.text(max_size=20).filter(lambda s: "\x00" not in s), max_size=5),
       path=st.sampled_from(["tickets", "search", "stores", "contacts", "products", "stock", "events",
                             "promotions", "vacancies"]))
def test_arbitrary_query_params_never_500(world: World, params: dict[str, str], path: str) -> None:
    response = world.a.api.get(path, params)
    assert response.status_code < 500, (path, params, response.content[:400])
    if response.status_code >= 400:
        error_of(response)


def test_unexpected_errors_are_a_generic_logged_500(settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    from django.test import RequestFactory

    from linia.api.api import api

    settings.DEBUG = True  # even in debug mode no traceback goes to the client
    request = RequestFactory().get("/api/v1/tickets")
    with caplog.at_level("ERROR", logger="linia.api"):
        response = api.on_exception(request, RuntimeError("secret internals"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"
    assert b"secret" not in response.content and b"Traceback" not in response.content
    assert "secret internals" in caplog.text
