"""Websocket routes of the chat widget (included by linia.routing_ws)."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
