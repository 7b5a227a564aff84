"""20 parallel workers dispatch, accept, decline, expire and complete on one tenant (PostgreSQL).

Afterwards the event log is replayed in id order (ids are taken under the routing locks, so they follow
the order of the changes): at no moment may an agent hold more than its capacity (accepted tasks plus
ringing offers) or two ringing offers on one channel, and no task may be accepted twice.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from linia.core.errors import ActionError
from linia.core.permissions import PermissionDenied
from linia.routing import actions
from linia.routing.models import Reservation, ReservationStatus, Task, TaskStatus
from linia.tickets.models import Event
from tests import factories
from tests.routing.helpers import agent, queue

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKERS = 20
SECONDS = 10.0
CAPACITY = {"call": 1, "chat": 3}


def _worker(seed: int, tenant: Any, queue_: Any, agents: list[Any], stop: float, errors: list[str],
            counts: Counter[str]) -> None:
    rnd = random.Random(seed)
    try:
        while time.monotonic() < stop:
            op = rnd.choice(("create", "dispatch", "dispatch_after_change", "accept", "accept", "accept", "decline", "expire",
                             "complete", "complete", "rearm"))
            try:
                _run(op, rnd, tenant, queue_, agents)
                counts[op] += 1
            except (ActionError, PermissionDenied):
                counts[op + "_refused"] += 1  # lost a race (offer gone, task moved): a clean 4xx
    except Exception as exc:  # anything else (IntegrityError, deadlock) fails the test
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


def _run(op: str, rnd: random.Random, tenant: Any, queue_: Any, agents: list[Any]) -> None:
    if op == "create":
        actions.create_task(None, tenant, channel=rnd.choice(("call", "chat", "chat")), queue=queue_)
    elif op == "dispatch":
        actions.dispatch(tenant)
    elif op == "dispatch_after_change":  # passes shared between this process's threads (logs, never raises)
        actions.dispatch_after_change([tenant.pk])
    elif op in ("accept", "decline"):
        res = Reservation.objects.filter(tenant=tenant, status=ReservationStatus.PENDING).order_by("?").first()
        if res is not None:
            act = actions.accept_offer if op == "accept" else actions.decline_offer
            act(res.agent, res.pk)
    elif op == "expire":
        actions.expire_reservations(timezone.now() + timedelta(seconds=rnd.choice((0, 2))))
    elif op == "complete":
        task = Task.objects.filter(tenant=tenant, status=TaskStatus.ASSIGNED).order_by("?").first()
        if task is not None and task.assigned_to is not None:
            actions.complete_task(task.assigned_to, task.pk)
    elif op == "rearm":
        who = rnd.choice(agents)
        actions.set_presence(who, who, "available")


def _replay(tenant: Any) -> list[str]:
    """Walk the event log in commit order and report any moment above capacity or double acceptance."""
    channel_of = dict(Task.objects.filter(tenant=tenant).values_list("pk", "channel"))
    load: dict[int, Counter[str]] = defaultdict(Counter)
    ringing: dict[int, Counter[str]] = defaultdict(Counter)
    ringing_task: dict[int, int] = {}  # reservation -> agent
    accepted: Counter[int] = Counter()
    problems: list[str] = []
    for ev in Event.objects.filter(tenant=tenant, kind__startswith="task.").order_by("id"):
        data = ev.data
        task_id, channel = data["task_id"], channel_of[data["task_id"]]
        agent_id = data.get("agent_id")
        if ev.kind == "task.offered":
            ringing[agent_id][channel] += 1
            ringing_task[data["reservation_id"]] = agent_id
        elif ev.kind in ("task.accepted", "task.declined", "task.expired", "task.rescinded"):
            ringing[ringing_task.pop(data["reservation_id"], agent_id)][channel] -= 1
            if ev.kind == "task.accepted":
                load[agent_id][channel] += 1
                accepted[task_id] += 1
        elif ev.kind == "task.completed":
            load[agent_id][channel] -= 1
        if agent_id is not None:
            used = load[agent_id][channel] + ringing[agent_id][channel]
            if used > CAPACITY[channel] or ringing[agent_id][channel] > 1:
                problems.append(f"event {ev.pk}: agent {agent_id} at {used} on {channel}")
            if ev.kind == "task.offered" and channel == "chat" and load[agent_id]["call"]:
                problems.append(f"event {ev.pk}: chat offered to agent {agent_id} during a call")
    problems += [f"task {t} accepted {n} times" for t, n in accepted.items() if n > 1]
    return problems


def test_parallel_workers_never_double_assign(caplog: pytest.LogCaptureFixture) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has a single writer, so there is no race to test")
    tenant = factories.tenant("busy")
    q = queue(tenant, offer_timeout_seconds=1, wrapup_seconds=0)
    agents = [agent(tenant, idle_minutes=i) for i in range(6)]
    for i in range(30):
        actions.create_task(None, tenant, channel="call" if i % 3 == 0 else "chat", queue=q)
    errors: list[str] = []
    counts: Counter[str] = Counter()
    stop = time.monotonic() + SECONDS
    threads = [threading.Thread(target=_worker, args=(i, tenant, q, agents, stop, errors, counts))
               for i in range(WORKERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=SECONDS + 60)
    connections.close_all()
    assert not any(th.is_alive() for th in threads)
    assert errors == []
    assert counts["accept"] > 50 and counts["dispatch"] > 50, counts  # the run really exercised the paths
    assert counts["dispatch_after_change"] > 50, counts
    assert "dispatch after a change failed" not in caplog.text
    assert _replay(tenant) == []
    # And the final state agrees: one active reservation per task, nobody above capacity now.
    active = Counter(Reservation.objects.filter(tenant=tenant, status__in=("pending", "accepted"))
                     .values_list("task_id", flat=True))
    assert all(n == 1 for n in active.values())
    for a in agents:
        on_hand = Counter(Task.objects.filter(assigned_to=a, status=TaskStatus.ASSIGNED).values_list("channel", flat=True))
        assert all(on_hand[c] <= CAPACITY[c] for c in on_hand)
