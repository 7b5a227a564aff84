"""The webhook admin through real HTTP requests: supervisors only, tenant-scoped, secret once, replay."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from linia.core.models import AuditLog, Role, User
from linia.dispatch import crypto, webhooks
from linia.dispatch.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from linia.tickets.events import emit
from tests import factories as f
from tests.dispatch_webhooks.conftest import Side, subscribe

pytestmark = pytest.mark.django_db


def staff(side: Side, role: str = Role.SUPERVISOR) -> Client:
    user: User = side.boss if role == Role.SUPERVISOR else f.user(tenant=side.tenant, role=role)
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def dead_delivery(side: Side, sub: WebhookSubscription) -> WebhookDelivery:
    event = emit(side.tenant.pk, "ticket.updated")
    return WebhookDelivery.objects.create(tenant=side.tenant, subscription=sub, event=event, event_type=event.kind,
                                          status=DeliveryStatus.DEAD, attempts=6, last_error="HTTP 500")


def test_supervisor_adds_a_subscription_and_sees_the_secret_once(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    client = staff(a)
    r = client.post(reverse("admin:dispatch_webhooksubscription_add"),
                    {"name": "CRM", "url": "http://127.0.0.1:9/hook", "event_types": '["ticket.*"]',
                     "is_active": "on"}, follow=True)
    assert r.status_code == 200
    sub = WebhookSubscription.objects.get()
    secret = crypto.decrypt(sub.secret_encrypted)
    shown = [str(m) for m in get_messages(r.wsgi_request)]
    assert any(secret in m for m in shown), shown
    assert sub.tenant == a.tenant and sub.created_by == a.boss and sub.start_after_event_id == webhooks.current_event_id()
    page = client.get(reverse("admin:dispatch_webhooksubscription_change", args=[sub.pk]))
    assert page.status_code == 200 and secret.encode() not in page.content
    assert AuditLog.objects.filter(tenant=a.tenant, action="create", object_type="dispatch.webhooksubscription").exists()


@pytest.mark.parametrize(("url", "types", "error"), [
    ("ftp://x.example/", '["*"]', "only http:// and https://"),
    ("http://127.0.0.1:9/", '["no spaces allowed"]', "is not an event type"),
    ("http://127.0.0.1:9/", "[]", "at least one event type"),
])
def test_admin_form_rejects_bad_input(sides: tuple[Side, Side], url: str, types: str, error: str) -> None:
    a, _b = sides
    r = staff(a).post(reverse("admin:dispatch_webhooksubscription_add"),
                      {"url": url, "event_types": types, "is_active": "on"})
    assert r.status_code == 200 and error in r.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_admin_refuses_loopback_unless_allowed(sides: tuple[Side, Side], settings: Any) -> None:
    a, _b = sides
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    r = staff(a).post(reverse("admin:dispatch_webhooksubscription_add"),
                      {"url": "http://127.0.0.1:9/", "event_types": '["*"]', "is_active": "on"})
    assert r.status_code == 200 and "private, loopback or reserved" in r.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_delivery_log_is_tenant_scoped_and_replay_queues_dead_rows(sides: tuple[Side, Side]) -> None:
    a, b = sides
    sub_a, _ = subscribe(a, "http://127.0.0.1:9/a")
    sub_b, _ = subscribe(b, "http://127.0.0.1:9/b")
    dead_a, dead_b = dead_delivery(a, sub_a), dead_delivery(b, sub_b)
    client = staff(a)
    changelist = reverse("admin:dispatch_webhookdelivery_changelist")
    r = client.get(changelist)
    assert r.status_code == 200 and {d.pk for d in r.context["cl"].queryset} == {dead_a.pk}
    assert client.get(reverse("admin:dispatch_webhookdelivery_change", args=[dead_b.pk])).status_code == 404
    assert client.get(reverse("admin:dispatch_webhookdelivery_change", args=[dead_a.pk])).status_code == 200
    r = client.post(changelist, {"action": "replay", "_selected_action": [dead_a.pk, dead_b.pk]}, follow=True)
    assert r.status_code == 200
    dead_a.refresh_from_db()
    dead_b.refresh_from_db()
    assert dead_a.status == DeliveryStatus.PENDING and dead_a.attempts == 0
    assert dead_b.status == DeliveryStatus.DEAD  # another tenant's row is out of reach
    assert AuditLog.objects.filter(tenant=a.tenant, action="webhook.replay").exists()
    assert client.post(reverse("admin:dispatch_webhookdelivery_add")).status_code == 403  # a log, not a form


@pytest.mark.parametrize("role", [Role.AGENT, Role.CLIENT_STAFF])
def test_other_roles_do_not_get_in(sides: tuple[Side, Side], role: str) -> None:
    a, _b = sides
    client = staff(a, role)
    for name in ("admin:dispatch_webhooksubscription_changelist", "admin:dispatch_webhookdelivery_changelist"):
        assert client.get(reverse(name)).status_code == 403
