"""HTTP requests of `linia serve` run on a fixed pool of threads (linia.asgi.PooledASGIHandler): each
request keeps one thread from start to end, at most LINIA_HTTP_THREADS run at once, threads are reused."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator

from linia.asgi import PooledASGIHandler, application


def _scope(path: str = "/api/v1/") -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1), "server": ("testserver", 80)}


class Recording(PooledASGIHandler):
    """Instead of Django's request handling: note the threads a request's sync steps ran on."""

    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        self.requests: list[list[str]] = []
        self.running = 0
        self.most = 0

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen: list[str] = []
        self.running += 1
        self.most = max(self.most, self.running)
        for _ in range(3):
            seen.append(await sync_to_async(lambda: threading.current_thread().name)())
            await sync_to_async(time.sleep)(0.01)
        self.running -= 1
        self.requests.append(seen)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def _request(app: Any, path: str = "/api/v1/") -> tuple[int, bytes]:
    comm = ApplicationCommunicator(app, _scope(path))
    await comm.send_input({"type": "http.request", "body": b""})
    start = await comm.receive_output(10)
    body = b""
    while True:
        message = await comm.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    return start["status"], body


def test_requests_share_a_fixed_set_of_threads_one_thread_per_request() -> None:
    app = Recording(threads=2)

    async def scenario() -> None:
        await asyncio.gather(*(_request(app) for _ in range(6)))
        await asyncio.gather(*(_request(app) for _ in range(6)))

    async_to_sync(scenario)()
    assert len(app.requests) == 12
    assert all(len(set(seen)) == 1 for seen in app.requests)  # thread-sensitive: one thread per request
    threads = {seen[0] for seen in app.requests}
    assert len(threads) == 2 and all(name.startswith("linia-http-") for name in threads)
    assert app.most == 2  # the third concurrent request waited for a free thread


@pytest.mark.django_db(transaction=True)
def test_the_real_application_answers_through_the_pool() -> None:
    status, body = async_to_sync(_request)(application, "/api/v1/")
    assert status == 200 and b"Linia API" in body


@pytest.mark.django_db(transaction=True)
def test_each_request_starts_and_finishes_once_on_its_own_pool_thread() -> None:
    from django.core import signals

    seen: list[tuple[str, str]] = []

    def started(**kwargs: Any) -> None:
        seen.append(("started", threading.current_thread().name))

    def finished(**kwargs: Any) -> None:
        seen.append(("finished", threading.current_thread().name))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        status, _body = async_to_sync(_request)(application, "/api/v1/")
        missing, _ = async_to_sync(_request)(application, "/api/v1/no-such-endpoint")
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert status == 200 and missing == 404
    assert [kind for kind, _thread in seen] == ["started", "finished", "started", "finished"]
    assert all(thread.startswith("linia-http-") for _kind, thread in seen)
