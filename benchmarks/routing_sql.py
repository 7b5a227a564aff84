"""Statements and in-process CPU per routed call, without a server: the work of benchmarks/routing.py's
call (CTI `offered` in route mode -> task + dispatch + offer; the agent accepts on the desk websocket's op;
CTI `ended`) done in one process with Django's test client and the desk consumer's op runner.

    .venv/bin/python -m benchmarks.routing_sql [--db sqlite|postgres] [--agents 500] [--calls 200] [--show]

Prints, per step, the SQL statements (and transactions) and the CPU time per call. ``--show`` prints the
statements of one call. DATABASE_URL (PostgreSQL) or a temporary SQLite database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import scratch_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the measured calls (no statement capture)")
    args = parser.parse_args()
    with scratch_database(args.db, "linia-bench-routing-sql-"):
        return run(args)


def _backend_cpu_reader(connection: Any) -> Any:
    """CPU seconds used so far by this connection's PostgreSQL backend (it runs on this machine), or 0."""
    if connection.vendor != "postgresql":
        return lambda: 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a server on another machine
            return 0.0
        return (int(fields[11]) + int(fields[12])) / tick

    return read


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0, skip_checks=True)
    from benchmarks._routing_seed import seed
    from linia.core.models import User
    from linia.desk import consumers
    from linia.routing import realtime
    from linia.routing.models import Reservation

    class Pump:  # as inside `linia serve`: messages are handed over, queue figures coalesced (not per call)
        sent: list[tuple[str, dict[str, Any]]] = []

        def put(self, group: str, payload: dict[str, Any]) -> None:
            self.sent.append((group, payload))

        def want_stats(self, tenant_id: int, compute: Any) -> None:
            pass

    pump = Pump()
    Pump.sent.clear()
    realtime._active_pump = lambda: pump  # type: ignore[assignment]
    data = seed(args.agents)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {data['token']}")
    desks: dict[int, consumers.AgentConsumer] = {}

    def desk(user_id: int) -> consumers.AgentConsumer:
        if user_id not in desks:
            c = consumers.AgentConsumer()
            c.scope = {"cookies": {}}
            c.user = User.objects.get(pk=user_id)
            desks[user_id] = c
        return desks[user_id]

    def cti(call_id: str, seq: int, event: str) -> None:
        body = {"call_id": call_id, "sequence": seq, "event": event, "dialled": data["line"], "caller": "+48601000001"}
        resp = client.post("/api/v1/voice/events", json.dumps(body), content_type="application/json")
        if resp.status_code != 200:
            raise SystemExit(f"{event} {call_id}: {resp.status_code} {resp.content[:300]!r}")

    offers: dict[str, tuple[consumers.AgentConsumer, int]] = {}

    def offered(call_id: str) -> None:
        cti(call_id, 1, "offered")

    def accept(call_id: str) -> None:
        c, reservation_id = offers.pop(call_id)
        error, _snap = c.run_op_and_snapshot(consumers._accept, {"op": "accept", "reservation_id": reservation_id})
        if error is not None:
            raise SystemExit(f"accept {call_id}: {error}")

    def prepare_accept(call_id: str) -> None:  # the agent's socket got the offer (not counted)
        res = Reservation.objects.get(task__external_id=call_id, status="pending")
        offers[call_id] = (desk(res.agent_id), res.pk)

    steps = {"offered": offered, "accept": accept, "ended": lambda cid: cti(cid, 2, "ended")}
    for i in range(20):  # warm up: imports, caches, first connections
        for name, step in steps.items():
            if name == "accept":
                prepare_accept(f"warm-{i}")
            step(f"warm-{i}")
    counts: dict[str, list[int]] = defaultdict(list)
    begins: dict[str, list[int]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    shown: dict[str, list[str]] = {}
    if args.profile:
        import cProfile

        prof = cProfile.Profile(time.thread_time)
        for i in range(args.calls):
            for name, step in steps.items():
                if name == "accept":
                    prepare_accept(f"prof-{i}")
                prof.enable()
                step(f"prof-{i}")
                prof.disable()
        prof.dump_stats(args.profile)
        print(f"profile of {args.calls} calls in {args.profile}")
        return 0
    for i in range(args.calls):  # statements (Django's debug cursor records them: not timed)
        call_id = f"call-{i}"
        for name, step in steps.items():
            if name == "accept":
                prepare_accept(call_id)
            connection.queries_log.clear()  # it keeps at most 9,000: the context would count wrong past that
            with CaptureQueriesContext(connection) as ctx:
                step(call_id)
            sqls = [q["sql"] for q in ctx.captured_queries]
            counts[name].append(len(sqls))
            begins[name].append(sum(1 for s in sqls if s.upper().startswith("SAVEPOINT")))
            shown.setdefault(name, sqls)
    backend = _backend_cpu_reader(connection)
    backend_before = backend()
    for i in range(args.calls):  # CPU, with nothing watching the statements
        call_id = f"timed-{i}"
        for name, step in steps.items():
            if name == "accept":
                prepare_accept(call_id)
            t0 = time.process_time()
            step(call_id)
            cpu[name].append(time.process_time() - t0)
    backend_ms = 1000 * (backend() - backend_before) / args.calls
    batch = 25

    def best(samples: list[float]) -> float:
        """The lowest mean of `batch` consecutive calls: on a shared machine, the least disturbed stretch."""
        means = [sum(samples[i:i + batch]) / len(samples[i:i + batch]) for i in range(0, len(samples), batch)]
        return min(means)

    total_q = total_cpu = total_best = 0.0
    print(f"[{connection.vendor}] {args.agents} agents, {args.calls} calls (CPU includes Django's test client)")
    for name in steps:
        q = sum(counts[name]) / args.calls
        ms, low = 1000 * sum(cpu[name]) / args.calls, 1000 * best(cpu[name])
        total_best += low
        total_q += q
        total_cpu += ms
        print(f"  {name:8s} {q:5.1f} statements ({sum(begins[name]) / args.calls:.1f} savepoints), {ms:5.2f} ms CPU "
              f"(best {batch} in a row: {low:5.2f} ms)")
    print(f"  total    {total_q:5.1f} statements, {total_cpu:5.2f} ms CPU per call (best stretches: {total_best:5.2f} ms)")
    if connection.vendor == "postgresql":
        print(f"  database server process: {backend_ms:5.2f} ms CPU per call")
    if args.show:
        for name, sqls in shown.items():
            print(f"--- {name}")
            for s in sqls:
                print("   ", s[:220])
    return 0


if __name__ == "__main__":
    sys.exit(main())
