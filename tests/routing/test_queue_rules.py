"""Queue rules against the real database: opening hours (hold / overflow when closed), per-queue
capacity caps, the overflow clock after a move, chat first response, and the queue admin form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linia.core.models import Role, Tenant
from linia.routing import actions, queries
from linia.routing.models import Queue, Task, TaskStatus
from linia.tickets import actions as tickets
from linia.tickets.models import Event, Interaction, Message
from tests import factories
from tests.routing.helpers import agent, offered_to, pending_for, queue, refresh, task

pytestmark = pytest.mark.django_db

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday; 11:00 in Europe/Warsaw
WEEKDAYS_9_TO_17 = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def t() -> Tenant:
    return factories.tenant("acme", time_zone="Europe/Warsaw")


# ---- opening hours: queries ---------------------------------------------------------------------------


def test_queue_hours_use_the_queue_zone_or_the_tenants(t: Tenant) -> None:
    warsaw = queue(t, "pl", opening_hours={"mon": ["08:00-10:30"]})  # tenant zone: 08:00-10:30 = 07:00-09:30 UTC
    tokyo = queue(t, "jp", opening_hours={"mon": ["08:00-10:30"]}, time_zone="Asia/Tokyo")  # 23:00-01:30 UTC
    always = queue(t, "always")
    at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert queries.queue_is_open(warsaw, at) and not queries.queue_is_open(tokyo, at)
    assert queries.queue_is_open(always, at) and queries.next_opening(always, at) == at
    assert queries.next_opening(warsaw, at) == at
    assert queries.next_opening(tokyo, at) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # next Monday in Tokyo
    status = queries.queue_open_status(warsaw, at)
    assert status["open"] and status["closes_at"] == "2026-11-23T10:30:00+01:00" and status["next_opening"] is None


def test_holidays_close_a_queue_and_broken_hours_count_as_open(t: Tenant) -> None:
    q = queue(t, opening_hours=WEEKDAYS_9_TO_17, hours_exceptions={"2026-11-23": [], "2026-11-24": ["12:00-13:00"]})
    assert not queries.queue_is_open(q, MONDAY_10)
    assert queries.next_opening(q, MONDAY_10) == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # 12:00 Warsaw
    only_holiday = queue(t, "h", hours_exceptions={"2026-11-23": []})  # 24/7 except that day
    assert not queries.queue_is_open(only_holiday, MONDAY_10)
    assert queries.queue_is_open(only_holiday, MONDAY_10 + timedelta(days=1))
    broken = queue(t, "broken", opening_hours={"monday": ["9-5"]})
    assert queries.queue_is_open(broken, MONDAY_10)


# ---- opening hours: dispatch ----------------------------------------------------------------------------


def test_a_closed_queue_holds_its_tasks_until_it_opens(t: Tenant) -> None:
    q = queue(t, opening_hours={"mon": ["12:00-18:00"]})  # opens 11:00 UTC
    a = agent(t)
    call = task(t, q, now=MONDAY_10)
    assert offered_to(t, MONDAY_10 + timedelta(seconds=5)) == {}
    assert refresh(call).status == TaskStatus.QUEUED and not pending_for(a)
    assert queries.supervisor_snapshot(t, use_cache=False)["queues"][0]["open"] is False
    assert offered_to(t, MONDAY_10 + timedelta(hours=1)) == {call.pk: a.pk}


def test_a_closed_queue_with_overflow_moves_its_tasks(t: Tenant) -> None:
    night = queue(t, "night")
    day = queue(t, "day", opening_hours={"mon": ["12:00-18:00"]}, closed_action="overflow",
                closed_overflow_queue=night)
    a = agent(t)
    call = task(t, day, now=MONDAY_10)
    at = MONDAY_10 + timedelta(seconds=5)
    assert offered_to(t, at) == {call.pk: a.pk}
    call = refresh(call)
    assert call.queue_id == night.pk and call.stage_started_at == at and call.queued_at == MONDAY_10
    moved = Event.objects.get(kind="task.overflowed", data__task_id=call.pk)
    assert moved.data["from_queue_id"] == day.pk and moved.data["to_queue_id"] == night.pk


# ---- capacity caps -------------------------------------------------------------------------------------


def test_queue_capacity_caps_the_agents_chat_load(t: Tenant) -> None:
    vip = queue(t, "vip", capacity={"chat": 1})
    general = queue(t, "general")
    a = agent(t)
    first = task(t, general, "chat")
    actions.dispatch(t)
    actions.accept_offer(a, pending_for(a)[0].pk)
    vip_chat = task(t, vip, "chat")
    other = task(t, general, "chat")
    assert offered_to(t) == {other.pk: a.pk}  # the vip chat is older, but a already has a chat
    actions.accept_offer(a, pending_for(a)[0].pk)
    actions.complete_task(a, first.pk)
    actions.complete_task(a, other.pk)
    actions.finish_wrapup(a, a)
    assert offered_to(t) == {vip_chat.pk: a.pk}


# ---- the overflow clock after a move ------------------------------------------------------------------


def test_after_a_move_the_new_queues_steps_count_from_the_move(t: Tenant) -> None:
    third = queue(t, "third")
    backup = queue(t, "backup", required_skills={"de": 5}, overflow=[{"after_s": 30, "move_to_queue": "third"}])
    main = queue(t, "main", required_skills={"de": 5}, overflow=[{"after_s": 60, "move_to_queue": "backup"}])
    a = agent(t)
    actions.set_presence(a, a, "break")
    now = timezone.now()
    call = task(t, main, now=now)
    offered_to(t, now + timedelta(seconds=60))
    assert refresh(call).queue_id == backup.pk and call.stage_started_at == now + timedelta(seconds=60)
    offered_to(t, now + timedelta(seconds=80))  # 80 s after queued_at, 20 s in backup: stays
    assert refresh(call).queue_id == backup.pk
    offered_to(t, now + timedelta(seconds=91))  # 31 s in backup
    assert refresh(call).queue_id == third.pk
    assert main.pk != third.pk


def test_a_priority_raised_by_a_move_holds_in_the_new_queue(t: Tenant) -> None:
    """The step that moves a task may raise its priority: the raise is stored with the move, so every later
    dispatch (which rebuilds the engine from the database) still serves it first."""
    backup = queue(t, "backup")
    main = queue(t, "main", required_skills={"de": 5},
                 overflow=[{"after_s": 60, "move_to_queue": "backup", "raise_priority": 5}])
    a = agent(t)
    actions.set_presence(a, a, "break")
    now = timezone.now()
    regular = task(t, backup, now=now - timedelta(seconds=30), priority=3)  # older, priority 3
    moved = task(t, main, now=now)
    offered_to(t, now + timedelta(seconds=61))
    assert refresh(moved).queue_id == backup.pk and moved.priority == 5
    actions.set_presence(a, a, "available")
    assert offered_to(t, now + timedelta(seconds=62)) == {moved.pk: a.pk}  # 5 before 3, though younger
    assert refresh(regular).status == TaskStatus.QUEUED


# ---- chat first response --------------------------------------------------------------------------------


def test_chat_is_answered_at_the_first_public_reply(t: Tenant) -> None:
    q = queue(t, "chat", channels=["chat"], target_answer_seconds=120)
    a = agent(t, role=Role.AGENT)
    ticket = tickets.create_ticket(None, t, subject="Where is my order?", channel="chat", body="Hi")
    chat = task(t, q, "chat", ticket=ticket, now=timezone.now() - timedelta(minutes=5))
    actions.dispatch(t)
    actions.accept_offer(a, pending_for(a)[0].pk)  # accepted at once: within T if accept counted
    tickets.add_message(a, ticket, body="internal", kind=Message.Kind.NOTE)
    assert refresh(chat).first_response_at is None  # a note is not a response
    tickets.add_message(a, ticket, body="Let me check.")
    first = refresh(chat).first_response_at
    assert first is not None and Event.objects.filter(kind="task.first_response", data__task_id=chat.pk).count() == 1
    tickets.add_message(a, ticket, body="Found it.")
    assert refresh(chat).first_response_at == first
    stats = queries.supervisor_snapshot(t, use_cache=False)["queues"][0]
    assert stats["answered"] == 1 and stats["answered_within_t"] == 0 and stats["service_level"] == 0.0
    assert stats["asa_seconds"] >= 300


def test_first_response_through_the_interaction_link(t: Tenant) -> None:
    q = queue(t, "chat", channels=["chat"])
    a = agent(t)
    ticket = tickets.create_ticket(None, t, subject="Hello", channel="chat", body="Hi")
    session = Interaction.objects.create(tenant=t, channel="chat", started_at=timezone.now())
    chat = task(t, q, "chat", interaction=session)  # the chat session, not yet tied to a ticket
    tickets.add_message(a, ticket, body="Hello!")
    assert refresh(chat).first_response_at is None
    session.ticket = ticket  # as intake.voice.link_ticket does: only the interaction points to the ticket
    session.save(update_fields=["ticket"])
    tickets.add_message(a, ticket, body="Anything else?")
    assert refresh(chat).first_response_at is not None


def test_calls_are_still_answered_at_accept(t: Tenant) -> None:
    q = queue(t, "calls", channels=["call", "chat"], target_answer_seconds=20)
    now = timezone.now()
    Task.objects.create(tenant=t, queue=q, channel="call", queued_at=now - timedelta(seconds=60),
                        answered_at=now - timedelta(seconds=50), status=TaskStatus.COMPLETED)
    Task.objects.create(tenant=t, queue=q, channel="chat", queued_at=now - timedelta(seconds=60),
                        answered_at=now - timedelta(seconds=55), status=TaskStatus.COMPLETED)  # never replied
    stats = queries.supervisor_snapshot(t, use_cache=False)["queues"][0]
    assert stats["answered"] == 1 and stats["answered_within_t"] == 1


# ---- admin ---------------------------------------------------------------------------------------------


def _form(q: Queue, **changes: Any) -> dict[str, Any]:
    data = {"tenant": q.tenant_id, "code": q.code, "name": q.name, "is_active": "on", "channels": '["chat"]',
            "required_skills": "{}", "languages": "[]", "priority": 0, "tier": 1, "strategy": "longest_idle",
            "target_answer_seconds": 20, "overflow": "[]", "max_wait_seconds": "", "offer_timeout_seconds": 15,
            "wrapup_seconds": 30, "escalation_queue": "", "capacity": "{}", "time_zone": "",
            "opening_hours": "{}", "hours_exceptions": "{}", "closed_action": "hold", "closed_overflow_queue": ""}
    data.update(changes)
    return data


def test_queue_admin_validates_hours_capacity_and_closed_action(t: Tenant) -> None:
    q = queue(t)
    other = queue(t, "other")
    boss = factories.user("boss", tenant=t, role=Role.SUPERVISOR)
    boss.is_staff = True
    boss.save()
    client = Client()
    client.force_login(boss)
    url = f"/admin/routing/queue/{q.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and b"opening_hours" in page.content and b"closed_action" in page.content
    for field, value in [("opening_hours", "{not json"), ("opening_hours", '{"monday": ["09:00-17:00"]}'),
                         ("opening_hours", '{"mon": ["9-17"]}'), ("hours_exceptions", '{"tomorrow": []}'),
                         ("capacity", '{"chat": 0}'), ("capacity", '{"fax": 1}'), ("time_zone", "Mars/Base"),
                         ("closed_action", "overflow")]:
        response = client.post(url, _form(q, **{field: value}))
        assert response.status_code == 200, (field, value)  # the form again, with the error
        errors = response.context["adminform"].form.errors
        assert errors.get(field) or errors.get("closed_overflow_queue"), (field, value, errors)
    good = _form(q, opening_hours=str(WEEKDAYS_9_TO_17).replace("'", '"'), capacity='{"chat": 2}',
                 hours_exceptions='{"2026-12-25": []}', time_zone="Europe/Warsaw", closed_action="overflow",
                 closed_overflow_queue=other.pk)
    assert client.post(url, good).status_code == 302
    q.refresh_from_db()
    assert q.capacity == {"chat": 2} and q.closed_overflow_queue == other and q.opening_hours["mon"] == ["09:00-17:00"]


def test_queues_api_tells_whether_each_queue_is_open(t: Tenant) -> None:
    """What the chat widget's offline mode reads: open now, or when it opens."""
    from tests.routing.test_api import Api

    queue(t, "always")
    today = timezone.now().astimezone(UTC).date()
    queue(t, "holiday", time_zone="UTC", hours_exceptions={today.isoformat(): [],
                                                          (today + timedelta(days=1)).isoformat(): ["08:00-09:00"]})
    items = {q["code"]: q for q in Api(t, agent(t)).get("routing/queues").json()["items"]}
    assert items["always"]["hours"] == {"open": True, "next_opening": None, "closes_at": None, "closed_action": "hold"}
    assert items["holiday"]["hours"]["open"] is False
    assert items["holiday"]["hours"]["next_opening"] == f"{today + timedelta(days=1)}T08:00:00+00:00"


def test_first_response_endpoint_for_chats_without_a_ticket(t: Tenant) -> None:
    """The chat channel (or the simulator) reports the agent's first reply; only the first one counts."""
    from tests.routing.test_api import Api

    q = queue(t, "chat", channels=["chat"], target_answer_seconds=120)
    a, b = agent(t), agent(t)
    chat = task(t, q, "chat")
    offered = offered_to(t)
    holder = a if offered[chat.pk] == a.pk else b
    other = b if holder is a else a
    too_early = Api(t, holder).post(f"routing/tasks/{chat.pk}/first-response")
    assert too_early.status_code == 409 and too_early.json()["error"]["code"] == "invalid_state"  # still ringing
    actions.accept_offer(holder, pending_for(holder)[0].pk)
    assert Api(t, other).post(f"routing/tasks/{chat.pk}/first-response").status_code == 403
    first = Api(t, holder).post(f"routing/tasks/{chat.pk}/first-response")
    assert first.status_code == 200 and first.json()["first_response_at"] is not None
    again = Api(t, holder).post(f"routing/tasks/{chat.pk}/first-response").json()
    assert again["first_response_at"] == first.json()["first_response_at"]
    assert Event.objects.filter(kind="task.first_response", data__task_id=chat.pk).count() == 1
    stats = queries.supervisor_snapshot(t, use_cache=False)["queues"][0]
    assert stats["answered"] == 1 and stats["answered_within_t"] == 1 and stats["service_level"] == 100.0
