"""A real HTTP webhook receiver on a free 127.0.0.1 port (http.server in a thread).

It verifies every request's signature with `verify_signature` (as a customer's receiver would),
records what arrived, and misbehaves on request as planned: "500" (server error), "timeout" (answer
later than Linia waits), "close" (drop the connection without an answer), "ok-then-500" (process
the event, then answer 500: the sender must retry, the receiver must dedupe).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from linia.dispatch.signing import verify_signature


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    valid: bool
    behaviour: str
    at: float

    @property
    def event_id(self) -> int:
        return int(self.headers["X-Linia-Event-Id"])

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int
    secrets: dict[str, str] = field(default_factory=dict)  # path -> secret
    plan: list[str] = field(default_factory=list)  # behaviours of the next requests; then "ok"
    default: str = "ok"
    delay: float = 0.0
    hang_seconds: float = 2.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def next_behaviour(self) -> str:
        with self.lock:
            return self.plan.pop(0) if self.plan else self.default

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        headers = dict(handler.headers.items())
        secret = self.secrets.get(handler.path, "")
        valid = bool(secret) and verify_signature(secret, headers.get("X-Linia-Timestamp", ""), body,
                                                  headers.get("X-Linia-Signature", ""))
        behaviour = self.next_behaviour()
        with self.lock:
            self.received.append(Received(handler.path, headers, body, valid, behaviour, time.monotonic()))
        if self.delay:
            time.sleep(self.delay)
        if behaviour == "timeout":
            time.sleep(self.hang_seconds)
            return  # the sender gave up long ago
        if behaviour == "close":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        code = 200 if behaviour == "ok" and valid else (401 if not valid else 500)
        answer = b'{"ok": true}' if code == 200 else b"nope"
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    def ok(self) -> list[Received]:
        return [r for r in self.received if r.behaviour == "ok" and r.valid]

    def processed(self) -> dict[int, Received]:
        """What a receiver that dedupes by X-Linia-Event-Id keeps: the first valid processed copy of each event."""
        kept: dict[int, Received] = {}
        for r in self.received:
            if r.valid and r.behaviour in {"ok", "ok-then-500"}:
                kept.setdefault(r.event_id, r)
        return kept


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(port: int | None = None, **kw: Any) -> Iterator[Receiver]:
    receiver = Receiver(port=port or 0, **kw)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            receiver.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    server.daemon_threads = True
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
