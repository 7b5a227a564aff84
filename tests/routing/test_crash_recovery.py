"""kill -9 in the middle of routing, then `linia serve` starts: expired offers are released, no task lost.

Runs real processes on a temporary SQLite file and a free 127.0.0.1 port; only our own PIDs are killed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.liveserver import free_port

pytestmark = pytest.mark.slow

ROUTING_LOOP = r"""
import random, sys
import django
django.setup()
from linia.core.models import Membership, Tenant, User
from linia.routing import actions
from linia.routing.models import AgentProfile, Queue, Reservation, Task
from django.utils import timezone

tenant = Tenant.objects.create(slug="crash", name="Crash", ticket_prefix="CR")
queue = Queue.objects.create(tenant=tenant, code="q", name="Q", channels=["call", "chat"],
                             offer_timeout_seconds=1, wrapup_seconds=0)
agents = []
for i in range(4):
    user = User.objects.create_user(username=f"agent{i}")
    Membership.objects.create(user=user, tenant=tenant, role="agent")
    AgentProfile.objects.create(user=user, presence="available", presence_since=timezone.now())
    agents.append(user)
rnd = random.Random(7)
print("READY", flush=True)
while True:
    task = actions.create_task(None, tenant, channel=rnd.choice(["call", "chat"]), queue=queue)
    print("TASK", task.pk, flush=True)
    actions.dispatch(tenant)
    print("PENDING", Reservation.objects.filter(status="pending").count(), flush=True)
    for res in Reservation.objects.filter(status="pending").order_by("?")[:2]:
        try:
            if rnd.random() < 0.5:
                actions.accept_offer(res.agent, res.pk)
        except Exception:
            pass
    done = Task.objects.filter(status="assigned").order_by("?").first()
    if done is not None and rnd.random() < 0.3:
        actions.complete_task(done.assigned_to, done.pk)
    for profile in AgentProfile.objects.filter(not_responding=True):
        actions.set_presence(None, profile.user_id, "available")  # the agent comes back
"""




def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "LINIA_TEST_SQLITE")}
    env.update(LINIA_HOME=str(home), DJANGO_SETTINGS_MODULE="linia.settings", PYTHONUNBUFFERED="1")
    return env


def _linia() -> list[str]:
    return [sys.executable, "-m", "linia.cli"]


def _wait_for(proc: subprocess.Popen[str], marker: str, count: int, deadline: float) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if sum(1 for x in lines if x.startswith(marker)) >= count:
            return lines
    raise AssertionError(f"{marker} x{count} not seen: {lines[-5:]}")


def _kill(proc: subprocess.Popen[str], sig: int) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, sig)
    proc.wait(timeout=20)


def test_kill_9_mid_routing_then_restart_releases_offers_and_loses_nothing(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run([*_linia(), "migrate", "-v0"], env=env, check=True, timeout=180)
    loop = subprocess.Popen([sys.executable, "-c", ROUTING_LOOP], env=env, stdout=subprocess.PIPE, text=True)
    try:
        lines = _wait_for(loop, "TASK", 40, time.monotonic() + 120)
        while not lines[-1].startswith("PENDING") or int(lines[-1].split()[1]) < 3:  # offers are ringing
            lines += _wait_for(loop, "PENDING", 1, time.monotonic() + 60)
    finally:
        _kill(loop, signal.SIGKILL)  # mid-routing: the loop never stops by itself
    created = {int(x.split()[1]) for x in lines if x.startswith("TASK")}
    db = tmp_path / "linia.sqlite3"
    with sqlite3.connect(db) as con:
        pending_at_kill = con.execute("select count(*) from routing_reservation where status='pending'").fetchone()[0]
    time.sleep(1.5)  # every offer made before the kill is past its 1 s deadline now

    port = free_port()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    serve = subprocess.Popen([*_linia(), "serve", "--port", str(port), "--no-migrate"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(serve, "Linia on http", 1, time.monotonic() + 120)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
    finally:
        _kill(serve, signal.SIGTERM)

    with sqlite3.connect(db) as con:
        tasks = dict(con.execute("select id, status from routing_task").fetchall())
        active = con.execute("select task_id, status, expires_at from routing_reservation "
                             "where status in ('pending', 'accepted')").fetchall()
        expired_events = con.execute("select count(*) from tickets_event where kind='task.expired'").fetchone()[0]
    assert created <= set(tasks), "a task printed as created is missing"
    assert pending_at_kill > 0 and expired_events >= pending_at_kill  # the recovery released them
    assert all(expires > started for _task, status, expires in active if status == "pending")
    per_task = Counter(task for task, _status, _expires in active)
    assert all(n == 1 for n in per_task.values()), "a task has two active reservations"
    by_status = {status: {t for t, s in tasks.items() if s == status} for status in set(tasks.values())}
    assert set(tasks.values()) <= {"queued", "reserved", "assigned", "completed"}
    accepted = {t for t, s, _e in active if s == "accepted"}
    pending = {t for t, s, _e in active if s == "pending"}
    assert by_status.get("assigned", set()) == accepted  # every assigned task exactly once
    assert by_status.get("reserved", set()) == pending
    assert not (by_status.get("queued", set()) & (accepted | pending))
