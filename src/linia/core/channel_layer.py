"""The in-memory channel layer of a server without Redis (one process: `linia serve`, tests)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from channels import layers
from channels.exceptions import ChannelFull


class InMemoryChannelLayer(layers.InMemoryChannelLayer):  # type: ignore[misc]
    """Channels' in-memory layer, except that its sweep for expired messages and group memberships runs
    at most once a second instead of on every send, receive and group send: the sweep walks every channel
    and group, so with 500 desk websockets it cost ~10% of the server's CPU under routing load. Messages
    expire after ``expiry`` (60 s) and memberships after ``group_expiry`` (a day): a second later is the same.
    A group send puts the message on each member's queue directly (no task per member: putting never waits).

    Messages are not deep-copied on the way (Channels' layer copies each one for each receiver, 13% of the
    event loop's CPU in a routed call): Linia's consumers only read what they receive and build new dicts
    for what they change, and a publisher does not touch a message after sending it."""

    sweep_every = 1.0
    _swept = float("-inf")

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept < self.sweep_every:
            return
        self._swept = now
        super()._clean_expired()

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        try:
            queue.put_nowait((time.time() + self.expiry, message))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, {})):
            # As channels does: a full channel (a stuck client) does not stop the others.
            with contextlib.suppress(ChannelFull):
                await self.send(channel, message)
