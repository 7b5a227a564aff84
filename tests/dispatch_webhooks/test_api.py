"""/api/v1/webhooks: subscriptions, secret shown once, permissions, tenant scoping, bad input (SSRF guard)."""

from __future__ import annotations

from typing import Any

import pytest

from linia.core.actions import create_api_token
from linia.core.models import AuditLog, Role
from linia.dispatch import crypto
from linia.dispatch.models import WebhookSubscription
from tests import factories as f
from tests.api.conftest import Api, error_of
from tests.dispatch_webhooks.conftest import Side, subscribe

pytestmark = pytest.mark.django_db


def test_create_list_get_patch_rotate_delete(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    r = a.api.post("webhooks", {"url": "http://127.0.0.1:9/hook", "event_types": ["ticket.created", "task.*"],
                                "name": "CRM"})
    assert r.status_code == 201, r.content
    body = r.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    sub = WebhookSubscription.objects.get(pk=body["id"])
    assert sub.tenant == a.tenant and sub.created_by == a.boss
    assert secret not in sub.secret_encrypted and crypto.decrypt(sub.secret_encrypted) == secret  # encrypted at rest
    got = a.api.get(f"webhooks/{sub.pk}").json()
    assert "secret" not in got and got["event_types"] == ["ticket.created", "task.*"] and got["deliveries"] == {}
    listed = a.api.get("webhooks").json()
    assert listed["count"] == 1 and "secret" not in listed["items"][0]
    r = a.api.patch(f"webhooks/{sub.pk}", {"is_active": False, "event_types": ["*"]})
    assert r.status_code == 200 and r.json()["is_active"] is False and r.json()["event_types"] == ["*"]
    r = a.api.post(f"webhooks/{sub.pk}/rotate-secret")
    assert r.status_code == 200 and r.json()["secret"] != secret
    sub.refresh_from_db()
    assert crypto.decrypt(sub.secret_encrypted) == r.json()["secret"]
    assert a.api.delete(f"webhooks/{sub.pk}").status_code == 204
    assert not WebhookSubscription.objects.filter(pk=sub.pk).exists()
    actions = list(AuditLog.objects.filter(tenant=a.tenant, object_type="dispatch.webhooksubscription")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["create", "update", "webhook.rotate_secret", "delete"]
    assert not AuditLog.objects.filter(changes__icontains=secret).exists()


def test_other_tenants_webhooks_look_missing(sides: tuple[Side, Side]) -> None:
    a, b = sides
    sub, _ = subscribe(b, "http://127.0.0.1:9/b")
    assert a.api.get("webhooks").json()["count"] == 0
    for call in (lambda: a.api.get(f"webhooks/{sub.pk}"), lambda: a.api.patch(f"webhooks/{sub.pk}", {"name": "x"}),
                 lambda: a.api.delete(f"webhooks/{sub.pk}"), lambda: a.api.get(f"webhooks/{sub.pk}/deliveries"),
                 lambda: a.api.post(f"webhooks/{sub.pk}/replay"), lambda: a.api.post(f"webhooks/{sub.pk}/rotate-secret")):
        r = call()
        assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    assert WebhookSubscription.objects.get(pk=sub.pk).name == ""


@pytest.mark.parametrize("role", [Role.AGENT, Role.CLIENT_STAFF, Role.STORE_STAFF])
def test_only_supervisors_manage_webhooks(sides: tuple[Side, Side], role: str) -> None:
    a, _b = sides
    store = f.store(a.tenant) if role == Role.STORE_STAFF else None
    user = f.user(tenant=a.tenant, role=role, store=store)
    raw, _ = create_api_token(None, a.tenant, user)
    api = Api(raw)
    for r in (api.get("webhooks"), api.post("webhooks", {"url": "http://127.0.0.1:9/", "event_types": ["*"]})):
        assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    assert not WebhookSubscription.objects.exists()
    assert Api(None).get("webhooks").status_code == 401


BAD_URLS = [
    ("ftp://example.com/hook", "only http:// and https://"),
    ("javascript:alert(1)", "only http:// and https://"),
    ("http://", "no host"),
    ("http://user:pw@127.0.0.1/", "credentials"),
    ("http://127.0.0.1:99999/", "not a valid URL"),
    ("http://exa mple.com/", "spaces"),
    ("", "enter the receiver"),
    ("https://пример.рф/hook", "percent-encoded"),
    ("https://example.com/żółw", "percent-encoded"),
]
PRIVATE_URLS = ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/", "http://192.168.0.10/",
                "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
                "http://0.0.0.0/", "https://100.64.0.1/", "http://2130706433/"]


@pytest.mark.parametrize(("url", "message"), BAD_URLS)
def test_bad_urls_are_4xx_with_a_message(sides: tuple[Side, Side], url: str, message: str) -> None:
    a, _b = sides
    r = a.api.post("webhooks", {"url": url, "event_types": ["*"]})
    assert r.status_code == 422, r.content  # the API's status for field errors of an action
    err = error_of(r)
    assert err["code"] == "invalid_webhook" and message in err["fields"]["url"][0] and message in err["message"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_and_loopback_addresses_are_refused_by_default(sides: tuple[Side, Side], settings: Any,
                                                               url: str) -> None:
    a, _b = sides
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    r = a.api.post("webhooks", {"url": url, "event_types": ["*"]})
    assert r.status_code == 422, (url, r.content)
    assert "private, loopback or reserved" in error_of(r)["fields"]["url"][0]
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    assert a.api.post("webhooks", {"url": "http://127.0.0.1:9/ok", "event_types": ["*"]}).status_code == 201
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    r = a.api.patch(f"webhooks/{WebhookSubscription.objects.get().pk}", {"url": url})
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_webhook"


@pytest.mark.parametrize(("types", "status"), [
    ([], 422), (["ticket created"], 422), (["Ticket.Created"], 422), (["ticket.*.x"], 422), (["**"], 422),
    ([""], 422), (["x"] * 51, 422), ("ticket.created", 422), ([1], 422), (None, 422),
])
def test_bad_event_types(sides: tuple[Side, Side], types: Any, status: int) -> None:
    a, _b = sides
    r = a.api.post("webhooks", {"url": "http://127.0.0.1:9/", "event_types": types})
    assert r.status_code == status, r.content
    assert error_of(r)["fields"]
    assert not WebhookSubscription.objects.exists()


def test_missing_fields_and_wrong_types(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    for body in ({}, {"url": "http://127.0.0.1:9/"}, {"event_types": ["*"]}, [], "x",
                 {"url": 5, "event_types": ["*"]}, {"url": "http://127.0.0.1:9/", "event_types": ["*"], "is_active": "maybe"},
                 {"url": "http://127.0.0.1:9/" + "a" * 600, "event_types": ["*"]}):
        r = a.api.post("webhooks", body)
        assert r.status_code in {400, 422}, (body, r.content)
        error_of(r)
    assert a.api.post("webhooks", raw=b"{not json").status_code == 400
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(("language", "words"), [("ru", "вебхуки принимают только"), ("pl", "webhooki mogą trafiać")])
def test_errors_speak_the_callers_language(sides: tuple[Side, Side], language: str, words: str) -> None:
    a, _b = sides
    r = a.api.post("webhooks", {"url": "ftp://example.com/", "event_types": ["*"]}, HTTP_ACCEPT_LANGUAGE=language)
    assert r.status_code == 422 and words in error_of(r)["fields"]["url"][0]
