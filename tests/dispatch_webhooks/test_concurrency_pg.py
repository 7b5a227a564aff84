"""Two delivery workers at once on PostgreSQL never send the same attempt twice; a late commit is not skipped."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from linia.dispatch import webhooks
from linia.dispatch.models import DeliveryStatus, WebhookDelivery
from linia.tickets.events import emit
from tests.dispatch_webhooks.conftest import Side, subscribe
from tests.dispatch_webhooks.receiver import running

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.postgres,
              pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel workers need PostgreSQL")]


def _workers(n: int, loops_until_done: Any) -> list[int]:
    barrier = threading.Barrier(n)
    done: list[int] = [0] * n
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            done[i] = loops_until_done()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return done


def _drain() -> int:
    attempts = 0
    idle = 0
    while idle < 20:
        n = webhooks.deliver_due(limit=3)
        attempts += n
        idle = 0 if n else idle + 1
        if not n:
            pending = WebhookDelivery.objects.exclude(status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.DEAD])
            if not pending.exists():
                return attempts
            threading.Event().wait(0.05)
    return attempts


@pytest.mark.parametrize("flaky", [False, True])
def test_two_workers_never_send_the_same_attempt(sides: tuple[Side, Side], settings: Any, flaky: bool) -> None:
    a, _b = sides
    settings.WEBHOOKS_MAX_ATTEMPTS = 10
    plan = (["500", "ok", "ok"] * 40) if flaky else []
    with running(plan=plan, delay=0.01) as rx:
        sub, secret = subscribe(a, rx.url(), ["*"])
        rx.secrets["/hook"] = secret
        events = [emit(a.tenant.pk, "ticket.updated", data={"n": i}).pk for i in range(60)]
        webhooks.enqueue()
        assert WebhookDelivery.objects.filter(subscription=sub).count() == 60
        per_worker = _workers(2, _drain)
    assert all(n > 0 for n in per_worker), per_worker  # both workers really sent
    pairs = Counter((r.headers["X-Linia-Delivery-Id"], r.headers["X-Linia-Delivery-Attempt"]) for r in rx.received)
    assert max(pairs.values()) == 1, [p for p, c in pairs.items() if c > 1]
    assert sum(per_worker) == len(rx.received)
    assert set(rx.processed()) == set(events) and all(r.valid for r in rx.received)
    ok = Counter(r.event_id for r in rx.ok())
    assert set(ok.values()) == {1}  # every event answered 200 exactly once
    for d in WebhookDelivery.objects.filter(subscription=sub):
        assert d.status == DeliveryStatus.SUCCEEDED
        assert d.attempts == sum(1 for r in rx.received if r.headers["X-Linia-Delivery-Id"] == str(d.pk))
    if flaky:
        assert len(rx.received) > 60


@pytest.mark.parametrize("sequence_ahead", [False, True])
def test_an_event_that_commits_after_a_newer_one_is_still_delivered(sides: tuple[Side, Side],
                                                                    sequence_ahead: bool) -> None:
    a, _b = sides
    if sequence_ahead:  # the events table is empty but its id sequence went on (a purge, a restore)
        from linia.tickets.models import Event

        Event.objects.bulk_create([Event(tenant_id=a.tenant.pk, kind="x", created_at=timezone.now())
                                   for _ in range(1200)])
        Event.objects.all().delete()
    sub, _ = subscribe(a, "http://127.0.0.1:9/", ["*"])
    emitted = threading.Event()
    release = threading.Event()
    slow_id: list[int] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                slow_id.append(emit(a.tenant.pk, "ticket.updated", data={"slow": True}).pk)
                emitted.set()
                release.wait(30)
        finally:
            connection.close()

    t = threading.Thread(target=slow_writer)
    t.start()
    assert emitted.wait(30)
    fast = emit(a.tenant.pk, "ticket.updated", data={"fast": True}).pk
    assert fast > slow_id[0]
    webhooks.enqueue()
    assert list(WebhookDelivery.objects.values_list("event_id", flat=True)) == [fast]
    release.set()
    t.join(30)
    webhooks.enqueue()
    assert sorted(WebhookDelivery.objects.filter(subscription=sub).values_list("event_id", flat=True)) == \
        [slow_id[0], fast]
