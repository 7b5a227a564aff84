"""Writing the append-only event log (outbox). Call inside the action's transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.utils import timezone

from linia.core import fastsql
from linia.tickets.models import Event, Ticket

_batch = threading.local()  # .rows: the events of the open batch in this thread (None: no batch)


def emit(tenant_id: int, kind: str, *, ticket: Ticket | None = None, actor: Any = None,
         data: dict[str, Any] | None = None) -> Event:
    """Write one event row (a plain INSERT: Event has no signal receivers), or inside ``batched()`` keep it
    for the batch's one INSERT: then the returned event has no primary key."""
    event = Event(  # by ids: setting related objects costs more, and the row is all that is wanted
        tenant_id=tenant_id,
        kind=kind,
        ticket_id=ticket.pk if ticket is not None else None,
        actor_id=actor.pk if getattr(actor, "is_authenticated", False) else None,
        data=data or {},
        created_at=timezone.now(),
    )
    rows = getattr(_batch, "rows", None)
    if rows is None:
        return fastsql.insert(event)
    rows.append(event)
    return event


@contextmanager
def batched() -> Iterator[None]:
    """Events emitted inside are written together, in one INSERT, when the outermost batch ends without an
    error: open it inside the action's transaction, so they commit (or roll back) with its other writes. The
    hot paths (a CTI event, an offer, an accept, a completion) write 2-3 events each: one round trip, not 3.
    An inner batch that fails drops its own events and no others, as a savepoint drops its writes; ``atomic``
    pairs the two, so that a savepoint and its batch cannot be opened one without the other."""
    rows = getattr(_batch, "rows", None)
    outermost = rows is None
    if rows is None:
        rows = _batch.rows = []
    mark = len(rows)
    try:
        yield
    except BaseException:
        del rows[mark:]
        raise
    finally:
        if outermost:
            _batch.rows = None
    if outermost:
        fastsql.insert_rows(rows)


@contextmanager
def atomic(*, savepoint: bool = True) -> Iterator[None]:
    """``transaction.atomic`` whose events are ``batched()``: the block and its event rows commit, or roll back,
    together, so a savepoint whose error is caught also drops the event rows it emitted."""
    with transaction.atomic(savepoint=savepoint), batched():
        yield
