"""Dispatch with a backlog: how long a tenant's dispatch holds its lock while N tasks wait.

One tenant, one queue for calls and email, N queued tasks in several lines (channels x languages: a weekend's
email backlog with some calls), agents on a break (nothing is offered, so every run sees the same backlog).
Measured, in one process: the read of the waiting tasks an event-driven dispatch makes (`dispatcher._waiting`
with the per-line bound: the line-by-line walk over `Task.line_key`), against the baseline kept here, the one
window query that ranked (sorted) the whole backlog in every dispatch before; then a whole event-driven
dispatch and the ticker's rules pass (every task's overflow and maximum wait, read without the lock), for
scale. Target: the walk at least 3x faster than the window with 10,000 waiting tasks.
DATABASE_URL (PostgreSQL) or a temporary SQLite database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import scratch_database

TARGET_RATIO = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with scratch_database(args.db, "linia-bench-backlog-"):
        return run(args.db, args.tasks, args.rounds)


def seed(n_tasks: int) -> int:
    """The tenant with its backlog; returns the tenant's id."""
    from django.db import connection
    from django.utils import timezone

    from benchmarks._routing_seed import seed as seed_agents
    from linia.core.models import Tenant
    from linia.routing.models import AgentProfile, Queue, Task

    seed_agents(50)
    tenant = Tenant.objects.get(slug="bench")
    queue = Queue.objects.get(tenant=tenant)
    queue.channels = ["call", "email"]
    queue.save()
    AgentProfile.objects.update(presence="break")
    now = timezone.now()
    lines = [("email", "pl"), ("email", "ru"), ("email", ""), ("call", "pl"), ("call", "")]
    Task.objects.bulk_create([
        Task(tenant=tenant, queue=queue, channel=lines[i % len(lines)][0], language=lines[i % len(lines)][1],
             status="queued", queued_at=now - timedelta(seconds=n_tasks - i), priority=5 if i % 97 == 0 else None,
             stage_started_at=now - timedelta(seconds=n_tasks - i), attributes={"subject": "Order " + "x" * 60})
        for i in range(n_tasks)], batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would in a live database
    return tenant.pk


def window_read(tenant_id: int, per_class: int) -> int:
    """The baseline: one window query ranks every queued task of the tenant (the read before line_key)."""
    from linia.core import fastsql
    from linia.routing.models import Task

    ranked = (f"SELECT {fastsql.cols(Task, 't')}, ROW_NUMBER() OVER (PARTITION BY t.queue_id, t.channel, "
              "t.language, t.required_skills, t.excluded_agents <> '[]' ORDER BY t.priority DESC, t.queued_at, "
              f"t.id) AS rn FROM {fastsql.table(Task)} t WHERE t.tenant_id = %s AND t.status = 'queued'")
    sql = f"SELECT * FROM ({ranked}) t WHERE t.rn <= %s OR t.excluded_agents <> '[]' ORDER BY t.queued_at, t.id"
    return len([fastsql.load(Task, r) for r in fastsql.fetch(sql, [tenant_id, per_class + 1])])


def timed(fn: Callable[[], Any], rounds: int) -> float:
    """Median milliseconds of ``rounds`` calls (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def run(db: str, n_tasks: int, rounds: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from linia.routing import dispatcher

    call_command("migrate", verbosity=0, skip_checks=True)
    tenant_id = seed(n_tasks)
    rows = dispatcher._queues(tenant_id)[1]
    per_class = dispatcher.PER_CLASS
    walked = len(dispatcher._waiting(tenant_id, rows, per_class)[0])
    window = timed(lambda: window_read(tenant_id, per_class), rounds)
    walk = timed(lambda: dispatcher._waiting(tenant_id, rows, per_class), rounds)
    dispatch = timed(lambda: dispatcher._dispatch(tenant_id, timezone.now()), rounds)
    rules = timed(lambda: dispatcher.rules_pass(tenant_id, timezone.now()), max(3, rounds // 5))
    ratio = window / walk
    print(f"[{db}] {n_tasks} tasks waiting in 5 lines; a dispatch reads {walked} of them")
    print(f"[{db}] waiting-task read: line walk {walk:.1f} ms, baseline window query {window:.1f} ms: "
          f"{ratio:.1f}x faster (median of {rounds})")
    print(f"[{db}] whole event-driven dispatch {dispatch:.1f} ms (under the tenant's lock); the ticker's rules pass "
          f"{rules:.0f} ms (without it: nothing is due here)")
    ok = ratio >= TARGET_RATIO
    print(f"[{db}] {'PASS' if ok else 'FAIL'}: {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
