"""Dispatch loads only the longest-idle agents when every queue picks longest idle, only agents with room,
and with a backlog only the oldest tasks of each requirement: the offers must be exactly those a load of
every agent and every task gives (the full load is the reference, run on a copy of the state)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linia.core.models import Tenant
from linia.routing import actions, dispatcher
from linia.routing.actions import ROUTABLE, ROUTING_ROLES
from linia.routing.models import AgentProfile, Queue, Task
from linia.tickets.models import Event
from tests import factories
from tests.routing.helpers import agent, offered_to, pending_for, queue, task

pytestmark = pytest.mark.django_db


def full_load_offers(t: Tenant, monkeypatch: pytest.MonkeyPatch) -> dict[int, int]:
    """What a dispatch offers when it loads every routable agent (the subset path switched off)."""
    def everyone(tenant_id: int, limit: int) -> tuple[list[AgentProfile], bool]:
        return list(AgentProfile.objects.filter(presence__in=ROUTABLE, not_responding=False,
                                                user__memberships__tenant_id=tenant_id,
                                                user__memberships__role__in=ROUTING_ROLES)), True

    with monkeypatch.context() as m:
        m.setattr(dispatcher, "_longest_idle", everyone)
        m.setattr(dispatcher, "PER_CLASS", 10**9)
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


def _counting_builds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(tasks, agents) of every engine build from now on."""
    builds: list[tuple[int, int]] = []
    build = dispatcher._build

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        builds.append((len(args[3]), len(args[4])))
        return build(*args, **kwargs)

    monkeypatch.setattr(dispatcher, "_build", counted)
    return builds


def test_a_backlog_loads_only_the_oldest_tasks_and_the_agents_with_room(monkeypatch: pytest.MonkeyPatch) -> None:
    """A peak: more calls wait than agents are free. Each dispatch loads the oldest few calls (per queue and
    requirement) and only the agents who can take one, and offers the oldest calls as a full load would."""
    monkeypatch.setattr(dispatcher, "PER_CLASS", 4)
    t = factories.tenant("acme")
    q = queue(t)
    busy = [agent(t, idle_minutes=60 - i) for i in range(5)]
    for _ in range(5):
        task(t, q)
    assert len(offered_to(t)) == 5
    for res in [r for a in busy for r in pending_for(a)]:
        actions.accept_offer(res.agent, res.pk)
    free = [agent(t, idle_minutes=30), agent(t, idle_minutes=20)]
    backlog = [task(t, q) for _ in range(12)]
    spanish = task(t, q, language="es")  # another requirement: loaded on its own account
    expected = full_load_offers(t, monkeypatch)
    builds = _counting_builds(monkeypatch)
    assert offered_to(t) == expected == {backlog[0].pk: free[0].pk, backlog[1].pk: free[1].pk}
    assert builds == [(4 + 1, 2)]  # four of the twelve, the one in Spanish; the two free agents, not the five busy
    assert Task.objects.get(pk=spanish.pk).status == "queued"


def test_a_backlog_is_read_line_by_line_in_the_engines_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line (queue and requirement) gives its first tasks by priority, then age, however deep they sit in
    the tenant's whole backlog: a late urgent call and the only Russian email are loaded, not the whole line."""
    monkeypatch.setattr(dispatcher, "PER_CLASS", 2)
    t = factories.tenant("acme")
    q = queue(t)
    calls = [task(t, q) for _ in range(6)]
    urgent = task(t, q, priority=5)
    emails = [task(t, q, channel="email", language="pl") for _ in range(4)]
    russian = task(t, q, channel="email", language="ru")
    caller = agent(t, idle_minutes=30, languages=["pl", "ru"], capacity={"call": 1, "email": 0})
    reader = agent(t, idle_minutes=20, languages=["ru"], capacity={"call": 0, "email": 1})
    expected = full_load_offers(t, monkeypatch)
    builds = _counting_builds(monkeypatch)
    assert offered_to(t) == expected == {urgent.pk: caller.pk, russian.pk: reader.pk}
    assert builds[0][0] == 2 + 2 + 1  # the urgent call and the oldest, two emails, the Russian one
    assert {c.pk for c in calls[1:]} | {e.pk for e in emails} <= set(
        Task.objects.filter(status="queued").values_list("pk", flat=True))


def test_room_left_for_a_deeper_task_loads_the_whole_backlog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both queues' lines are longer than the bound; the only free agent lacks the Polish queue's skill, so it
    takes the general line's oldest call, as with everything loaded."""
    monkeypatch.setattr(dispatcher, "PER_CLASS", 3)
    t = factories.tenant("acme")
    polish = queue(t, "polish", required_skills={"pl": 5})
    general = queue(t, "general")
    for _ in range(5):
        task(t, polish)
    first = [task(t, general) for _ in range(5)]
    free = agent(t, idle_minutes=10)  # no Polish: only the general calls fit
    expected = full_load_offers(t, monkeypatch)
    assert offered_to(t) == expected == {first[0].pk: free.pk}


def test_a_declined_task_deep_in_a_backlog_is_still_excluded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatcher, "PER_CLASS", 2)
    t = factories.tenant("acme")
    q = queue(t)
    a = agent(t, idle_minutes=10)
    calls = [task(t, q) for _ in range(5)]
    for c in calls[:3]:  # a declined the three oldest
        Task.objects.filter(pk=c.pk).update(excluded_agents=[a.pk])
    expected = full_load_offers(t, monkeypatch)
    assert offered_to(t) == expected == {calls[3].pk: a.pk}


def test_the_ticker_pass_loads_the_whole_backlog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Overflow and max wait count from each task's own stage start: the once-a-second ticker pass loads every
    queued task, so those rules reach tasks deep in a line too; event-driven dispatches load the bound."""
    monkeypatch.setattr(dispatcher, "PER_CLASS", 2)
    t = factories.tenant("acme")
    q = queue(t, max_wait_seconds=60)
    calls = [task(t, q) for _ in range(5)]
    builds = _counting_builds(monkeypatch)
    assert offered_to(t) == {}
    assert builds == [(2, 0)]
    later = timezone.now() + timedelta(seconds=61)
    assert dispatcher.tick(later) == 0
    assert builds[1:] == [(5, 0)]
    assert Task.objects.filter(pk__in=[c.pk for c in calls], status="cancelled").count() == 5


def test_rules_passes_are_spaced_by_what_they_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rules pass reads the whole backlog (~0.4 s for 10,000 tasks): the ticker runs the next one only once the
    clock has moved RULES_PASS_SPACING times its duration on; every tick also dispatches as a change does (the
    oldest tasks of each requirement). A clock set back runs one at once."""
    monkeypatch.setattr(dispatcher, "PER_CLASS", 2)
    t = factories.tenant("acme")
    q = queue(t)
    for _ in range(5):
        task(t, q)
    builds = _counting_builds(monkeypatch)
    now = timezone.now()
    for at in (now, now + timedelta(microseconds=1), now + timedelta(hours=1), now + timedelta(hours=1, microseconds=1),
               now):
        dispatcher.tick(at)
    assert [n for n, _ in builds] == [5, 2, 2, 5, 2, 2, 5, 2]  # (rules pass: 5, then the dispatch: 2) or 2
    dispatcher.forget_rules_passes()
    monkeypatch.setattr(dispatcher, "RULES_PASS_SPACING", 0.0)  # spacing off: every tick has a rules pass
    for micro in (1, 2, 3):
        dispatcher.tick(now + timedelta(microseconds=micro))
    assert [n for n, _ in builds[8:]] == [5, 2, 5, 2, 5, 2]


def test_the_rules_pass_reads_without_the_lock_and_skips_tasks_changed_meanwhile(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Overflow moves and maximum waits are decided on a read made without the tenant's lock (a backlog's read
    must not stall the tenant's calls); under the lock, a task that changed since is left alone."""
    monkeypatch.setattr(dispatcher, "PER_CLASS", 2)
    t = factories.tenant("acme")
    backup = queue(t, "backup")
    main = queue(t, "main", overflow=[{"after_s": 30, "move_to_queue": "backup", "raise_priority": 5}],
                 max_wait_seconds=3600)
    moving = [task(t, main) for _ in range(4)]
    steps: list[str] = []
    real_waiting, real_lock = dispatcher._waiting, dispatcher.lock_tenant

    def reading(*args, **kwargs):  # type: ignore[no-untyped-def]
        steps.append("read")
        return real_waiting(*args, **kwargs)

    def locking(tenant_id: int) -> None:
        steps.append("lock")
        actions.abandon_task(None, moving[3].pk, reason="caller hung up")  # meanwhile, elsewhere
        real_lock(tenant_id)

    monkeypatch.setattr(dispatcher, "_waiting", reading)
    monkeypatch.setattr(dispatcher, "lock_tenant", locking)
    assert dispatcher.rules_pass(t.pk, timezone.now() + timedelta(seconds=31)) == 3
    assert steps == ["read", "lock"]
    for moved in moving[:3]:
        moved.refresh_from_db()
        assert (moved.queue_id, moved.priority, moved.status) == (backup.pk, 5, "queued")
    moving[3].refresh_from_db()
    assert (moving[3].queue_id, moving[3].status) == (main.pk, "abandoned")
    assert Event.objects.filter(tenant=t, kind="task.overflowed").count() == 3


def test_agents_with_room_are_found_by_their_own_capacity_and_what_they_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The narrow read with a backlog: capacity from the agent's profile (or the default), a held call blocks
    chats, a ringing offer fills its channel; an odd capacity value is left to the engine's rule."""
    monkeypatch.setattr(dispatcher, "PER_CLASS", 1)
    t = factories.tenant("acme")
    q = queue(t)
    two_calls = agent(t, idle_minutes=50, capacity={"call": 2})
    one_call = agent(t, idle_minutes=49)
    odd = agent(t, idle_minutes=48, capacity={"call": "two"})
    chatting = agent(t, idle_minutes=47)
    for who, channel in ((two_calls, "call"), (one_call, "call"), (odd, "call"), (chatting, "chat")):
        held = task(t, q, channel=channel)
        Task.objects.filter(pk=held.pk).update(status="assigned", assigned_to=who)
    calls = [task(t, q) for _ in range(3)]
    chats = [task(t, q, channel="chat") for _ in range(3)]
    expected = full_load_offers(t, monkeypatch)
    builds = _counting_builds(monkeypatch)
    # A held chat does not block calls: the chatting agent takes the older second call, not a chat.
    assert offered_to(t) == expected == {calls[0].pk: two_calls.pk, calls[1].pk: chatting.pk}
    # First one call and one chat (the bound) and only the two agents with room; the chatting agent kept room
    # for calls, which were cut short, so the whole line was loaded to find it the oldest one.
    assert builds == [(2, 2), (len(calls) + len(chats), 2)]
    assert len(pending_for(odd)) == 0 and len(pending_for(one_call)) == 0


def test_a_capacity_that_is_no_whole_number_counts_as_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine takes the default for such a value (3 chats): the narrowing in SQL must not leave the agent out."""
    monkeypatch.setattr(dispatcher, "PER_CLASS", 1)
    t = factories.tenant("acme")
    q = queue(t)
    fraction = agent(t, idle_minutes=10, capacity={"chat": 0.5})
    held = task(t, q, channel="chat")
    Task.objects.filter(pk=held.pk).update(status="assigned", assigned_to=fraction)
    chats = [task(t, q, channel="chat") for _ in range(3)]
    expected = full_load_offers(t, monkeypatch)
    assert offered_to(t) == expected == {chats[0].pk: fraction.pk}
