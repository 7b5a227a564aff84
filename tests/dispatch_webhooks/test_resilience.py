"""A dead receiver does not stall the others; disabled subscriptions wait; a killed worker's claim is retried."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from linia.dispatch import webhooks
from linia.dispatch.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from linia.tickets.events import emit
from tests.dispatch_webhooks.conftest import Side, pump, subscribe
from tests.dispatch_webhooks.receiver import free_port, running

pytestmark = pytest.mark.django_db


def test_an_unreachable_receiver_costs_one_attempt_per_backoff_step(sides: tuple[Side, Side],
                                                                    settings: Any) -> None:
    a, b = sides
    settings.WEBHOOKS_BACKOFF_BASE_SECONDS = 30  # nothing becomes due again during the test
    dead, _ = subscribe(a, f"http://127.0.0.1:{free_port()}/", ["*"])
    with running() as rx:
        healthy, secret = subscribe(b, rx.url(), ["*"])
        rx.secrets["/hook"] = secret
        for i in range(8):
            emit(a.tenant.pk, "ticket.updated", data={"i": i})
            emit(b.tenant.pk, "ticket.updated", data={"i": i})
        webhooks.enqueue()
        assert webhooks.deliver_due(limit=50) == 9  # one try at the dead receiver, all eight healthy ones
    attempts = list(WebhookDelivery.objects.filter(subscription=dead).values_list("attempts", flat=True))
    assert sorted(attempts) == [0] * 7 + [1]
    first = WebhookDelivery.objects.get(subscription=dead, attempts=1)
    held = WebhookDelivery.objects.filter(subscription=dead, attempts=0)
    assert {d.next_attempt_at for d in held} == {first.next_attempt_at}  # they wait for the first one's retry
    assert WebhookDelivery.objects.filter(subscription=healthy, status=DeliveryStatus.SUCCEEDED).count() == 8
    assert len(rx.ok()) == 8


def test_deliveries_of_a_disabled_subscription_wait_and_resume(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    with running() as rx:
        sub, secret = subscribe(a, rx.url(), ["*"])
        rx.secrets["/hook"] = secret
        emit(a.tenant.pk, "ticket.updated")
        webhooks.enqueue()
        sub.is_active = False
        sub.save()
        for _ in range(3):
            webhooks.tick()
        d = WebhookDelivery.objects.get(subscription=sub)
        assert d.status == DeliveryStatus.PENDING and d.attempts == 0 and rx.received == []
        emit(a.tenant.pk, "ticket.updated")  # while disabled: not queued
        webhooks.tick()
        sub.is_active = True
        sub.save()
        pump(lambda: WebhookDelivery.objects.filter(subscription=sub, status=DeliveryStatus.SUCCEEDED).count() == 1)
    assert len(rx.received) == 1 and WebhookDelivery.objects.filter(subscription=sub).count() == 1


def test_a_claim_of_a_killed_worker_is_retried_after_the_lease(sides: tuple[Side, Side], settings: Any) -> None:
    a, _b = sides
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    sub, _ = subscribe(a, "http://127.0.0.1:9/", ["*"])
    emit(a.tenant.pk, "ticket.updated")
    webhooks.enqueue()
    lost = webhooks.claim()  # the worker dies before sending: no outcome is ever recorded
    assert [c.attempt for c in lost] == [1]
    assert webhooks.claim() == []  # leased: nobody else sends it meanwhile
    later = timezone.now() + timedelta(seconds=webhooks.lease_seconds() + 1)
    again = webhooks.claim(now=later)
    assert [c.attempt for c in again] == [2] and again[0].token != lost[0].token
    webhooks.record(lost[0], webhooks.Outcome(status_code=200), started_at=later)  # the late first worker
    d = WebhookDelivery.objects.get(subscription=sub)
    assert d.status == DeliveryStatus.PENDING and d.claim_token == again[0].token  # its outcome does not count
    assert WebhookAttempt.objects.filter(delivery=d, number=1).exists()  # but it is in the log
    third = webhooks.claim(now=later + timedelta(seconds=webhooks.lease_seconds() + 1))
    assert [c.attempt for c in third] == [3]
    assert webhooks.claim(now=later + timedelta(seconds=2 * webhooks.lease_seconds() + 5)) == []
    d.refresh_from_db()
    assert d.status == DeliveryStatus.DEAD  # attempts used up without an answer: dead, not forever pending


def test_responses_with_nul_bytes_are_logged(sides: tuple[Side, Side], settings: Any) -> None:
    a, _b = sides
    settings.WEBHOOKS_MAX_ATTEMPTS = 1

    class Nul(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b"broken\x00answer \xff\xfe"
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Nul)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sub, _ = subscribe(a, f"http://127.0.0.1:{server.server_address[1]}/", ["*"])
        emit(a.tenant.pk, "ticket.updated")
        pump(lambda: WebhookDelivery.objects.filter(subscription=sub, status=DeliveryStatus.DEAD).exists())
    finally:
        server.shutdown()
        server.server_close()
    d = WebhookDelivery.objects.get(subscription=sub)
    assert d.last_status_code == 500 and d.last_response.startswith("broken") and "\x00" not in d.last_response


def test_old_succeeded_deliveries_are_purged_dead_ones_stay(sides: tuple[Side, Side], settings: Any) -> None:
    a, _b = sides
    settings.WEBHOOKS_LOG_RETENTION_DAYS = 30
    sub, _ = subscribe(a, "http://127.0.0.1:9/", ["*"])
    now = timezone.now()
    rows = {}
    for name, status, age in (("old_ok", DeliveryStatus.SUCCEEDED, 31), ("new_ok", DeliveryStatus.SUCCEEDED, 29),
                              ("old_dead", DeliveryStatus.DEAD, 60)):
        event = emit(a.tenant.pk, "ticket.updated")
        rows[name] = WebhookDelivery.objects.create(tenant=a.tenant, subscription=sub, event=event,
                                                    event_type=event.kind, status=status,
                                                    delivered_at=now - timedelta(days=age))
        WebhookAttempt.objects.create(delivery=rows[name], number=1, started_at=now - timedelta(days=age))
    assert webhooks.purge_delivered(now=now) == 1
    left = set(WebhookDelivery.objects.values_list("id", flat=True))
    assert left == {rows["new_ok"].pk, rows["old_dead"].pk}
    assert not WebhookAttempt.objects.filter(delivery_id=rows["old_ok"].pk).exists()
    settings.WEBHOOKS_LOG_RETENTION_DAYS = 0  # 0: keep everything
    assert webhooks.purge_delivered(now=now + timedelta(days=365)) == 0
