"""A bare Channels echo consumer: the baseline of benchmarks/chat.py (served only with LINIA_CHAT_BENCH_ECHO=1).

Each text frame goes through the channel layer (a group of its own socket) and back, the same hop a chat
message takes to its recipients, without the database: what the stack itself costs."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer


class EchoConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        self.group = f"echo-{self.channel_name.replace('!', '-')}"[:90]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        await self.channel_layer.group_send(self.group, {"type": "echo.back", "text": text_data or ""})

    async def echo_back(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])
