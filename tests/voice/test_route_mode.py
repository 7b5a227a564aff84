"""Route mode: the PBX asks Linia which extension to ring; the routing engine picks the agent."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.utils import timezone

from linia.intake.voice.models import Call, LineMode
from linia.routing import actions as routing
from linia.routing.models import Queue, Reservation, Task

from .conftest import World, event


def route_line(world: World) -> Queue:
    a = world.a
    queue = Queue.objects.create(tenant=a.tenant, code="calls", name="Calls", channels=["call"])
    a.line.mode, a.line.queue = LineMode.ROUTE, queue
    a.line.save()
    routing.set_presence(None, a.agent, "available")
    return queue


def test_route_picks_the_agents_extension_and_follows_the_call(world: World) -> None:
    a = world.a
    route_line(world)
    assert a.api.post("voice/events", event("r-1", 1, "offered")).status_code == 200
    call = Call.objects.get(pbx_call_id="r-1")
    # Route mode dispatches as soon as the call is offered: the free agent's offer is already ringing.
    assert call.task is not None and call.task.status == "reserved" and call.task.external_id == "r-1"
    assert call.task.interaction == call.interaction and call.task.channel == "call"
    assert Reservation.objects.get(task=call.task, status="pending").agent == a.agent

    answer = a.api.post("voice/route", {"call_id": "r-1"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["action"] == "ring" and body["extension"] == "201" and body["agent_id"] == a.agent.pk
    assert a.api.post("voice/route", {"call_id": "r-1"}).json()["extension"] == "201"  # asking again: same offer

    for seq, kind in [(2, "ringing"), (3, "answered")]:
        assert a.api.post("voice/events", event("r-1", seq, kind, agent_extension="201")).status_code == 200
    task = Task.objects.get(pk=call.task_id)
    assert task.status == "assigned" and task.assigned_to == a.agent

    # The only agent is busy: a second caller waits.
    assert a.api.post("voice/events", event("r-2", 1, "queued")).status_code == 200
    assert a.api.post("voice/route", {"call_id": "r-2"}).json()["action"] == "wait"

    assert a.api.post("voice/events", event("r-1", 4, "ended")).status_code == 200
    task.refresh_from_db()
    assert task.status in {"wrap_up", "completed"} and task.ended_at is not None
    assert a.api.post("voice/events", event("r-2", 2, "abandoned")).status_code == 200
    assert Task.objects.get(external_id="r-2").status == "abandoned"
    assert a.api.post("voice/route", {"call_id": "r-2"}).status_code == 409  # no longer waiting


def test_route_refusals(world: World) -> None:
    a, b = world.a, world.b
    assert a.api.post("voice/route", {"call_id": "nope"}).status_code == 404
    assert a.api.post("voice/events", event("t-1", 1, "offered")).status_code == 200  # a track-mode line
    tracked = a.api.post("voice/route", {"call_id": "t-1"})
    assert tracked.status_code == 409 and tracked.json()["error"]["code"] == "not_routed"
    assert b.api.post("voice/route", {"call_id": "t-1"}).status_code == 404  # another tenant's call
    assert a.api.post("voice/route", {"call_id": ""}).status_code == 422
    assert a.agent_api.post("voice/route", {"call_id": "t-1"}).status_code == 403


def test_route_answers_closed_while_the_queue_is_closed(world: World) -> None:
    """A call in a closed queue (here: a holiday today, open 09:00-17:00 UTC tomorrow) is held, and the
    route answer says so with the next opening; once the queue opens the same call rings."""
    a = world.a
    queue = route_line(world)
    today = timezone.now().astimezone(UTC).date()
    tomorrow = today + timedelta(days=1)
    queue.time_zone = "UTC"
    queue.hours_exceptions = {today.isoformat(): [], tomorrow.isoformat(): ["09:00-17:00"]}
    queue.save()
    assert a.api.post("voice/events", event("c-1", 1, "offered")).status_code == 200
    body = a.api.post("voice/route", {"call_id": "c-1"}).json()
    assert body["action"] == "closed" and body["queue"] == "calls" and body["extension"] is None
    assert body["next_opening"] == f"{tomorrow.isoformat()}T09:00:00+00:00"
    assert Call.objects.get(pbx_call_id="c-1").task.status == "queued"  # held, not lost
    queue.hours_exceptions = {}
    queue.save()
    answer = a.api.post("voice/route", {"call_id": "c-1"}).json()
    assert answer["action"] == "ring" and answer["extension"] == "201"
