"""Websocket URL patterns of all apps (the agent desktop and chat add theirs here)."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
