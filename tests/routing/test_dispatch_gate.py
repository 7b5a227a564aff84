"""Dispatches asked for after a change share passes within a process: a request that comes while another
thread's pass waits for the tenant's routing lock is served by that pass (its change was committed before
the pass took the lock), the requester does not queue on the lock too, and no request is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from linia.routing import actions, dispatcher
from linia.routing.locks import lock_tenant
from linia.routing.models import AgentProfile, Reservation, ReservationStatus, TaskStatus
from tests import factories
from tests.routing.helpers import agent, queue, status, task

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(work: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.02)


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        row = cursor.fetchone()
    return bool(row and row[0])


def test_a_request_while_a_pass_waits_for_the_lock_is_served_by_that_pass(monkeypatch: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks: SQLite has one writer, so a pass never waits for another")
    t = factories.tenant("acme")
    q = queue(t)
    longest_idle, next_idle = agent(t, idle_minutes=10), agent(t, idle_minutes=5)
    passes: list[int] = []
    real_offer = dispatcher._offer

    def counted_offer(*args: Any, **kwargs: Any) -> Any:
        passes.append(1)
        return real_offer(*args, **kwargs)

    monkeypatch.setattr(dispatcher, "_offer", counted_offer)
    held, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # e.g. another process's dispatch of this tenant
        with transaction.atomic():
            lock_tenant(t.pk)
            held.set()
            release.wait(30)

    holder = _in_thread(hold_the_lock)
    assert held.wait(10)
    first = task(t, q)
    runner = _in_thread(lambda: actions.dispatch_after_change([t.pk]))
    _until(_someone_waits_for_a_lock, "the first request's pass to wait for the tenant's lock")

    second = task(t, q)
    asked = time.monotonic()
    actions.dispatch_after_change([t.pk])
    assert time.monotonic() - asked < 5  # returned at once: it did not queue behind the lock
    assert (status(first), status(second)) == (TaskStatus.QUEUED, TaskStatus.QUEUED)

    release.set()
    holder.join(30)
    runner.join(30)
    assert not holder.is_alive() and not runner.is_alive()
    assert (status(first), status(second)) == (TaskStatus.RESERVED, TaskStatus.RESERVED)
    offers = dict(Reservation.objects.filter(status=ReservationStatus.PENDING).values_list("task_id", "agent_id"))
    assert offers == {first.pk: longest_idle.pk, second.pk: next_idle.pk}  # oldest task, longest idle agent
    assert len(passes) == 1  # the second request came before the pass took the lock: no second pass


def test_a_request_during_a_timers_only_pass_gets_an_offers_pass(monkeypatch: Any) -> None:
    """A pass that only ends a due wrap-up reads no waiting tasks: a request that came meanwhile is not served
    by it, so the runner goes round once more and offers the new task."""
    if connection.vendor != "postgresql":
        pytest.skip("another thread writes while this one is in a transaction: SQLite would make it wait")
    t = factories.tenant("acme")
    q = queue(t)
    agent(t, presence="wrap_up", wrapup_until=timezone.now() - timedelta(seconds=1))  # a timer is due
    ready = agent(t, idle_minutes=5)
    added: list[Any] = []
    real_lock = dispatcher.lock_tenant

    def lock_after_a_change(tenant_id: int) -> None:
        if not added:  # meanwhile, another thread of this process adds a call and asks for a dispatch
            def another_request() -> None:
                added.append(task(t, q))
                actions.dispatch_after_change([t.pk])  # a pass is running: left to it

            _in_thread(another_request).join(30)
        real_lock(tenant_id)

    monkeypatch.setattr(dispatcher, "lock_tenant", lock_after_a_change)
    actions.dispatch_after_change([t.pk])  # nothing waits yet: only the wrap-up to end
    assert status(added[0]) == TaskStatus.RESERVED
    assert Reservation.objects.filter(task=added[0], status=ReservationStatus.PENDING).count() == 1
    assert AgentProfile.objects.get(user=ready).presence == "available"


def test_a_failed_pass_leaves_the_next_request_its_own(monkeypatch: Any, caplog: Any) -> None:
    t = factories.tenant("acme")
    q = queue(t)
    a = agent(t)
    real_dispatch = dispatcher._dispatch

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(dispatcher, "_dispatch", broken)
    waiting = task(t, q)
    actions.dispatch_after_change([t.pk])  # logged, not raised: the change itself is committed
    assert "dispatch after a change failed" in caplog.text
    assert status(waiting) == TaskStatus.QUEUED

    monkeypatch.setattr(dispatcher, "_dispatch", real_dispatch)
    actions.dispatch_after_change([t.pk])  # not swallowed by a pass that is no longer running
    assert status(waiting) == TaskStatus.RESERVED
    assert Reservation.objects.get(task=waiting).agent_id == a.pk


def test_inside_a_transaction_the_change_is_dispatched_by_its_own_connection() -> None:
    t = factories.tenant("acme")
    q = queue(t)
    a = agent(t)
    gate = dispatcher._gate(t.pk)
    gate.running = True  # another thread's pass: it could not see this uncommitted task
    try:
        with transaction.atomic():
            waiting = task(t, q)
            actions.dispatch_after_change([t.pk])
            assert status(waiting) == TaskStatus.RESERVED
    finally:
        gate.running = False
    assert Reservation.objects.get(task=waiting).agent_id == a.pk
