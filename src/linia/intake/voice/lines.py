"""Lines by dialled number or PBX queue name, with their routing queue, remembered per process.

Every CTI event looks its line up: a PBX posting 50 calls a second asks for the same few rows hundreds of
times a second. The rows (not instances: each event gets its own) are remembered for
settings.VOICE_LINE_CACHE_SECONDS (default 5 s; 0 turns it off), keyed by what was asked, an unknown
number too. Any save or delete of a line or a queue in this process forgets them all at once; a change made
elsewhere (another server process, a queryset ``update()``) is seen within that time, as for API tokens
(linia.api.auth).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from linia.core import fastsql
from linia.core.memo import TimedMemo
from linia.intake.voice.models import Line
from linia.routing.models import Queue

Row = tuple[Any, ...] | None
# Keys come from the PBX (any dialled number): the memo is bounded (10,000 keys).
remembered: TimedMemo[Row] = TimedMemo(lambda: float(getattr(settings, "VOICE_LINE_CACHE_SECONDS", 5.0)))


def forget_lines(**_kwargs: Any) -> None:
    """Forget every remembered line (a line or a queue changed in this process)."""
    remembered.forget()


for _model in (Line, Queue):
    post_save.connect(forget_lines, sender=_model, dispatch_uid=f"linia-voice-lines-{_model.__name__}-save")
    post_delete.connect(forget_lines, sender=_model, dispatch_uid=f"linia-voice-lines-{_model.__name__}-delete")


def by_number(number: str) -> Line | None:
    """The line with this E.164 number (unique across the installation), any tenant's."""
    return _line(("number", number), "l.number = %s", [number])


def by_pbx_queue(tenant_id: int, pbx_queue: str) -> Line | None:
    """The tenant's first line (by number) that the PBX names by this queue."""
    return _line(("queue", tenant_id, pbx_queue), "l.tenant_id = %s AND l.pbx_queue = %s", [tenant_id, pbx_queue])


def _line(key: tuple[Any, ...], condition: str, params: list[Any]) -> Line | None:
    row = remembered.get(key, lambda: _read(condition, params))
    return _build(row) if row is not None else None


def _read(condition: str, params: list[Any]) -> Row:
    sql = (f"SELECT {fastsql.cols(Line, 'l')}, {fastsql.cols(Queue, 'q')} FROM {fastsql.table(Line)} l "  # noqa: S608
           f"LEFT JOIN {fastsql.table(Queue)} q ON q.id = l.queue_id WHERE {condition} ORDER BY l.number LIMIT 1")
    return fastsql.fetch_one(sql, params)


def _build(row: tuple[Any, ...]) -> Line:
    line = fastsql.load(Line, row)
    at = fastsql.width(Line)
    fastsql.attach(line, "queue", fastsql.load(Queue, row, at) if row[at] is not None else None)
    return line
