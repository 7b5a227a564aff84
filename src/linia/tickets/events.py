"""Writing the append-only event log (outbox). Call inside the action's transaction."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from linia.core import fastsql
from linia.tickets.models import Event, Ticket


def emit(tenant_id: int, kind: str, *, ticket: Ticket | None = None, actor: Any = None,
         data: dict[str, Any] | None = None) -> Event:
    # A plain INSERT: every state change writes one or more of these, and Event has no signal receivers.
    return fastsql.insert(Event(
        tenant_id=tenant_id,
        kind=kind,
        ticket=ticket,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data or {},
        created_at=timezone.now(),
    ))
