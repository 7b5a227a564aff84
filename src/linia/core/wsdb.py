"""Database work of websocket consumers on a bounded pool of threads instead of Channels' single one.

Channels' `database_sync_to_async` is thread-sensitive: with no request context around it, every call of
every consumer in the process runs on ONE shared thread, so 1,000 chat sockets queue behind each other's
queries. Here each consumer gets one of `ws_db_threads()` single-thread executors, chosen by hashing its
channel name: its own calls stay in order on one thread (and one database connection), while different
consumers' calls run side by side. Connection hygiene (close_old_connections before and after each call) is
Channels' own, from DatabaseSyncToAsync.
"""

from __future__ import annotations

import asyncio
import os
import sys
import weakref
import zlib
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync

P = ParamSpec("P")
R = TypeVar("R")

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[ThreadPoolExecutor]] = weakref.WeakKeyDictionary()


def ws_db_threads() -> int:
    """LINIA_WS_DB_THREADS, else 8 on PostgreSQL and 1 on SQLite (one writer at a time: more threads would
    only wait on its lock, and each message of a chat is a write)."""
    from django.conf import settings

    raw = os.environ.get("LINIA_WS_DB_THREADS", "").strip()
    if raw:
        return max(1, int(raw))
    return 1 if "sqlite" in settings.DATABASES["default"]["ENGINE"] else 8


def _pool() -> list[ThreadPoolExecutor]:
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:  # one set of threads per event loop (one loop per server process)
        pool = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"linia-ws-db-{i}")
                for i in range(ws_db_threads())]
        _pools[loop] = pool
    return pool


def executor_for(key: str) -> ThreadPoolExecutor:
    """The executor of one consumer (key: its channel name); the same key always gets the same thread."""
    pool = _pool()
    return pool[zlib.crc32(key.encode()) % len(pool)]


def _shared_thread() -> bool:
    """An in-memory SQLite database (the test suite's) allows one connection at a time: there every call
    stays on Channels' one thread, shared with test code that uses database_sync_to_async itself.
    Asked once per process (the database does not change; every websocket op asked before)."""
    global _shared
    if _shared is None:
        from django.db import connection

        _shared = connection.vendor == "sqlite" and bool(connection.is_in_memory_db())  # type: ignore[attr-defined]
    return _shared


_shared: bool | None = None


def ws_db(key: str, func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`database_sync_to_async(func)`, on the pool thread of the consumer named by key."""
    wrapped: Any = (DatabaseSyncToAsync(func) if _shared_thread()
                    else DatabaseSyncToAsync(func, thread_sensitive=False, executor=executor_for(key)))
    return wrapped  # type: ignore[no-any-return]


class WsDbConsumer:
    """Mixin for consumers that do all their database work through `ws_db`, listed before Channels' base.

    Channels (4.x) runs `close_old_connections` on its one shared sync thread before EVERY message a consumer
    handles (each frame and each push): a thread round trip per message, queued behind everything else on that
    thread, that only tidies that thread's connection, which these consumers never use. `ws_db` already closes
    old connections around each call on the pool thread that does the work, so the hop is skipped here."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


def short_gil_turns() -> None:
    """For a server process (the ASGI lifespan calls it, so every `--workers` process does): a database thread
    gives up the GIL on every statement and then waits for the event loop to hand it back, by default after up
    to 5 ms; with a dozen statements per chat message that wait, not the work, capped the messages a process
    stores per second (docs/operations.md: p99 1.8 s at 5 ms, 0.19 s at 0.5 ms). LINIA_GIL_SWITCH_MS, default
    0.5."""
    sys.setswitchinterval(float(os.environ.get("LINIA_GIL_SWITCH_MS", "0.5")) / 1000)
