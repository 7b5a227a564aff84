"""PostgreSQL sessions: which statements are prepared, and so may run on a generic plan.

psycopg prepares a statement on a connection once it ran there ``prepare_threshold`` times (5). PostgreSQL
then plans it once for any values (a generic plan) when that looks no dearer than planning it for each
call's values; planning for each call was about a third of the database server's CPU per routed call
(``benchmarks/routing_sql.py``). A generic plan is a trap where a value is skewed: for ``status = $1`` it
assumes an average status, and an EXISTS or LIMIT read may then pick a scan that would stop at the first
match, but reads the whole table, because "queued" rows are few among millions of completed ones.

So only the hot path's plain SQL (``linia.core.fastsql``) is prepared: it writes such code constants
(statuses, states, roles) into the text (``fastsql.literals``), where every plan sees them. The ORM's
statements are never prepared (unnamed statements are planned for their values every time).
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base
from psycopg.types.datetime import TimestamptzLoader

ServerBindingCursor: Any = base.ServerBindingCursor  # type: ignore[attr-defined]  # (not in django-stubs)


class UnpreparedCursor(ServerBindingCursor):  # type: ignore[misc]
    """Django's server-side binding cursor whose statements are never prepared unless asked to."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                binary: bool | None = None) -> Any:
        return super().execute(query, params, prepare=False if prepare is None else prepare, binary=binary)


def unprepared_orm(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created: the ORM's cursors on a prepared-statement connection stop preparing."""
    if connection.vendor == "postgresql" and connection.connection.cursor_factory is ServerBindingCursor:
        connection.connection.cursor_factory = UnpreparedCursor


def statement_cursor(pg: Any) -> Any:
    """A cursor for fastsql's statements on the psycopg connection ``pg``: prepared after the threshold.

    Its timestamps are read by psycopg's C loader (in the session's time zone, UTC as Django sets it) instead of
    Django's Python subclass, which only replaces the zone with datetime.UTC: the same instants, at a fraction
    of the CPU (a routed call reads dozens)."""
    cursor = ServerBindingCursor(pg) if pg.cursor_factory is UnpreparedCursor else pg.cursor()
    cursor.adapters.register_loader("timestamptz", TimestamptzLoader)  # psycopg uses its C version of this class
    return cursor
