"""Realtime messages to agent desktops and supervisor views, sent only once the transaction commits.

Groups: ``agent-{user_id}`` and ``supervisor-{tenant_id}``; consumers receive
``{"type": "linia.event", "payload": {...}}`` (see /work/notes/ROUTING_CONTRACT.md for payload kinds).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def agent_group(user_id: int) -> str:
    return f"agent-{user_id}"


def supervisor_group(tenant_id: int) -> str:
    return f"supervisor-{tenant_id}"


def send_now(group: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "linia.event", "payload": payload})
    except Exception:  # a down channel layer must never undo or fail a committed routing change
        log.exception("realtime publish to %s failed", group)


def publish(group: str, payload: dict[str, Any]) -> None:
    """Send after commit (never announce an offer that was rolled back)."""
    transaction.on_commit(lambda: send_now(group, payload))
