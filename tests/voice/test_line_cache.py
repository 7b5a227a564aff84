"""A server remembers the lines CTI events name for a few seconds: a change made in the same process applies at
once, one made elsewhere within VOICE_LINE_CACHE_SECONDS, and a flood of unknown numbers cannot grow it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linia.intake.voice import lines
from linia.intake.voice.models import Call, Line, LineMode
from linia.routing.models import Queue

from .conftest import World, event


def _line_reads(ctx: CaptureQueriesContext) -> int:
    return sum(1 for q in ctx.captured_queries if 'FROM "voice_line"' in q["sql"])


def test_the_next_event_reads_no_line(world: World) -> None:
    a = world.a
    with CaptureQueriesContext(connection) as ctx:
        assert a.api.post("voice/events", event("c-1", 1, "offered")).status_code == 200
        assert a.api.post("voice/events", event("c-1", 2, "answered", agent_extension="201")).status_code == 200
    assert _line_reads(ctx) == 1
    assert Call.objects.get(pbx_call_id="c-1").line == a.line


def test_a_line_or_queue_saved_here_applies_at_once(world: World) -> None:
    a = world.a
    assert lines.by_number(a.line.number) == a.line
    queue = Queue.objects.create(tenant=a.tenant, code="calls", name="Calls", channels=["call"])
    a.line.mode, a.line.queue = LineMode.ROUTE, queue
    a.line.save()
    found = lines.by_number(a.line.number)
    assert found is not None and (found.mode, found.queue) == (LineMode.ROUTE, queue)
    queue.name = "Calls, renamed"
    queue.save()
    found = lines.by_number(a.line.number)
    assert found is not None and found.queue is not None and found.queue.name == "Calls, renamed"
    a.line.delete()
    assert lines.by_number(a.line.number) is None


def test_a_change_made_elsewhere_is_seen_within_the_time(world: World, settings: Any) -> None:
    settings.VOICE_LINE_CACHE_SECONDS = 0.3
    a = world.a
    assert lines.by_pbx_queue(a.tenant.pk, "alfa-support") == a.line
    Line.objects.filter(pk=a.line.pk).update(pbx_queue="alfa-new")  # as another process would: no signal here
    assert lines.by_pbx_queue(a.tenant.pk, "alfa-support") == a.line  # still remembered
    time.sleep(0.35)
    assert lines.by_pbx_queue(a.tenant.pk, "alfa-support") is None
    assert lines.by_pbx_queue(a.tenant.pk, "alfa-new") == a.line


def test_an_unknown_number_is_found_once_its_line_is_made(world: World) -> None:
    a = world.a
    assert lines.by_number("+48220000000") is None
    made = Line.objects.create(tenant=a.tenant, number="+48220000000", name="Stores")
    assert lines.by_number("+48220000000") == made


def test_each_event_gets_its_own_instances(world: World) -> None:
    first, second = lines.by_number(world.a.line.number), lines.by_number(world.a.line.number)
    assert first == second and first is not second


def test_unknown_numbers_cannot_grow_it_without_bound(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lines.remembered, "max_size", 5)
    for i in range(12):
        assert lines.by_number(f"+4822000{i:04d}") is None
        assert len(lines.remembered) <= 5


def test_zero_seconds_turns_it_off(world: World, settings: Any) -> None:
    settings.VOICE_LINE_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as ctx:
        lines.by_number(world.a.line.number)
        lines.by_number(world.a.line.number)
    assert _line_reads(ctx) == 2
