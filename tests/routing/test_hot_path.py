"""Routing actions whose reads were merged keep every check: create_task's insert-or-nothing, the accept's
one locked read (offer, task, queue, agent) and complete_task's locked read with the agent's load."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linia.core.errors import Conflict, NotFound
from linia.core.permissions import PermissionDenied
from linia.routing import actions
from linia.routing.models import AgentProfile, Queue, Reservation, ReservationStatus, Task, TaskStatus
from linia.tickets.models import Event
from tests import factories
from tests.routing.helpers import agent, pending_for, profile, queue, task

pytestmark = pytest.mark.django_db


@pytest.fixture
def t():  # type: ignore[no-untyped-def]
    return factories.tenant("acme")


def test_the_same_external_id_returns_the_task_without_writing(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t, channels=["call"])
    one = task(t, q, external_id="pbx-9")
    with CaptureQueriesContext(connection) as ctx:
        assert task(t, q, external_id="pbx-9").pk == one.pk
    assert not any(s["sql"].upper().startswith(("UPDATE", "DELETE")) for s in ctx.captured_queries)
    assert Task.objects.filter(tenant=t, external_id="pbx-9").count() == 1
    assert Event.objects.filter(kind="task.created").count() == 1
    # Still the same task when the queue was closed since (its checks fail, the id decides)...
    Queue.objects.filter(pk=q.pk).update(is_active=False)
    assert actions.create_task(None, t, channel="call", queue=q.pk, external_id="pbx-9").pk == one.pk
    # ...while a new id in that queue is refused, and another tenant's same id is another task.
    with pytest.raises(actions.ActionError):
        actions.create_task(None, t, channel="call", queue=q.pk, external_id="pbx-10")
    other = factories.tenant("other")
    theirs = task(other, queue(other, channels=["call"]), external_id="pbx-9")
    assert theirs.pk != one.pk and theirs.tenant_id == other.pk


def test_accept_checks_the_offer_in_its_one_read(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a, b = agent(t, idle_minutes=9), agent(t)
    other = factories.tenant("other")
    stranger = agent(other)
    task(t, q)
    actions.dispatch(t)
    res = pending_for(a)[0]
    with pytest.raises(PermissionDenied):
        actions.accept_offer(b, res.pk)  # another agent of the tenant
    with pytest.raises(NotFound):
        actions.accept_offer(stranger, res.pk)  # someone of another tenant
    with pytest.raises(NotFound):
        actions.accept_offer(a, res.pk, tenant=other)  # through another tenant's token
    with pytest.raises(NotFound):
        actions.accept_offer(a, res.pk + 1000)
    res.refresh_from_db()
    assert res.status == ReservationStatus.PENDING and profile(a).presence == "available"
    got = actions.accept_offer(a, res.pk)
    assert got.status == TaskStatus.ASSIGNED and profile(a).presence == "busy"
    with pytest.raises(Conflict):
        actions.accept_offer(a, res.pk)  # once only


def test_accept_without_a_profile_row_takes_the_general_way(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t)
    a = agent(t)
    call = task(t, q)
    actions.dispatch(t)
    res = pending_for(a)[0]
    AgentProfile.objects.filter(user=a).delete()  # e.g. removed by an admin while the offer rang
    got = actions.accept_offer(a, res.pk)
    assert got.pk == call.pk and got.status == TaskStatus.ASSIGNED
    assert AgentProfile.objects.filter(user=a).exists()


def test_complete_counts_the_agents_other_tasks(t) -> None:  # type: ignore[no-untyped-def]
    q = queue(t, channels=["chat"], wrapup_seconds=0)
    a = agent(t)
    first, second = task(t, q, "chat"), task(t, q, "chat")
    actions.dispatch(t)
    actions.accept_offer(a, Reservation.objects.get(task=first, status="pending").pk)
    actions.dispatch(t)
    actions.accept_offer(a, Reservation.objects.get(task=second, status="pending").pk)
    actions.complete_task(a, first.pk)
    assert profile(a).presence == "busy"  # the second chat is still on
    actions.complete_task(a, second.pk)
    assert profile(a).presence == "available"
    with pytest.raises(Conflict):
        actions.complete_task(None, second.pk)
    with pytest.raises(NotFound):
        actions.complete_task(a, second.pk, tenant=factories.tenant("other"))
