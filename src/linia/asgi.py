"""ASGI entry point: HTTP through Django, websockets through Channels (routes added by desk/intake)."""

from __future__ import annotations

import asyncio
import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linia.settings")

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import HttpResponseBase
from django.urls import set_script_prefix


def http_threads() -> int:
    """LINIA_HTTP_THREADS, else 16 on PostgreSQL and 1 on SQLite: SQLite has one writer at a time, so more
    request threads only queue on its lock (measured: p99 offer latency 0.8 s with 16 threads, 0.18 s with 1)."""
    from django.conf import settings

    raw = os.environ.get("LINIA_HTTP_THREADS", "").strip()
    if raw:
        return int(raw)
    return 1 if "sqlite" in settings.DATABASES["default"]["ENGINE"] else 16


class PooledASGIHandler(ASGIHandler):
    """Django's ASGI handler, except that the sync part of each request runs on one of a fixed set of
    threads (see http_threads) instead of a thread started (and joined) for every request.
    A request still keeps one thread from start to end (thread-sensitive, as Django needs); up to that
    many requests run at once, the others wait for a free thread. The threads live on, so their
    database connections can too (CONN_MAX_AGE, set by `linia serve`)."""

    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        # The middleware chain and the view run in sync mode, as under WSGI: Django's async chain crosses
        # between the event loop and the request thread at every sync middleware and again for the view
        # (each crossing waits for a busy event loop: 500 desk websockets); here a request is one hop.
        self.load_middleware(is_async=False)
        self.threads = max(1, http_threads() if threads is None else threads)
        self._idle: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue[ThreadPoolExecutor]] = (
            weakref.WeakKeyDictionary())

    def _pool(self) -> asyncio.Queue[ThreadPoolExecutor]:
        loop = asyncio.get_running_loop()
        idle = self._idle.get(loop)
        if idle is None:  # one set of threads per event loop (one loop per server process)
            idle = asyncio.Queue()
            for i in range(self.threads):
                idle.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"linia-http-{i}"))
            self._idle[loop] = idle
        return idle

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # refuses it, as Django does
            return
        idle = self._pool()
        executor = await idle.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            idle.put_nowait(executor)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Read the body here, then request_started, the request, the response and (unless it streams)
        its close (request_finished) in one hop to the request's thread; send. A streaming response is
        closed after it was sent, on that thread again."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            set_script_prefix(get_script_prefix(scope))
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None  # Django returns one of the two
            response = error_response
        else:
            response = self.get_response(request)
        if not response.streaming:  # its content is bytes already: nothing left to read after this
            response.close()
        return response


django.setup(set_prefix=False)
django_asgi_app = PooledASGIHandler()

from linia.routing.realtime import lifespan  # noqa: E402
from linia.routing_ws import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
        "lifespan": lifespan,  # starts the realtime pump of this server process
    }
)
