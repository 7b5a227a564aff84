"""Dispatch loads only the longest-idle agents when every queue picks longest idle: the offers must be
exactly those a load of every agent gives (the full load is the reference, run on a copy of the state)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linia.core.models import Tenant
from linia.routing import dispatcher
from linia.routing.models import Queue, Task
from tests import factories
from tests.routing.helpers import agent, offered_to, queue, task

pytestmark = pytest.mark.django_db


def full_load_offers(t: Tenant, monkeypatch: pytest.MonkeyPatch) -> dict[int, int]:
    """What a dispatch offers when it loads every routable agent (the subset path switched off)."""
    with monkeypatch.context() as m:
        m.setattr(dispatcher, "_longest_idle", lambda tenant_id, limit: (list(dispatcher._routable(tenant_id)), True))
        from django.db import transaction

        with transaction.atomic():
            offers = offered_to(t)
            transaction.set_rollback(True)
    return offers


def test_many_unqualified_idle_agents_fall_back_to_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    t = factories.tenant("acme")
    q = queue(t, required_skills={"pl": 5})
    for minutes in range(40, 60):  # the 20 longest idle cannot take the task
        agent(t, idle_minutes=minutes, skills={"pl": 1})
    qualified = agent(t, idle_minutes=5, skills={"pl": 7})
    agent(t, idle_minutes=1, skills={"pl": 9})
    call = task(t, q)
    expected = full_load_offers(t, monkeypatch)
    assert expected == {call.pk: qualified.pk}
    assert offered_to(t) == expected


def test_agents_ringing_elsewhere_are_skipped_but_not_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    t = factories.tenant("acme")
    q = queue(t)
    agents = [agent(t, idle_minutes=60 - i) for i in range(12)]
    first = [task(t, q) for _ in range(10)]
    made = offered_to(t)
    assert set(made) == {x.pk for x in first} and set(made.values()) == {a.pk for a in agents[:10]}
    second = [task(t, q) for _ in range(3)]  # two agents are left: one task must keep waiting
    expected = full_load_offers(t, monkeypatch)
    assert offered_to(t) == expected
    assert set(expected.values()) == {agents[10].pk, agents[11].pk}
    assert Task.objects.filter(pk__in=[x.pk for x in second], status="queued").count() == 1


def test_same_idle_instant_at_the_edge_is_tie_broken_like_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    t = factories.tenant("acme")
    q = queue(t)
    now = timezone.now()
    same = now - timedelta(minutes=30)
    crowd = [agent(t, now=now, idle_minutes=30) for _ in range(25)]
    from linia.routing.models import AgentProfile

    AgentProfile.objects.filter(user__in=crowd).update(idle_since=same, presence_since=same)
    tasks = [task(t, q) for _ in range(3)]
    expected = full_load_offers(t, monkeypatch)
    assert len(expected) == 3
    assert offered_to(t) == {x.pk: expected[x.pk] for x in tasks}


def test_other_strategies_load_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    t = factories.tenant("acme")
    q = queue(t, strategy="skill_weighted", required_skills={"pl": 1})
    for minutes in range(30):
        agent(t, idle_minutes=60 - minutes, skills={"pl": 2})
    best = agent(t, idle_minutes=0, skills={"pl": 9})  # least idle, best skilled
    call = task(t, q)
    assert Queue.objects.get(pk=q.pk).strategy == "skill_weighted"
    assert offered_to(t) == {call.pk: best.pk}


def test_tasks_held_in_a_closed_queue_do_not_make_dispatch_load_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    t = factories.tenant("acme")
    closed = queue(t, "night", opening_hours={"mon": ["00:00-00:01"]})  # closed now, whatever the day
    open_q = queue(t, "day")
    for minutes in range(30):
        agent(t, idle_minutes=60 - minutes)
    held = [task(t, closed) for _ in range(3)]
    loaded: list[int] = []
    build = dispatcher._build

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        loaded.append(len(args[4]))
        return build(*args, **kwargs)

    monkeypatch.setattr(dispatcher, "_build", counting)
    call = task(t, open_q)
    offers = offered_to(t)
    assert list(offers) == [call.pk] and all(Task.objects.get(pk=h.pk).status == "queued" for h in held)
    assert loaded == [2 * 4 + 8]  # the longest-idle few only: the held tasks were no shortfall


def test_a_long_queue_with_agents_ringing_loads_the_agents_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every agent busy or ringing and many tasks waiting (a peak, or a server catching up): the dispatch builds
    the engine once, not for a subset and then again for everyone, and offers what a full load offers."""
    t = factories.tenant("acme")
    q = queue(t)
    agents = [agent(t, idle_minutes=60 - i) for i in range(6)]
    for _ in range(4):
        task(t, q)
    assert len(offered_to(t)) == 4  # four agents ringing
    waiting = [task(t, q) for _ in range(30)]
    expected = full_load_offers(t, monkeypatch)
    assert set(expected.values()) == {agents[4].pk, agents[5].pk}
    builds: list[int] = []
    build = dispatcher._build

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        builds.append(len(args[4]))  # the agents it was given
        return build(*args, **kwargs)

    monkeypatch.setattr(dispatcher, "_build", counted)
    assert offered_to(t) == expected
    assert builds == [6]  # once, with everyone (the ringing four included)
    assert Task.objects.filter(pk__in=[x.pk for x in waiting], status="queued").count() == 28
