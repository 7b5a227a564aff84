"""Delivery to a real HTTP receiver: signatures, retries with backoff, dead letters, replay, dedupe, isolation."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core.management import call_command

from linia.dispatch import webhooks
from linia.dispatch.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from linia.dispatch.signing import signature
from linia.tickets.models import Event
from tests.dispatch_webhooks.conftest import Side, new_ticket, pump, subscribe
from tests.dispatch_webhooks.receiver import free_port, running

pytestmark = pytest.mark.django_db


def _delivery(sub: Any) -> WebhookDelivery:
    return WebhookDelivery.objects.get(subscription=sub)


def _status(sub: Any) -> str | None:
    """The status of the subscription's only delivery (None before it is queued)."""
    d = WebhookDelivery.objects.filter(subscription=sub).first()
    return d.status if d else None


def _attempts(sub: Any) -> int:
    d = WebhookDelivery.objects.filter(subscription=sub).first()
    return d.attempts if d else 0


def test_signed_payload_and_headers(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    with running() as rx:
        sub, secret = subscribe(a, rx.url(), ["ticket.created"])
        rx.secrets["/hook"] = secret
        ticket = new_ticket(a, "Kwaśne mleko")
        pump(lambda: len(rx.received) == 1)
    got = rx.received[0]
    event = Event.objects.get(tenant=a.tenant, kind="ticket.created", ticket=ticket)
    assert got.valid
    assert got.headers["X-Linia-Event-Id"] == str(event.pk)
    assert got.headers["Content-Type"].startswith("application/json")
    ts = int(got.headers["X-Linia-Timestamp"])
    assert abs(ts - time.time()) < 60
    assert got.headers["X-Linia-Signature"] == signature(secret, ts, got.body)
    body = json.loads(got.body.decode())
    assert body["id"] == event.pk and body["type"] == "ticket.created" and body["tenant"] == "alfa"
    assert body["created_at"].endswith("Z") and body["ticket_id"] == ticket.pk
    assert body["data"] == event.data
    d = _delivery(sub)
    assert d.status == DeliveryStatus.SUCCEEDED and d.attempts == 1 and d.last_status_code == 200
    assert d.delivered_at is not None and d.next_attempt_at is None


def test_failures_are_retried_with_growing_backoff_then_succeed(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    with running(plan=["500", "timeout", "close", "500"], hang_seconds=1.0) as rx:
        sub, secret = subscribe(a, rx.url(), ["ticket.created"])
        rx.secrets["/hook"] = secret
        new_ticket(a)
        pump(lambda: _status(sub) == DeliveryStatus.SUCCEEDED)
    d = _delivery(sub)
    assert d.attempts == 5 and [r.behaviour for r in rx.received] == ["500", "timeout", "close", "500", "ok"]
    assert all(r.valid for r in rx.received)
    assert len({r.event_id for r in rx.received}) == 1  # one event id, five attempts
    assert [r.headers["X-Linia-Delivery-Attempt"] for r in rx.received] == ["1", "2", "3", "4", "5"]
    log = list(WebhookAttempt.objects.filter(delivery=d).order_by("number"))
    assert [a.status_code for a in log] == [500, None, None, 500, 200]
    assert "timeout" in log[1].error and log[2].error and "HTTP 500" in log[0].error
    # exponential backoff with 50–100% jitter: the wait after attempt n is at least base·2^(n-1)/2
    arrivals = [r.at for r in rx.received]
    ends = [arrivals[0], arrivals[1] + 0.4, arrivals[2], arrivals[3]]  # the timeout ends 0.4 s after arrival
    for n, (end, nxt) in enumerate(zip(ends, arrivals[1:], strict=True), start=1):
        assert nxt - end >= 0.05 * 2 ** (n - 1) / 2 - 0.02, (n, nxt - end)


def test_connection_refused_then_receiver_comes_up(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    port = free_port()
    sub, secret = subscribe(a, f"http://127.0.0.1:{port}/hook", ["ticket.created"])
    new_ticket(a)
    pump(lambda: _attempts(sub) >= 2)
    d = _delivery(sub)
    assert d.status == DeliveryStatus.FAILED and "Refused" in d.last_error and d.last_status_code is None
    with running(port=port, secrets={"/hook": secret}) as rx:
        pump(lambda: _status(sub) == DeliveryStatus.SUCCEEDED)
    assert len(rx.received) == 1 and rx.received[0].valid


def test_backoff_schedule_is_capped_and_jittered(settings: Any) -> None:
    settings.WEBHOOKS_BACKOFF_BASE_SECONDS = 10
    settings.WEBHOOKS_BACKOFF_CAP_SECONDS = 3600
    import random

    rng = random.Random(5)
    for n, raw in [(1, 10), (2, 20), (3, 40), (8, 1280), (9, 2560), (10, 3600), (30, 3600)]:
        values = [webhooks.backoff_delay(n, rng=rng) for _ in range(200)]
        assert all(raw / 2 <= v <= raw for v in values), (n, min(values), max(values))
        assert max(values) - min(values) > raw / 10  # jitter spreads retries of many receivers


def test_dead_after_max_attempts_then_replay(sides: tuple[Side, Side], settings: Any) -> None:
    a, _b = sides
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    with running(default="500") as rx:
        sub, secret = subscribe(a, rx.url(), ["ticket.created"])
        rx.secrets["/hook"] = secret
        new_ticket(a)
        pump(lambda: _status(sub) == DeliveryStatus.DEAD)
        for _ in range(10):  # dead letters are not retried by the worker
            webhooks.tick()
        assert len(rx.received) == 3 and _delivery(sub).attempts == 3
        d = _delivery(sub)
        assert d.next_attempt_at is None and d.last_status_code == 500
        # the dead-letter list through the API
        listed = a.api.get(f"webhooks/{sub.pk}/deliveries", {"status": "dead"}).json()
        assert listed["count"] == 1 and listed["items"][0]["id"] == d.pk and listed["items"][0]["attempts"] == 3
        rx.default = "ok"
        call_command("webhooks", "replay", "--tenant", "alfa")
        assert _delivery(sub).status == DeliveryStatus.PENDING and _delivery(sub).attempts == 0
        pump(lambda: _status(sub) == DeliveryStatus.SUCCEEDED)
    assert [r.behaviour for r in rx.received] == ["500", "500", "500", "ok"]
    assert WebhookAttempt.objects.filter(delivery=d).count() == 4


def test_replay_through_the_api_touches_only_dead_rows(sides: tuple[Side, Side], settings: Any) -> None:
    a, _b = sides
    settings.WEBHOOKS_MAX_ATTEMPTS = 1
    with running(plan=["500"]) as rx:
        sub, secret = subscribe(a, rx.url(), ["ticket.created"])
        rx.secrets["/hook"] = secret
        new_ticket(a, "first")
        pump(lambda: _status(sub) == DeliveryStatus.DEAD)
        new_ticket(a, "second")
        pump(lambda: WebhookDelivery.objects.filter(subscription=sub, status=DeliveryStatus.SUCCEEDED).exists())
        response = a.api.post(f"webhooks/{sub.pk}/replay")
        assert response.status_code == 200 and response.json() == {"replayed": 1}
        assert a.api.post(f"webhooks/{sub.pk}/replay").json() == {"replayed": 0}
        pump(lambda: WebhookDelivery.objects.filter(subscription=sub, status=DeliveryStatus.SUCCEEDED).count() == 2)
    assert len(rx.processed()) == 2


def test_at_least_once_and_exactly_once_after_dedupe(sides: tuple[Side, Side], settings: Any) -> None:
    """The receiver processes an event and then fails (or times out): Linia sends it again; the
    receiver's dedupe by X-Linia-Event-Id keeps each event exactly once, and none is missing."""
    a, _b = sides
    settings.WEBHOOKS_MAX_ATTEMPTS = 30  # an unreachable receiver holds back the others: failures pile on one
    plan = ["ok-then-500", "500", "ok", "timeout", "close", "ok-then-500"] * 4
    with running(plan=plan, hang_seconds=0.6) as rx:
        sub, secret = subscribe(a, rx.url(), ["*"])
        rx.secrets["/hook"] = secret
        for i in range(12):
            new_ticket(a, f"ticket {i}")
        expected = set(Event.objects.filter(tenant=a.tenant, id__gt=sub.start_after_event_id)
                       .values_list("id", flat=True))
        pump(lambda: not WebhookDelivery.objects.filter(subscription=sub).exclude(
            status=DeliveryStatus.SUCCEEDED).exists() and
            WebhookDelivery.objects.filter(subscription=sub).count() == len(expected), timeout=40)
    kept = rx.processed()
    assert set(kept) == expected  # nothing lost, nothing foreign
    assert len([r for r in rx.received if r.valid]) > len(expected)  # some events really came twice
    for r in rx.received:  # every copy of an event is the same bytes, so deduping by id is safe
        assert r.valid and r.body == kept[r.event_id].body


def test_tenant_isolation(sides: tuple[Side, Side]) -> None:
    a, b = sides
    with running() as rx:
        sub_a, secret_a = subscribe(a, rx.url("/a"), ["*"])
        sub_b, secret_b = subscribe(b, rx.url("/b"), ["*"])
        rx.secrets.update({"/a": secret_a, "/b": secret_b})
        for i in range(3):
            new_ticket(a, f"A{i}")
            new_ticket(b, f"B{i}")
        total = Event.objects.filter(id__gt=min(sub_a.start_after_event_id, sub_b.start_after_event_id)).count()
        pump(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == total)
    events_a = set(Event.objects.filter(tenant=a.tenant, id__gt=sub_a.start_after_event_id).values_list("id", flat=True))
    events_b = set(Event.objects.filter(tenant=b.tenant, id__gt=sub_b.start_after_event_id).values_list("id", flat=True))
    got_a = {r.event_id for r in rx.received if r.path == "/a"}
    got_b = {r.event_id for r in rx.received if r.path == "/b"}
    assert got_a == events_a and got_b == events_b and not got_a & got_b
    assert all(r.valid for r in rx.received)
    assert {r.json["tenant"] for r in rx.received if r.path == "/a"} == {"alfa"}
    assert {r.json["tenant"] for r in rx.received if r.path == "/b"} == {"beta"}
    # b's secret does not verify a's deliveries
    from linia.dispatch.signing import verify_signature

    r = next(r for r in rx.received if r.path == "/a")
    assert not verify_signature(secret_b, r.headers["X-Linia-Timestamp"], r.body, r.headers["X-Linia-Signature"])


def test_patterns_history_and_inactive_subscriptions(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    old = new_ticket(a, "before the subscription")
    with running() as rx:
        only_created, s1 = subscribe(a, rx.url("/created"), ["ticket.created"])
        _tickets_all, s2 = subscribe(a, rx.url("/ticket"), ["ticket.*"])
        _messages, s3 = subscribe(a, rx.url("/msg"), ["message.created"])
        off, s4 = subscribe(a, rx.url("/off"), ["*"])
        off.is_active = False
        off.save()
        rx.secrets.update({"/created": s1, "/ticket": s2, "/msg": s3, "/off": s4})
        from linia.tickets import actions as tickets

        t = new_ticket(a, "after")
        tickets.change_status(a.boss, t, "open")
        tickets.add_message(a.boss, t, body="note", kind="note")
        newer = Event.objects.filter(tenant=a.tenant, id__gt=only_created.start_after_event_id)
        kinds = list(newer.values_list("kind", flat=True))
        want = {"/created": [k for k in kinds if k == "ticket.created"],
                "/ticket": [k for k in kinds if k.startswith("ticket.")],
                "/msg": [k for k in kinds if k == "message.created"]}
        assert want["/created"] and len(want["/ticket"]) > len(want["/created"]) and want["/msg"]
        n = sum(len(v) for v in want.values())
        pump(lambda: len(rx.received) >= n and not WebhookDelivery.objects.exclude(
            status=DeliveryStatus.SUCCEEDED).exists())
    for path, wanted in want.items():
        assert sorted(r.json["type"] for r in rx.received if r.path == path) == sorted(wanted), path
    assert not [r for r in rx.received if r.path == "/off"]
    assert not [r for r in rx.received if r.json["ticket_id"] == old.pk]  # history is not sent
    assert webhooks.matches(["task.*"], "task.ticket_linked") and not webhooks.matches(["task.*"], "tasks.x")
    assert not webhooks.matches(["ticket.created"], "ticket.created_x")


def test_refused_at_send_time_when_private_addresses_are_no_longer_allowed(sides: tuple[Side, Side],
                                                                           settings: Any) -> None:
    a, _b = sides
    settings.WEBHOOKS_MAX_ATTEMPTS = 1
    with running() as rx:
        sub, _secret = subscribe(a, rx.url(), ["ticket.created"])
        settings.WEBHOOKS_ALLOW_PRIVATE = False
        new_ticket(a)
        pump(lambda: _status(sub) == DeliveryStatus.DEAD)
    assert rx.received == [] and "refused" in _delivery(sub).last_error and "127.0.0.1" in _delivery(sub).last_error


def test_redirects_are_not_followed(sides: tuple[Side, Side], settings: Any) -> None:
    a, _b = sides
    settings.WEBHOOKS_MAX_ATTEMPTS = 1
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sub, _ = subscribe(a, f"http://127.0.0.1:{server.server_address[1]}/", ["ticket.created"])
        new_ticket(a)
        pump(lambda: _status(sub) == DeliveryStatus.DEAD)
    finally:
        server.shutdown()
        server.server_close()
    d = _delivery(sub)
    assert d.last_status_code == 307 and "redirects are not followed" in d.last_error
