"""Websocket routes of the chat widget (included by linia.routing_ws)."""

from __future__ import annotations

import os
from typing import Any

from django.urls import path

from linia.intake.chat.consumers import VisitorConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/chat/<str:key>/", VisitorConsumer.as_asgi()),
]
if os.environ.get("LINIA_CHAT_BENCH_ECHO") == "1":  # benchmarks/chat.py's baseline, never on by default
    from linia.intake.chat.echo import EchoConsumer

    websocket_urlpatterns.append(path("ws/chat-echo/", EchoConsumer.as_asgi()))
