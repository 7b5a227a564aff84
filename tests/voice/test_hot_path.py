"""The CTI hot path's merged statements keep their meaning: the interaction insert that finds the caller's
contact in a sub-select (only in this tenant) and uses an interaction made before the call, and the
`ended` event that completes the task with the row it read (the agent is ready again, or stays busy)."""

from __future__ import annotations

from django.utils import timezone

from linia.intake.voice.models import Call
from linia.routing import actions as routing
from linia.routing.models import AgentProfile, Queue, Reservation, Task
from linia.tickets.models import Event, Interaction

from .conftest import World, event, known_caller
from .test_route_mode import route_line


def test_the_callers_contact_is_found_only_in_the_lines_tenant(world: World) -> None:
    a, b = world.a, world.b
    known_caller(b)  # the same phone is a customer of the other tenant only
    assert a.api.post("voice/events", event("h-1", 1, "offered")).status_code == 200
    assert Call.objects.get(pbx_call_id="h-1").interaction.contact is None
    mine = known_caller(a)
    assert a.api.post("voice/events", event("h-2", 1, "offered")).status_code == 200
    assert Call.objects.get(pbx_call_id="h-2").interaction.contact == mine
    unknown = a.api.post("voice/events", event("h-3", 1, "offered", caller="+48601999999"))
    assert unknown.status_code == 200 and Call.objects.get(pbx_call_id="h-3").interaction.contact is None


def test_an_interaction_made_before_the_call_is_the_calls(world: World) -> None:
    a = world.a
    before = Interaction.objects.create(tenant=a.tenant, channel="call", external_id="h-4", started_at=timezone.now(),
                                        data={"note": "made by the API first"})
    assert a.api.post("voice/events", event("h-4", 1, "offered")).status_code == 200
    call = Call.objects.get(pbx_call_id="h-4")
    assert call.interaction_id == before.pk
    assert Interaction.objects.filter(tenant=a.tenant, external_id="h-4").count() == 1
    before.refresh_from_db()
    assert before.data["note"] == "made by the API first" and before.data["state"] == "offered"
    # The same id in the other tenant is another interaction: theirs is not touched.
    assert world.b.api.post("voice/events", event("h-4", 1, "offered", dialled=world.b.line.number)).status_code == 200
    assert Interaction.objects.filter(external_id="h-4").count() == 2
    assert Call.objects.get(tenant=world.b.tenant, pbx_call_id="h-4").interaction_id != before.pk


def test_ended_completes_the_task_and_frees_the_agent(world: World) -> None:
    a = world.a
    queue = route_line(world)
    Queue.objects.filter(pk=queue.pk).update(wrapup_seconds=0)
    assert a.api.post("voice/events", event("h-5", 1, "offered")).status_code == 200
    task = Call.objects.get(pbx_call_id="h-5").task
    assert task is not None
    routing.accept_offer(a.agent, Reservation.objects.get(task=task, status="pending").pk)
    assert AgentProfile.objects.get(user=a.agent).presence == "busy"
    assert a.api.post("voice/events", event("h-5", 2, "ended")).status_code == 200
    task.refresh_from_db()
    assert task.status == "completed" and task.ended_at is not None
    assert Reservation.objects.get(task=task).status == "completed"
    assert AgentProfile.objects.get(user=a.agent).presence == "available"
    kinds = list(Event.objects.filter(tenant=a.tenant, kind__in=["task.completed", "agent.presence"])
                 .values_list("kind", "data__to").order_by("id"))
    assert kinds[-2:] == [("task.completed", None), ("agent.presence", "available")]
    # The same event again changes nothing.
    again = a.api.post("voice/events", event("h-5", 2, "ended"))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Event.objects.filter(kind="task.completed", data__task_id=task.pk).count() == 1


def test_ended_keeps_an_agent_busy_who_has_another_task(world: World) -> None:
    a = world.a
    queue = route_line(world)
    Queue.objects.filter(pk=queue.pk).update(wrapup_seconds=0, channels=["call", "chat"])
    AgentProfile.objects.filter(user=a.agent).update(capacity={"call": 1, "chat": 3})
    chat = routing.create_task(None, a.tenant, channel="chat", queue=queue.pk)
    routing.dispatch(a.tenant)
    routing.accept_offer(a.agent, Reservation.objects.get(task=chat, status="pending").pk)
    # A chat on hand does not block a call (a call blocks chats): the call is offered too.
    assert a.api.post("voice/events", event("h-6", 1, "offered")).status_code == 200
    call_task = Call.objects.get(pbx_call_id="h-6").task
    assert call_task is not None
    routing.accept_offer(a.agent, Reservation.objects.get(task=call_task, status="pending").pk)
    assert a.api.post("voice/events", event("h-6", 2, "ended")).status_code == 200
    assert Task.objects.get(pk=call_task.pk).status == "completed"
    assert AgentProfile.objects.get(user=a.agent).presence == "busy"  # the chat is still on
    routing.complete_task(a.agent, chat.pk)
    assert AgentProfile.objects.get(user=a.agent).presence == "available"


def test_ended_before_the_answer_abandons_the_task(world: World) -> None:
    a = world.a
    route_line(world)
    assert a.api.post("voice/events", event("h-7", 1, "offered")).status_code == 200
    task = Call.objects.get(pbx_call_id="h-7").task
    assert task is not None and task.status == "reserved"
    assert a.api.post("voice/events", event("h-7", 2, "ended")).status_code == 200
    task.refresh_from_db()
    assert task.status == "abandoned"
    assert Reservation.objects.get(task=task).status == "rescinded"


def test_the_event_answer_is_what_the_schema_says(world: World) -> None:
    """post_event renders its answer itself (no second validation): it must still be exactly an EventAck."""
    from linia.api.routers.voice import CallOut, EventAck

    a = world.a
    r = a.api.post("voice/events", event("h-8", 1, "offered"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    body = r.json()
    assert EventAck.model_validate(body).model_dump() == body
    assert list(body["call"]) == list(CallOut.model_fields)
