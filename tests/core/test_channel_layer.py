"""The server's in-memory channel layer sweeps expired messages at most once a second (not on every
send and receive), and still drops them."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync
from django.conf import settings

from linia.core.channel_layer import InMemoryChannelLayer


def test_settings_use_it_without_redis() -> None:
    if not settings.REDIS_URL:
        assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "linia.core.channel_layer.InMemoryChannelLayer"


def test_messages_and_groups_work_and_expired_messages_are_dropped_by_the_next_sweep() -> None:
    layer = InMemoryChannelLayer(expiry=0.2)

    async def scenario() -> tuple[dict[str, object], bool, bool]:
        await layer.group_add("agents", "a.inmemory!one")
        await layer.group_send("agents", {"type": "linia.event", "n": 1})
        got = await asyncio.wait_for(layer.receive("a.inmemory!one"), 1)
        await layer.send("a.inmemory!two", {"type": "linia.event", "n": 2})  # expires in 0.2 s
        await asyncio.sleep(0.4)
        await layer.group_send("others", {"type": "linia.event", "n": 3})  # within the second: no sweep
        kept = "a.inmemory!two" in layer.channels
        await asyncio.sleep(0.8)
        await layer.group_send("others", {"type": "linia.event", "n": 4})  # a second later: swept
        return got, kept, "a.inmemory!two" in layer.channels

    got, kept, still_there = async_to_sync(scenario)()
    assert got["n"] == 1
    assert kept and not still_there


def test_a_group_send_reaches_every_member_even_when_one_is_full() -> None:
    layer = InMemoryChannelLayer(capacity=1)

    async def scenario() -> list[int]:
        for name in ("a.inmemory!full", "a.inmemory!one", "a.inmemory!two"):
            await layer.group_add("agents", name)
        await layer.send("a.inmemory!full", {"type": "linia.event", "n": 0})  # its one place is taken
        await layer.group_send("agents", {"type": "linia.event", "n": 1})
        got = [await asyncio.wait_for(layer.receive(name), 1) for name in
               ("a.inmemory!full", "a.inmemory!one", "a.inmemory!two")]
        return [int(m["n"]) for m in got]

    assert async_to_sync(scenario)() == [0, 1, 1]
