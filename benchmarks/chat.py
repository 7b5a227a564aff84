"""Chat benchmark: N concurrent widget websocket sessions against one server process, agents answering.

    .venv/bin/python benchmarks/chat.py [--layer memory|redis|redis-core|both|all] [--db sqlite|postgres]
                                        [--sessions 1000] [--agents 50] [--interval 10] [--seconds 60]

One `linia serve` process (uvicorn) on a free port, with the in-memory channel layer and, in a second run,
channels-redis (local Redis at 127.0.0.1:6379, a prefix of its own): `redis` is its Pub/Sub layer (Linia's
default with Redis), `redis-core` its other layer; `both` runs memory and redis, `all` all three. The seed (benchmarks/_chat_seed.py)
starts N chats through the chat's own action and has routing offer and accept every one, so each chat has
an agent. Then:

1. Baseline, same server, same pattern: N sockets on a bare Channels echo consumer (each frame goes through
   the channel layer and back, no database), each sending every `interval` seconds for `seconds`.
2. Memory per idle session: the server's RSS before and after N widget sockets connected and resumed.
3. Load: each widget sends a message every `interval` seconds (start times spread over the interval); the
   agent holding the chat gets it on its desk websocket (/ws/desk/agent/) and answers at once with the
   desk's "chat.send" op. Measured: visitor send -> agent desk receives it (visitor -> agent), agent send ->
   widget receives it (agent -> visitor), and the visitor's ack. Target: delivery p99 < 100 ms both ways,
   nothing lost. Ratio to the echo round trip printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import free_port, percentile, postgres_database

ROOT = Path(__file__).resolve().parent.parent
LINIA = str(Path(sys.executable).with_name("linia"))
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TARGET_P99_MS = 100.0


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fake_ip(i: int) -> str:
    """Each widget comes from its own address (the server trusts X-Forwarded-For here), as real visitors do:
    the per-IP limits then apply per visitor, not to the whole benchmark."""
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


@dataclass
class Stats:
    to_agent: list[float] = field(default_factory=list)
    to_visitor: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    visitor_sent: dict[str, float] = field(default_factory=dict)
    agent_sent: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    sent: int = 0
    answered: int = 0
    answers_unsupported: bool = False


async def _open(url: str, headers: dict[str, str]) -> ClientConnection:
    for attempt in range(5):
        try:
            # no client pings: an overloaded server shows as latency, not as dropped sockets
            return await connect(url, additional_headers=headers, proxy=None, max_size=2**22, open_timeout=60,
                                 ping_interval=None)
        except OSError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.5)
    raise RuntimeError("unreachable")


async def connect_all(urls: list[tuple[str, dict[str, str]]], batch: int = 100) -> list[ClientConnection]:
    out: list[ClientConnection] = []
    for i in range(0, len(urls), batch):
        out += await asyncio.gather(*(_open(u, h) for u, h in urls[i:i + batch]))
    return out


# --- baseline: the echo consumer ----------------------------------------------------------------

async def echo_baseline(ws_base: str, n: int, interval: float, seconds: float) -> list[float]:
    socks = await connect_all([(ws_base + "/ws/chat-echo/", {}) for _ in range(n)])
    samples: list[float] = []
    rng = random.Random(3)

    async def one(ws: ClientConnection) -> None:
        await asyncio.sleep(rng.uniform(0, interval))
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.monotonic()
            await ws.send(json.dumps({"type": "message", "client_id": "x", "text": "ping"}))
            await ws.recv()
            samples.append((time.monotonic() - t0) * 1000)
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - t0)))

    await asyncio.gather(*(one(ws) for ws in socks))
    for ws in socks:
        await ws.close()
    return samples


# --- the chat load ------------------------------------------------------------------------------

class Visitor:
    def __init__(self, ws: ClientConnection, stats: Stats, n: int) -> None:
        self.ws, self.stats, self.n = ws, stats, n
        self.history = asyncio.get_running_loop().create_future()

    async def read(self) -> None:
        try:
            await self._read()
        except ConnectionClosed as exc:
            self.stats.errors.append(f"visitor {self.n} disconnected: {exc}"[:300])

    async def _read(self) -> None:
        async for raw in self.ws:
            now = time.monotonic()
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind == "history" and not self.history.done():
                self.history.set_result(msg)
            elif kind == "ack":
                sent = self.stats.visitor_sent.get(str(msg.get("client_id")))
                if sent is not None:
                    self.stats.acks.append((now - sent) * 1000)
            elif kind == "message" and msg.get("sender") == "agent":
                sent = self.stats.agent_sent.pop(str(msg.get("client_id")), None)
                if sent is not None:
                    self.stats.to_visitor.append((now - sent) * 1000)
            elif kind == "error":
                self.stats.errors.append(f"visitor {self.n}: {msg}"[:300])

    async def talk(self, interval: float, seconds: float, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, interval))
        end = time.monotonic() + seconds
        k = 0
        while time.monotonic() < end:
            t0 = time.monotonic()
            client_id = f"v{self.n}-{k}"
            self.stats.visitor_sent[client_id] = t0
            self.stats.sent += 1
            try:
                await self.ws.send(json.dumps({"type": "message", "client_id": client_id, "text": f"question {k}"}))
            except ConnectionClosed:
                return
            k += 1
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - t0)))


class Agent:
    def __init__(self, ws: ClientConnection, stats: Stats) -> None:
        self.ws, self.stats = ws, stats
        self.pending: set[asyncio.Task[None]] = set()

    async def read(self) -> None:
        try:
            await self._read()
        except ConnectionClosed as exc:
            self.stats.errors.append(f"agent disconnected: {exc}"[:300])

    async def _read(self) -> None:
        async for raw in self.ws:
            now = time.monotonic()
            msg = json.loads(raw)
            kind = msg.get("kind")
            if kind == "chat.message" and (msg.get("message") or {}).get("sender") == "visitor":
                client_id = str(msg["message"].get("client_id"))
                sent = self.stats.visitor_sent.pop(client_id, None)
                if sent is None:
                    continue
                self.stats.to_agent.append((now - sent) * 1000)
                if not self.stats.answers_unsupported:
                    answer_id = "a-" + client_id
                    self.stats.agent_sent[answer_id] = time.monotonic()
                    await self.ws.send(json.dumps({"op": "chat.send", "task_id": msg["task_id"], "text": "Answer",
                                                   "client_id": answer_id}))  # ConnectionClosed: see read()
                    self.stats.answered += 1
            elif kind == "error":
                if msg.get("code") == "unknown_op":
                    self.stats.answers_unsupported = True
                    self.stats.agent_sent.clear()
                else:
                    self.stats.errors.append(f"agent: {msg}"[:300])


async def chat_load(ws_base: str, seed: dict[str, Any], pid: int, interval: float, seconds: float) -> dict[str, Any]:
    stats = Stats()
    sessions = seed["sessions"]
    rss0 = rss_kb(pid)
    urls = [(f"{ws_base}/ws/chat/{seed['key']}/?token={s['token']}", {"X-Forwarded-For": fake_ip(i)})
            for i, s in enumerate(sessions)]
    visitor_socks = await connect_all(urls)
    visitors = [Visitor(ws, stats, i) for i, ws in enumerate(visitor_socks)]
    readers = [asyncio.create_task(v.read()) for v in visitors]
    for i in range(0, len(visitors), 100):
        batch = visitors[i:i + 100]
        for v in batch:
            await v.ws.send(json.dumps({"type": "resume", "after_seq": 0}))
        await asyncio.gather(*(asyncio.wait_for(v.history, 60) for v in batch))
    await asyncio.sleep(2.0)
    rss1 = rss_kb(pid)
    agent_socks = await connect_all([(ws_base + "/ws/desk/agent/", {"Cookie": a["cookie"]}) for a in seed["agents"]])
    agents = [Agent(ws, stats) for ws in agent_socks]
    readers += [asyncio.create_task(a.read()) for a in agents]
    await asyncio.sleep(1.0)
    cpu0 = cpu_seconds(pid)
    rng = random.Random(7)
    t0 = time.monotonic()
    await asyncio.gather(*(v.talk(interval, seconds, rng) for v in visitors))
    elapsed = time.monotonic() - t0
    deadline = time.monotonic() + 20
    while (stats.visitor_sent or stats.agent_sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    cpu = cpu_seconds(pid) - cpu0
    for ws in [*visitor_socks, *agent_socks]:
        with contextlib.suppress(ConnectionClosed):
            await ws.close()
    for r in readers:
        r.cancel()
    return {"stats": stats, "rss0_kb": rss0, "rss1_kb": rss1, "elapsed": elapsed, "cpu_s": cpu,
            "lost_to_agent": len(stats.visitor_sent), "lost_to_visitor": len(stats.agent_sent)}


# --- one server run -----------------------------------------------------------------------------

def start_server(env: dict[str, str], home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (home / "server.log").open("wb")
    server = subprocess.Popen([LINIA, "serve", "--port", str(port), "--no-migrate"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=2)  # noqa: S310 (local server)
            return server, base
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"server did not start; see {home / 'server.log'}") from None
            time.sleep(0.3)


def run_layer(layer: str, db: str, sessions: int, n_agents: int, interval: float, seconds: float) -> bool:
    home = Path(tempfile.mkdtemp(prefix=f"linia-bench-chat-{layer}-"))
    env = {**os.environ, "LINIA_HOME": str(home), "REDIS_URL": "", "LINIA_FAST_PASSWORDS": "1",
           "DJANGO_SETTINGS_MODULE": "linia.settings", "DATABASE_URL": "", "LINIA_CHAT_BENCH_ECHO": "1",
           "LINIA_TRUST_X_FORWARDED_FOR": "1"}
    if layer in ("redis", "redis-core"):
        env.update(REDIS_URL=REDIS, LINIA_REDIS_PREFIX=f"benchchat{os.getpid()}:",
                   LINIA_REDIS_LAYER="core" if layer == "redis-core" else "pubsub")
    databases = contextlib.ExitStack()  # the PostgreSQL database, dropped once the server has stopped
    dbname = None
    if db == "postgres":
        dbname = f"linia_bench_chat_{os.getpid()}_{layer}"
        env["DATABASE_URL"] = databases.enter_context(postgres_database(dbname))
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([LINIA, "migrate", "--verbosity", "0"], env=env, check=True, timeout=300)
        t = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "benchmarks._chat_seed", str(sessions), str(n_agents)], env=env,
                             cwd=ROOT, check=True, capture_output=True, timeout=1800).stdout
        seed = json.loads(out.decode().strip().splitlines()[-1])
        print(f"[{layer}/{db}] seeded {sessions} chats with {n_agents} agents in {time.monotonic() - t:.0f} s")
        server, base = start_server(env, home)
        ws_base = base.replace("http://", "ws://")
        echo = asyncio.run(echo_baseline(ws_base, sessions, interval, seconds))
        result = asyncio.run(chat_load(ws_base, seed, server.pid, interval, seconds))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        databases.close()
        if layer != "memory":
            _drop_redis_prefix(env["LINIA_REDIS_PREFIX"])
    return report(layer, db, sessions, interval, seconds, echo, result)


def _drop_redis_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def _line(name: str, samples: list[float]) -> str:
    if not samples:
        return f"{name}: no samples"
    p50, p95, p99 = (percentile(samples, p) for p in (50, 95, 99))
    return f"{name}: n {len(samples)}, p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {max(samples):.1f} ms"


def report(layer: str, db: str, sessions: int, interval: float, seconds: float, echo: list[float],
           result: dict[str, Any]) -> bool:
    stats: Stats = result["stats"]
    tag = f"[{layer}/{db}]"
    per_session = (result["rss1_kb"] - result["rss0_kb"]) / max(1, sessions)
    print(f"{tag} {sessions} widget sessions, one message every {interval:g} s each for {seconds:g} s "
          f"({sessions / interval:.0f} visitor messages/s{'' if stats.answers_unsupported else ' + as many answers'})")
    print(f"{tag} memory per idle session: {per_session:.1f} KiB (server RSS {result['rss0_kb'] / 1024:.0f} -> "
          f"{result['rss1_kb'] / 1024:.0f} MiB)")
    print(f"{tag} " + _line("baseline echo round trip", echo))
    print(f"{tag} " + _line("visitor -> agent desk", stats.to_agent))
    print(f"{tag} " + _line("agent -> visitor", stats.to_visitor))
    print(f"{tag} " + _line("visitor ack", stats.acks))
    print(f"{tag} sent {stats.sent}, answered {stats.answered}, lost to agent {result['lost_to_agent']}, lost to "
          f"visitor {result['lost_to_visitor']}, errors {len(stats.errors)} {stats.errors[:2]}; server CPU "
          f"{result['cpu_s']:.1f} s ({1000 * result['cpu_s'] / max(1, stats.sent):.1f} ms per visitor message)")
    if stats.answers_unsupported:
        print(f"{tag} the desk has no chat.send op here: agents did not answer (agent -> visitor not measured)")
    p99s = [percentile(s, 99) for s in (stats.to_agent, stats.to_visitor) if s]
    worst = max(p99s) if p99s else float("inf")
    if echo and p99s:
        print(f"{tag} ratio p99 delivery / p99 echo: {worst / percentile(echo, 99):.1f}x")
    ok = (worst < TARGET_P99_MS and not stats.errors and result["lost_to_agent"] == 0
          and result["lost_to_visitor"] == 0 and not stats.answers_unsupported)
    print(f"{tag} {'PASS' if ok else 'FAIL'}: delivery p99 {worst:.1f} ms (target < {TARGET_P99_MS:.0f} ms), "
          "nothing lost")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--layer", choices=["memory", "redis", "redis-core", "both", "all"], default="both")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    ok = True
    layers = {"both": ["memory", "redis"], "all": ["memory", "redis", "redis-core"]}.get(args.layer, [args.layer])
    for layer in layers:
        ok = run_layer(layer, args.db, args.sessions, args.agents, args.interval, args.seconds) and ok
    print("chat benchmark:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
