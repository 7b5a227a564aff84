"""Dispatch's one-read check of pending work (due timers, waiting tasks) must agree with the rows,
per tenant: a wrong "nothing to do" would leave a call unoffered until the next tick."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linia.core.models import Membership, Role
from linia.routing import actions, dispatcher
from linia.routing.models import AgentProfile, PresenceState, Reservation, TaskStatus
from tests import factories
from tests.routing.helpers import agent, queue, status, task

pytestmark = pytest.mark.django_db


def test_nothing_to_do_then_a_waiting_task() -> None:
    t = factories.tenant("acme")
    q = queue(t)
    now = timezone.now()
    assert dispatcher._work(t.pk, now) == (False, False)
    call = task(t, q)
    assert dispatcher._work(t.pk, now) == (False, True)
    other = factories.tenant("other")
    assert dispatcher._work(other.pk, now) == (False, False)  # another tenant's task is not this one's work
    a = agent(t)
    assert [r.task_id for r in actions.dispatch(t)] == [call.pk]
    assert dispatcher._work(t.pk, timezone.now()) == (False, False)  # reserved, not waiting
    assert status(call) == TaskStatus.RESERVED
    assert a.pk


def test_an_offer_that_rang_out_is_due_and_dispatch_moves_the_task_on() -> None:
    t = factories.tenant("acme")
    q = queue(t)
    first, second = agent(t, idle_minutes=10), agent(t, idle_minutes=5)
    call = task(t, q)
    res = actions.dispatch(t)[0]
    assert res.agent_id == first.pk
    later = res.expires_at + timedelta(seconds=1)
    assert dispatcher._work(t.pk, res.expires_at - timedelta(seconds=1)) == (False, False)
    assert dispatcher._work(t.pk, later) == (True, False)
    assert dispatcher._work(factories.tenant("other").pk, later) == (False, False)
    offers = actions.dispatch(t, now=later)  # expired, queued again and offered to the next agent
    assert [(r.task_id, r.agent_id) for r in offers] == [(call.pk, second.pk)]
    assert Reservation.objects.get(pk=res.pk).status == "expired"


def test_a_wrapup_that_ended_is_due_only_for_the_agents_tenants() -> None:
    t, other = factories.tenant("acme"), factories.tenant("other")
    u = agent(t, presence=PresenceState.WRAP_UP)
    now = timezone.now()
    AgentProfile.objects.filter(user=u).update(wrapup_until=now + timedelta(seconds=30))
    assert dispatcher._work(t.pk, now) == (False, False)
    assert dispatcher._work(t.pk, now + timedelta(seconds=31)) == (True, False)
    assert dispatcher._work(other.pk, now + timedelta(seconds=31)) == (False, False)
    Membership.objects.filter(user=u, tenant=t).update(role=Role.CLIENT_STAFF)
    assert dispatcher._work(t.pk, now + timedelta(seconds=31)) == (False, False)  # not a routing member here


def test_agent_snapshot_load_counts_assigned_tasks_of_every_tenant_and_not_wrapups() -> None:
    from linia.routing import queries

    t, other = factories.tenant("acme"), factories.tenant("other")
    u = agent(t)
    Membership.objects.create(user=u, tenant=other, role=Role.AGENT)
    q, q2 = queue(t), queue(other)
    for tenant, qq in ((t, q), (other, q2)):
        res_task = task(tenant, qq, channel="chat")
        res_task.status, res_task.assigned_to = TaskStatus.ASSIGNED, u
        res_task.save()
    done = task(t, q, channel="call")
    done.status, done.assigned_to = TaskStatus.WRAP_UP, u
    done.save()
    everywhere = queries.agent_snapshot(u)
    assert everywhere["load"] == {"chat": 2}
    assert len(everywhere["tasks"]) == 3
    here = queries.agent_snapshot(u, t)
    assert here["load"] == {"chat": 2} and len(here["tasks"]) == 2  # load is the agent's, tasks this tenant's
