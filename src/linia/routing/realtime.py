"""Realtime messages to agent desktops and supervisor views, sent only once the transaction commits.

Groups: ``agent-{user_id}`` and ``supervisor-{tenant_id}``; consumers receive
``{"type": "linia.event", "payload": {...}}`` (payload kinds: docs/routing.md).

Inside a server process (``linia serve``: the ASGI lifespan starts a `Pump`), sync code hands messages to
the server's event loop and goes on: the request thread never waits for the loop, messages leave in the
order they were published, and live queue figures of a tenant are computed at most every
STATS_EVERY_S seconds however many changes happen. Elsewhere (worker, CLI, tests) a message is sent
before ``publish`` returns, as before.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from linia.core.wsdb import short_gil_turns

log = logging.getLogger(__name__)
STATS_EVERY_S = 0.25

StatsFn = Callable[[int], dict[str, Any]]


def agent_group(user_id: int) -> str:
    return f"agent-{user_id}"


def supervisor_group(tenant_id: int) -> str:
    return f"supervisor-{tenant_id}"


def user_group(user_id: int) -> str:
    """Every desk socket of one user: told when the user's access changes (memberships, deactivation)."""
    return f"user-{user_id}"


ACCESS_CHANGED = "access_changed"


async def _group_send(group: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(group, {"type": "linia.event", "payload": payload})
    except Exception:  # a down channel layer must never undo or fail a committed routing change
        log.exception("realtime publish to %s failed", group)


async def _send_in_order(group: str, payloads: list[dict[str, Any]]) -> None:
    for payload in payloads:
        await _group_send(group, payload)


class Pump:
    """One per server process: an ordered queue of outgoing messages drained by a task on the server's loop.

    Threads hand messages over in a list under a lock and wake the loop only when no wake-up is pending
    (one per burst, not one per message: an action publishes several); queue figures wanted are noted
    under the same lock and picked up by the loop's own 4-per-second timer, without a wake-up."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.thread_id = threading.get_ident()
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.stats_wanted: dict[int, StatsFn] = {}
        self._lock = threading.Lock()
        self._handed: list[tuple[str, dict[str, Any]]] = []
        self._wake_pending = False
        self.tasks = [loop.create_task(self._send()), loop.create_task(self._stats())]

    def usable(self) -> bool:
        return not self.loop.is_closed() and threading.get_ident() != self.thread_id

    def put(self, group: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self._handed.append((group, payload))
            if self._wake_pending:
                return  # the loop drains the list (in order) at the wake-up already scheduled
            self._wake_pending = True
        self.loop.call_soon_threadsafe(self._take_handed)

    def _take_handed(self) -> None:
        with self._lock:
            handed, self._handed, self._wake_pending = self._handed, [], False
        for item in handed:
            self.queue.put_nowait(item)

    def want_stats(self, tenant_id: int, compute: StatsFn) -> None:
        with self._lock:
            self.stats_wanted[tenant_id] = compute

    async def _send(self) -> None:
        """What is queued goes out group by group: in order within a group, groups side by side (with
        channels-redis each send is a round trip; one after another they capped a busy chat server)."""
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            by_group: dict[str, list[dict[str, Any]]] = {}
            for group, payload in batch:
                by_group.setdefault(group, []).append(payload)
            await asyncio.gather(*(_send_in_order(group, payloads) for group, payloads in by_group.items()))

    async def _stats(self) -> None:
        while True:
            await asyncio.sleep(STATS_EVERY_S)
            with self._lock:
                wanted, self.stats_wanted = self.stats_wanted, {}
            for tenant_id, compute in wanted.items():
                try:
                    # With connection hygiene (old or broken connections closed before and after): the desk
                    # consumers no longer close old connections of this shared thread at each message.
                    payload = await database_sync_to_async(compute)(tenant_id)
                except Exception:
                    log.exception("queue figures of tenant %s failed", tenant_id)
                    continue
                self.queue.put_nowait((supervisor_group(tenant_id), payload))

    async def stop(self) -> None:
        self._take_handed()
        while not self.queue.empty():  # what was published before shutdown still goes out
            group, payload = self.queue.get_nowait()
            await _group_send(group, payload)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


_pump: Pump | None = None


async def start_pump() -> None:
    global _pump
    _pump = Pump(asyncio.get_running_loop())


async def stop_pump() -> None:
    global _pump
    pump, _pump = _pump, None
    if pump is not None:
        await pump.stop()


def _active_pump() -> Pump | None:
    pump = _pump
    return pump if pump is not None and pump.usable() else None


def send_now(group: str, payload: dict[str, Any]) -> None:
    pump = _active_pump()
    if pump is not None:
        pump.put(group, payload)
        return
    async_to_sync(_group_send)(group, payload)


def publish(group: str, payload: dict[str, Any]) -> None:
    """Send after commit (never announce an offer that was rolled back)."""
    transaction.on_commit(lambda: send_now(group, payload))


def stats_soon(tenant_id: int, compute: StatsFn) -> None:
    """After commit, the tenant's supervisors get fresh queue figures (coalesced inside a server)."""
    def later() -> None:
        pump = _active_pump()
        if pump is not None:
            pump.want_stats(tenant_id, compute)
        else:
            send_now(supervisor_group(tenant_id), compute(tenant_id))
    transaction.on_commit(later)


async def lifespan(scope: dict[str, Any], receive: Callable[[], Any], send: Callable[[dict[str, Any]], Any]) -> None:
    """ASGI lifespan app: the server process's pump lives from startup to shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            short_gil_turns()
            # Everything loaded so far lives as long as the process: keep it out of the garbage collector's
            # scans (they otherwise walk every Django model, URL and template object on each full pass).
            gc.collect()
            gc.freeze()
            await start_pump()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await stop_pump()
            await send({"type": "lifespan.shutdown.complete"})
            return
