"""Routing benchmarks: the pure engine, and end to end through one real server process.

    .venv/bin/python benchmarks/routing.py [--db sqlite|postgres|both] [--agents 500] [--rate 50]
                                           [--seconds 60] [--skip-engine]

Engine: benchmarks/routing_engine.py (1,000 agents, 10,000 tasks, 20 skills; >= 5,000 decisions/s and
>= 20x the naive matcher in the same run).

End to end: one `linia serve` process (uvicorn, in-memory channel layer) on SQLite and on PostgreSQL.
N agents are logged in with the agent desktop's websocket (/ws/desk/agent/) and available. A PBX posts
CTI `offered` events for a route-mode line at R per second (evenly spaced) for S seconds; the server
creates the task and dispatches at once; we measure from just before the POST is sent to the moment the
offer arrives on the chosen agent's websocket. Each agent accepts on the websocket, talks 2-6 s, then the
PBX posts `ended` (the queue has no after-call work, so the agent is ready again).
Target: p99 < 200 ms. Baseline in the same run and at the same rate, before the load: the round trip of
an authenticated API read (GET /api/v1/routing/queues) plus a websocket op round trip ("snapshot") on
the same server, i.e. the cost of the stack itself; the ratio says what routing adds on top.
Also printed: the server's CPU per call, and the CPU per call of PostgreSQL's backends and of this load
generator, which share the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import SERVER, free_port, percentile, postgres_database

ROOT = Path(__file__).resolve().parent.parent
LINIA = str(Path(sys.executable).with_name("linia"))
TARGET_P99_MS = 200.0
_threads = threading.local()  # the load generator's HTTP connections, one per thread


@dataclass
class Run:
    base: str
    token: str
    line: str
    sent: dict[str, float] = field(default_factory=dict)  # call id -> monotonic time before the POST
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    offers: int = 0
    completed: int = 0
    sequence: dict[str, int] = field(default_factory=dict)

    def _connection(self) -> http.client.HTTPConnection:
        """This thread's kept-alive connection to the server (a PBX keeps its connection too)."""
        conn: http.client.HTTPConnection | None = getattr(_threads, "conn", None)
        if conn is None:
            host, port = self.base.removeprefix("http://").split(":")
            conn = _threads.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        return conn

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        conn = self._connection()
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
        except (http.client.HTTPException, OSError):  # the server closed a kept connection: once more, anew
            # (a CTI event sent twice is answered as a duplicate: the retry is safe)
            conn.close()
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
        return resp.status, resp.read()

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        status, raw = self.request("POST", path, body)
        return status, (json.loads(raw or b"null") if status == 200 else raw[:200])

    def get(self, path: str) -> int:
        status, _ = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        return status

    async def cti(self, call_id: str, event: str, **extra: Any) -> None:
        self.sequence[call_id] = self.sequence.get(call_id, 0) + 1
        body = {"call_id": call_id, "sequence": self.sequence[call_id], "event": event, "dialled": self.line,
                "caller": "+48601000001", "at": datetime.now(UTC).isoformat(), **extra}
        status, data = await asyncio.to_thread(self.post, "/api/v1/voice/events", body)
        if status != 200:
            self.errors.append(f"{event} {call_id}: {status} {data!r}"[:300])


class Agent:
    def __init__(self, run: Run, cookie: str, rng: random.Random) -> None:
        self.run, self.cookie, self.rng = run, cookie, rng
        self.ws: ClientConnection | None = None
        self.acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.jobs: set[asyncio.Task[None]] = set()

    async def connect(self, url: str) -> None:
        self.ws = await connect(url, additional_headers={"Cookie": self.cookie}, proxy=None, max_size=2**22)
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            now = time.monotonic()
            msg = json.loads(raw)
            kind = msg.get("kind")
            if kind in ("ack", "error"):
                self.acks.put_nowait(msg)
            elif kind == "offer":
                call_id = str((msg.get("task") or {}).get("external_id") or "")
                sent = self.run.sent.pop(call_id, None)
                if sent is not None:
                    self.run.latencies.append((now - sent) * 1000)
                self.run.offers += 1
                job = asyncio.create_task(self.take(int(msg["reservation_id"]), call_id))
                self.jobs.add(job)
                job.add_done_callback(self.jobs.discard)

    async def op(self, name: str, **args: Any) -> dict[str, Any]:
        assert self.ws is not None
        await self.ws.send(json.dumps({"op": name, **args}))
        return await asyncio.wait_for(self.acks.get(), 30)

    async def take(self, reservation_id: int, call_id: str) -> None:
        reply = await self.op("accept", reservation_id=reservation_id)
        if reply.get("kind") != "ack":
            self.run.errors.append(f"accept {call_id}: {reply}"[:300])
            return
        await asyncio.sleep(self.rng.uniform(2.0, 6.0))
        await self.run.cti(call_id, "ended")
        self.run.completed += 1


async def baseline(run: Run, agent: Agent, rate: float, seconds: float) -> list[float]:
    """API read + websocket op round trip, at the same rate, on the idle server."""
    samples: list[float] = []
    t0 = time.monotonic()
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
        start = time.monotonic()
        await asyncio.to_thread(run.get, "/api/v1/routing/queues")
        assert agent.ws is not None
        await agent.ws.send(json.dumps({"op": "snapshot"}))
        await asyncio.sleep(0)  # the snapshot answer is not an ack: wait for any message
        samples.append((time.monotonic() - start) * 1000)
    return samples


async def load(base: str, seed: dict[str, Any], rate: float, seconds: float, pid: int,
               dbname: str | None) -> dict[str, Any]:
    run = Run(base, seed["token"], seed["line"])
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=64))
    rng = random.Random(11)
    ws_url = base.replace("http://", "ws://") + "/ws/desk/agent/"
    agents = [Agent(run, a["cookie"], rng) for a in seed["agents"]]
    for i in range(0, len(agents), 50):  # connect in batches: each connect sends a full snapshot
        await asyncio.gather(*(a.connect(ws_url) for a in agents[i:i + 50]))
    await asyncio.sleep(1.0)
    idle0 = _cpu_seconds(pid)
    await asyncio.sleep(5.0)  # what the server spends with nothing to do (timers, sockets): part of every run
    idle = (_cpu_seconds(pid) - idle0) / 5.0
    base_cpu0 = _cpu_seconds(pid)
    base_samples = await baseline(run, agents[0], rate, min(10.0, seconds))
    base_cpu = (_cpu_seconds(pid) - base_cpu0) / max(1, len(base_samples))
    run.latencies.clear()
    calls: list[asyncio.Task[None]] = []
    cpu0, user0 = _cpu_seconds(pid), _cpu_seconds(pid, user_only=True)
    db_cpu0, own_cpu0 = _database_cpu(dbname), time.process_time()
    t0 = time.monotonic()
    n = int(rate * seconds)
    behind = 0.0
    for i in range(n):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            behind = max(behind, -delay)
        call_id = f"bench-{i}"
        run.sent[call_id] = time.monotonic()
        calls.append(asyncio.create_task(run.cti(call_id, "offered")))
    elapsed = time.monotonic() - t0
    await asyncio.gather(*calls)
    deadline = time.monotonic() + 15
    while run.sent and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    for a in agents:
        await asyncio.gather(*a.jobs, return_exceptions=True)
    cpu, user = _cpu_seconds(pid) - cpu0, _cpu_seconds(pid, user_only=True) - user0
    db_cpu1, own_cpu = _database_cpu(dbname), time.process_time() - own_cpu0
    db_cpu = sum(v - db_cpu0.get(k, 0.0) for k, v in db_cpu1.items())
    for a in agents:
        if a.ws is not None:
            await a.ws.close()
    return {"sent": n, "offers": run.offers, "missing": len(run.sent), "completed": run.completed,
            "errors": run.errors[:5], "error_count": len(run.errors), "elapsed_s": elapsed,
            "generator_behind_ms": behind * 1000, "server_cpu_s": cpu, "server_user_s": user, "idle_cpu": idle,
            "database_cpu_s": db_cpu if dbname else None, "generator_cpu_s": own_cpu, "latencies": run.latencies, "baseline": base_samples,
            "baseline_cpu_s": base_cpu}


def _cpu_seconds(pid: int, *, user_only: bool = False) -> float:
    """User + system (or only user) CPU time of a process (Linux /proc), to report the server's cost per call."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + (0 if user_only else int(fields[12]))) / os.sysconf("SC_CLK_TCK")


def _database_cpu(dbname: str | None) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the benchmark's database (the server runs on this
    machine, so its processes share the cores with the server under test); {} for SQLite."""
    if not dbname:
        return {}
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [dbname])]
    out = {}
    for backend in pids:
        try:
            out[backend] = _cpu_seconds(backend)
        except (OSError, IndexError):  # ended meanwhile, or a server on another machine
            continue
    return out


def run_db(db: str, agents: int, rate: float, seconds: float) -> bool:
    home = Path(tempfile.mkdtemp(prefix=f"linia-bench-routing-{db}-"))
    env = {**os.environ, "LINIA_HOME": str(home), "REDIS_URL": "", "LINIA_FAST_PASSWORDS": "1",
           "DJANGO_SETTINGS_MODULE": "linia.settings", "DATABASE_URL": ""}
    databases = contextlib.ExitStack()  # the PostgreSQL database, dropped once the server has stopped
    dbname = None
    if db == "postgres":
        dbname = f"linia_bench_routing_{os.getpid()}"
        env["DATABASE_URL"] = databases.enter_context(postgres_database(dbname))
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([LINIA, "migrate", "--verbosity", "0"], env=env, check=True, timeout=300)
        out = subprocess.run([sys.executable, "-m", "benchmarks._routing_seed", str(agents)], env=env, cwd=ROOT,
                             check=True, capture_output=True, timeout=300).stdout
        seed = json.loads(out.decode().strip().splitlines()[-1])
        port = free_port()
        log = (home / "server.log").open("wb")
        server = subprocess.Popen([LINIA, "serve", "--port", str(port), "--no-migrate"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/accounts/login/", timeout=2)  # noqa: S310 (local server)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start; see {home / 'server.log'}") from None
                time.sleep(0.3)
        result = asyncio.run(load(base, seed, rate, seconds, server.pid, dbname))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        databases.close()
    lat, base_lat = result["latencies"], result["baseline"]
    if not lat:
        print(f"[{db}] no offers measured: {result['errors']}")
        return False
    p50, p95, p99 = (percentile(lat, p) for p in (50, 95, 99))
    b99 = percentile(base_lat, 99)
    ok = p99 < TARGET_P99_MS and result["missing"] == 0 and result["error_count"] == 0
    print(f"[{db}] {agents} agents, {rate:g} offers/s for {seconds:g} s: sent {result['sent']}, "
          f"offered {result['offers']}, never offered {result['missing']}, completed {result['completed']}, "
          f"errors {result['error_count']} {result['errors'][:2]}")
    print(f"[{db}] CTI offered -> websocket offer: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, "
          f"max {max(lat):.1f} ms (generator at most {result['generator_behind_ms']:.0f} ms behind)")
    calls = max(1, result["sent"])
    print(f"[{db}] server CPU {result['server_cpu_s']:.1f} s for the run: {1000 * result['server_cpu_s'] / calls:.1f} ms "
          f"per call (offered + accept + ended; user {1000 * result['server_user_s'] / calls:.1f} ms, system "
          f"{1000 * (result['server_cpu_s'] - result['server_user_s']) / calls:.1f} ms); idle, the server uses "
          f"{100 * result['idle_cpu']:.1f}% of a core")
    others = f"this load generator {1000 * result['generator_cpu_s'] / calls:.1f} ms"
    if result["database_cpu_s"] is not None:
        others = f"PostgreSQL's backends {1000 * result['database_cpu_s'] / calls:.1f} ms, " + others
    print(f"[{db}] the same machine's other CPU per call: {others}")
    print(f"[{db}] baseline (API read + websocket op): p50 {percentile(base_lat, 50):.1f} ms, p99 {b99:.1f} ms; "
          f"ratio p99 offer/baseline {p99 / b99:.1f}x; server CPU per baseline round {1000 * result['baseline_cpu_s']:.1f} ms")
    print(f"[{db}] {'PASS' if ok else 'FAIL'}: p99 {p99:.1f} ms (target < {TARGET_P99_MS:.0f} ms), "
          f"no offer lost")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--skip-engine", action="store_true")
    args = parser.parse_args()
    ok = True
    if not args.skip_engine:
        ok = subprocess.run([sys.executable, "-m", "benchmarks.routing_engine"], cwd=ROOT).returncode == 0
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        ok = run_db(db, args.agents, args.rate, args.seconds) and ok
    print("routing benchmarks:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
