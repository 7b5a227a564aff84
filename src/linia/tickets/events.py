"""Writing the append-only event log (outbox). Call inside the action's transaction."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from linia.core.plainsql import insert
from linia.tickets.models import Event, Ticket


def emit(tenant_id: int, kind: str, *, ticket: Ticket | None = None, actor: Any = None,
         data: dict[str, Any] | None = None) -> Event:
    # A plain INSERT (linia.core.plainsql): every state change writes one, some write several.
    return insert(Event(
        tenant_id=tenant_id,
        kind=kind,
        ticket=ticket,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data or {},
        created_at=timezone.now(),
    ))
