"""Websocket routes of the chat widget (included by linia.routing_ws)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from linia.intake.chat.consumers import VisitorConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/chat/<str:key>/", VisitorConsumer.as_asgi()),
]
