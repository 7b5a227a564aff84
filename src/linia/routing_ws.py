"""Websocket URL patterns of all apps (the agent desktop and chat add theirs here)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from linia.desk.consumers import AgentConsumer, SupervisorConsumer
from linia.intake.chat.routing import websocket_urlpatterns as chat_websockets

websocket_urlpatterns: list[Any] = [
    path("ws/desk/agent/", AgentConsumer.as_asgi()),
    path("ws/desk/supervisor/", SupervisorConsumer.as_asgi()),
    *chat_websockets,
]
