"""Routing glue against the real database: dispatch, offers, capacity, timeouts, wrap-up, transfers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from linia.core.errors import ActionError, Conflict, NotFound
from linia.core.models import Role
from linia.core.permissions import PermissionDenied
from linia.routing import actions
from linia.routing.models import Disposition, Reservation, ReservationStatus, Task, TaskStatus
from linia.tickets.models import Event
from tests import factories
from tests.routing.helpers import agent, offered_to, pending_for, profile, queue, status, task

pytestmark = pytest.mark.django_db


@pytest.fixture
def t():  # type: ignore[no-untyped-def]
    return factories.tenant("acme")


def test_offer_goes_to_longest_idle_qualified_agent(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t, required_skills={"pl": 3})
    fresh = agent(t, idle_minutes=1, skills={"pl": 5})
    idle = agent(t, idle_minutes=10, skills={"pl": 5})
    agent(t, idle_minutes=60, skills={"pl": 1})  # idle longest but not qualified
    agent(t, idle_minutes=90, presence="break", skills={"pl": 9})
    call = task(t, q)
    assert offered_to(t) == {call.pk: idle.pk}
    assert status(call) == TaskStatus.RESERVED
    res = pending_for(idle)[0]
    assert res.expires_at - res.offered_at == timedelta(seconds=q.offer_timeout_seconds)
    assert not pending_for(fresh)
    kinds = list(Event.objects.filter(tenant=t).values_list("kind", flat=True).order_by("id"))
    assert kinds == ["task.created", "task.offered"]


def test_accept_assigns_and_makes_agent_busy(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a = agent(t)
    call = task(t, q)
    actions.dispatch(t)
    res = pending_for(a)[0]
    got = actions.accept_offer(a, res.pk)
    assert got.status == TaskStatus.ASSIGNED and got.assigned_to_id == a.pk and got.answered_at
    assert profile(a).presence == "busy"
    assert Event.objects.filter(kind="task.accepted", data__task_id=call.pk).count() == 1
    assert Event.objects.filter(kind="agent.presence", data__to="busy").count() == 1


def test_a_call_blocks_and_chats_fill_up_to_three(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a = agent(t)
    first = task(t, q, "call")
    second = task(t, q, "call")
    chat = task(t, q, "chat")
    assert offered_to(t) == {first.pk: a.pk}  # the ringing call blocks the chat too
    actions.accept_offer(a, pending_for(a)[0].pk)
    assert offered_to(t) == {}
    assert status(second) == status(chat) == TaskStatus.QUEUED

    b = agent(t, idle_minutes=5, capacity={"call": 0, "chat": 3})
    chats = [chat] + [task(t, q, "chat") for _ in range(3)]
    for expected in chats[:3]:  # oldest first, one ringing chat offer at a time
        assert offered_to(t) == {expected.pk: b.pk}
        actions.accept_offer(b, pending_for(b)[0].pk)
    assert offered_to(t) == {}  # b is full on chats; a is on a call
    assert Task.objects.filter(assigned_to=b, status=TaskStatus.ASSIGNED, channel="chat").count() == 3
    assert status(chats[3]) == status(second) == TaskStatus.QUEUED


def test_decline_moves_to_next_agent_and_excludes_decliner(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    first = agent(t, idle_minutes=10)
    second = agent(t, idle_minutes=5)
    call = task(t, q)
    assert offered_to(t) == {call.pk: first.pk}
    actions.decline_offer(first, pending_for(first)[0].pk)
    assert status(call) == TaskStatus.QUEUED
    assert offered_to(t) == {call.pk: second.pk}
    actions.decline_offer(second, pending_for(second)[0].pk)
    assert offered_to(t) == {}  # both declined: it waits
    assert Event.objects.filter(kind="task.declined").count() == 2


def test_timeout_marks_not_responding_and_moves_on(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t, offer_timeout_seconds=15)
    sleepy = agent(t, idle_minutes=10)
    awake = agent(t, idle_minutes=5)
    now = timezone.now()
    call = task(t, q, now=now)
    queued_at = call.queued_at
    assert offered_to(t, now) == {call.pk: sleepy.pk}
    later = now + timedelta(seconds=16)
    assert offered_to(t, later) == {call.pk: awake.pk}
    expired = Reservation.objects.get(agent=sleepy)
    assert expired.status == ReservationStatus.EXPIRED
    assert profile(sleepy).not_responding and profile(sleepy).presence == "available"
    call.refresh_from_db()
    assert call.queued_at == queued_at
    with pytest.raises(Conflict) as err:
        actions.accept_offer(sleepy, expired.pk, now=later)
    assert err.value.code == "offer_expired" and err.value.status == 409
    assert Reservation.objects.get(pk=expired.pk).status == ReservationStatus.EXPIRED
    # Setting presence again re-arms the agent.
    actions.set_presence(sleepy, sleepy, "available")
    assert not profile(sleepy).not_responding


def test_accept_after_deadline_is_offer_expired_and_changes_nothing(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a = agent(t)
    now = timezone.now()
    call = task(t, q, now=now)
    actions.dispatch(t, now=now)
    res = pending_for(a)[0]
    with pytest.raises(ActionError) as err:
        actions.accept_offer(a, res.pk, now=now + timedelta(seconds=20))
    assert err.value.code == "offer_expired"
    assert status(call) == TaskStatus.RESERVED and Reservation.objects.get(pk=res.pk).status == "pending"


def test_expire_reservations_counts_and_releases(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a = agent(t)
    call = task(t, q)
    actions.dispatch(t)
    assert actions.expire_reservations(timezone.now() + timedelta(minutes=1)) == 1
    assert status(call) == TaskStatus.QUEUED  # a is not responding: nobody else to offer it to
    assert profile(a).not_responding
    assert Event.objects.filter(kind="task.expired").count() == 1


def test_complete_wrapup_and_automatic_finish(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t, wrapup_seconds=30)
    Disposition.objects.create(tenant=t, code="solved", name="Solved")
    a = agent(t)
    call = task(t, q)
    actions.dispatch(t)
    actions.accept_offer(a, pending_for(a)[0].pk)
    with pytest.raises(ActionError) as err:
        actions.complete_task(a, call.pk, "nonsense")
    assert err.value.code == "invalid_disposition"
    now = timezone.now()
    done = actions.complete_task(a, call.pk, "solved", now=now)
    assert done.status == TaskStatus.WRAP_UP and done.disposition == "solved"
    p = profile(a)
    assert p.presence == "wrap_up" and p.wrapup_until == now + timedelta(seconds=30)
    nxt = task(t, q)
    assert offered_to(t, now + timedelta(seconds=10)) == {}  # still in wrap-up
    assert offered_to(t, now + timedelta(seconds=31)) == {nxt.pk: a.pk}  # dispatch ended the wrap-up
    assert status(call) == TaskStatus.COMPLETED
    moves = list(Event.objects.filter(kind="agent.presence").values_list("data__from", "data__to").order_by("id"))
    assert moves == [("available", "busy"), ("busy", "wrap_up"), ("wrap_up", "available")]


def test_manual_finish_wrapup_and_periodic_finish(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t, wrapup_seconds=60)
    a, b = agent(t), agent(t)
    for _ in range(2):
        task(t, q)
    actions.dispatch(t)
    for u in (a, b):
        actions.accept_offer(u, pending_for(u)[0].pk)
        actions.complete_task(u, Task.objects.get(assigned_to=u).pk)
    assert actions.finish_wrapup(a, a).presence == "available"
    with pytest.raises(Conflict):
        actions.finish_wrapup(a, a)
    from linia.routing.dispatcher import finish_due_wrapups
    assert finish_due_wrapups(timezone.now() + timedelta(seconds=61)) == 1
    assert profile(b).presence == "available"


def test_transfer_to_queue_and_to_agent(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    other = queue(t, "billing")
    a = agent(t, idle_minutes=10)
    b = agent(t, idle_minutes=5)
    call = task(t, q)
    actions.dispatch(t)
    actions.accept_offer(a, pending_for(a)[0].pk)
    moved = actions.transfer_task(a, call.pk, to_queue="billing")
    assert moved.queue_id == other.pk and moved.status == TaskStatus.QUEUED and moved.queued_at == call.queued_at
    assert profile(a).presence == "available"
    assert offered_to(t) == {call.pk: b.pk}  # the transferring agent is excluded
    actions.accept_offer(b, pending_for(b)[0].pk)
    back = actions.transfer_task(b, call.pk, to_agent=a.pk)
    assert back.status == TaskStatus.RESERVED and pending_for(a)[0].task_id == call.pk
    with pytest.raises(ActionError):
        actions.transfer_task(a, call.pk)
    assert Event.objects.filter(kind="task.transferred").count() == 2


def test_transfer_to_busy_agent_is_refused(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a, b = agent(t), agent(t, presence="break")
    call = task(t, q)
    actions.dispatch(t)
    actions.accept_offer(a, pending_for(a)[0].pk)
    with pytest.raises(Conflict) as err:
        actions.transfer_task(a, call.pk, to_agent=b)
    assert err.value.code == "agent_unavailable"
    assert status(call) == TaskStatus.ASSIGNED


def test_escalate_carries_context_to_second_line(t) -> None:  # type: ignore[no-untyped-def]
    first = queue(t, tier=1)
    second = queue(t, "expert", tier=2)
    a = agent(t)
    expert = agent(t, tier=2)
    call = task(t, first, attributes={"caller": "+48123"})
    assert offered_to(t) == {call.pk: a.pk}  # tier 1 queue: tier 2 agent does not serve it
    actions.accept_offer(a, pending_for(a)[0].pk)
    up = actions.escalate_task(a, call.pk, note="refund over limit")
    assert up.queue_id == second.pk
    assert up.attributes["caller"] == "+48123" and up.attributes["context"] == "refund over limit"
    assert up.attributes["escalated_from"] == "support" and up.attributes["escalated_by"] == a.pk
    assert offered_to(t) == {call.pk: expert.pk}
    assert Event.objects.filter(kind="task.escalated", data__context="refund over limit").count() == 1


def test_abandon_rescinds_the_ringing_offer(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a = agent(t)
    call = task(t, q)
    actions.dispatch(t)
    actions.abandon_task(None, call.pk, "hung up")
    assert status(call) == TaskStatus.ABANDONED
    assert not pending_for(a)
    with pytest.raises(Conflict):
        actions.abandon_task(None, call.pk)


def test_presence_break_rescinds_offers_and_writes_events(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a = agent(t)
    call = task(t, q)
    actions.dispatch(t)
    actions.set_presence(a, a, "break", "lunch")
    assert status(call) == TaskStatus.QUEUED and not pending_for(a)
    ev = Event.objects.filter(kind="agent.presence").latest("id")
    assert ev.data["from"] == "available" and ev.data["to"] == "break" and ev.data["reason"] == "lunch"
    with pytest.raises(ActionError):
        actions.set_presence(a, a, "busy")
    with pytest.raises(ActionError):
        actions.set_presence(a, a, "sleeping")


def test_other_agent_cannot_accept_or_set_presence(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a, b = agent(t, idle_minutes=9), agent(t)
    sup = agent(t, role=Role.SUPERVISOR, presence="offline")
    task(t, q)
    actions.dispatch(t)
    res = pending_for(a)[0]
    with pytest.raises(PermissionDenied):
        actions.accept_offer(b, res.pk)
    with pytest.raises(PermissionDenied):
        actions.set_presence(b, a, "break")
    assert actions.set_presence(sup, a, "break", tenant=t).presence == "break"


def test_create_task_is_idempotent_and_validates(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t, channels=["call"])
    one = task(t, q, external_id="pbx-1")
    assert task(t, q, external_id="pbx-1").pk == one.pk
    with pytest.raises(ActionError) as err:
        task(t, q, channel="chat")
    assert "channel" in err.value.fields
    with pytest.raises(ActionError):
        actions.create_task(None, t, channel="call", queue="nope")
    with pytest.raises(ActionError):
        task(t, q, required_skills={"pl": 11})


def test_tenant_isolation(t) -> None:  # type: ignore[no-untyped-def]
    other = factories.tenant("other")
    qa, qb = queue(t), queue(other)
    a = agent(t)
    b_task = task(other, qb)
    assert offered_to(other) == {}  # a does not serve tenant "other"
    a_task = task(t, qa)
    assert offered_to(t) == {a_task.pk: a.pk}
    assert status(b_task) == TaskStatus.QUEUED
    with pytest.raises(NotFound):
        actions.complete_task(a, b_task.pk)
    with pytest.raises(NotFound):
        actions.accept_offer(a, pending_for(a)[0].pk, tenant=other)


def test_database_refuses_two_active_reservations_for_one_task(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a, b = agent(t), agent(t)
    call = task(t, q)
    now = timezone.now()
    Reservation.objects.create(tenant=t, task=call, agent=a, offered_at=now, expires_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.create(tenant=t, task=call, agent=b, offered_at=now, expires_at=now)


def test_overflow_move_and_max_wait(t) -> None:  # type: ignore[no-untyped-def]
    backup = queue(t, "backup", required_skills={})
    q = queue(t, required_skills={"de": 5}, overflow=[{"after_s": 30, "move_to_queue": "backup"}])
    slow = queue(t, "slow", max_wait_seconds=60)
    now = timezone.now()
    a = agent(t, skills={"pl": 5})
    actions.set_presence(a, a, "break")
    call = task(t, q, now=now)
    late = task(t, slow, now=now)
    assert offered_to(t, now + timedelta(seconds=31)) == {}
    assert Task.objects.get(pk=call.pk).queue_id == backup.pk
    offered_to(t, now + timedelta(seconds=61))
    assert status(late) == TaskStatus.CANCELLED
    actions.set_presence(a, a, "available")
    assert offered_to(t, now + timedelta(seconds=62)) == {call.pk: a.pk}
