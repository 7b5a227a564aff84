"""Inside a server process the realtime pump sends messages from sync code in publish order without the
caller waiting, and coalesces a tenant's live queue figures; outside one, messages go out at once."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from channels.layers import get_channel_layer

from linia.routing import realtime


async def _drain(channel: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    layer = get_channel_layer()
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        try:
            message = await asyncio.wait_for(layer.receive(channel), max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            break
        got.append(message["payload"])
    return got


def test_pump_keeps_order_and_does_not_block_the_caller() -> None:
    async def scenario() -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("agent-77", channel)
        await realtime.start_pump()
        try:
            caller = {}

            def sync_side() -> None:  # a request thread: publishing returns without waiting for the loop
                start = time.monotonic()
                for n in range(80):  # under the in-memory layer's per-channel capacity (100)
                    realtime.send_now("agent-77", {"kind": "n", "n": n})
                caller["seconds"] = time.monotonic() - start
                caller["thread"] = threading.get_ident()

            await asyncio.to_thread(sync_side)
            got = await _drain(channel, 80)
            assert [m["n"] for m in got] == list(range(80))
            assert caller["seconds"] < 1.0
        finally:
            await realtime.stop_pump()
        assert realtime._active_pump() is None

    asyncio.run(scenario())


def test_pump_keeps_the_order_within_each_group_when_groups_interleave() -> None:
    async def scenario() -> None:
        layer = get_channel_layer()
        channels = {g: await layer.new_channel() for g in ("agent-1", "agent-2", "chat-3")}
        for group, channel in channels.items():
            await layer.group_add(group, channel)
        await realtime.start_pump()
        try:
            def sync_side() -> None:
                for n in range(30):
                    for group in channels:
                        realtime.send_now(group, {"kind": "n", "n": n, "group": group})

            await asyncio.to_thread(sync_side)
            for group, channel in channels.items():
                got = await _drain(channel, 30)
                assert [(m["group"], m["n"]) for m in got] == [(group, n) for n in range(30)]
        finally:
            await realtime.stop_pump()

    asyncio.run(scenario())


@pytest.mark.django_db  # the figures are computed with connection hygiene (old connections closed around)
def test_queue_figures_are_coalesced_per_tenant() -> None:
    computed: list[int] = []

    def compute(tenant_id: int) -> dict[str, Any]:
        computed.append(tenant_id)
        return {"kind": "queue_stats", "tenant": tenant_id, "call": len(computed)}

    async def scenario() -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(realtime.supervisor_group(5), channel)
        await realtime.start_pump()
        try:
            def burst() -> None:
                pump = realtime._active_pump()
                assert pump is not None
                for _ in range(50):
                    pump.want_stats(5, compute)

            await asyncio.to_thread(burst)
            got = await _drain(channel, 1, timeout=2)
            await asyncio.sleep(realtime.STATS_EVERY_S * 2)
            assert got and got[0]["kind"] == "queue_stats"
            assert computed == [5]  # fifty changes, one computation
        finally:
            await realtime.stop_pump()

    asyncio.run(scenario())


def test_without_a_server_loop_messages_go_out_before_send_now_returns() -> None:
    async def scenario() -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("agent-78", channel)
        await asyncio.to_thread(realtime.send_now, "agent-78", {"kind": "direct"})
        got = await _drain(channel, 1, timeout=0.5)
        assert got == [{"kind": "direct"}]

    assert realtime._active_pump() is None
    asyncio.run(scenario())


def test_a_server_process_shortens_the_gil_switch_interval_at_startup(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gc
    import sys

    monkeypatch.setenv("LINIA_GIL_SWITCH_MS", "0.25")
    before = sys.getswitchinterval()
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])
        if message["type"] == "lifespan.startup.complete":
            assert sys.getswitchinterval() == 0.00025

    try:
        asyncio.run(realtime.lifespan({"type": "lifespan"}, receive, send))
    finally:
        sys.setswitchinterval(before)
        gc.unfreeze()  # startup froze this test process's objects, as a server does
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
