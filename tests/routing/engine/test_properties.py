"""Property tests: random worlds and random operation sequences keep the routing invariants, and the
indexed router takes exactly the decisions of the scan-all-pairs baseline."""

from __future__ import annotations

import dataclasses
from typing import Any

from benchmarks.routing_engine import NaiveRouter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linia.routing.engine import (
    Agent,
    Decision,
    MaxWaitExceeded,
    Offer,
    Overflowed,
    Presence,
    Queue,
    Router,
    TaskStatus,
)
from tests.routing.engine.worlds import ADD, COMPLETE, OPS, TICK, Driver, agents, queues

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Each op is optionally followed by a step, so several changes can reach one step together.
SCRIPTS = st.lists(st.tuples(OPS, st.booleans()), min_size=15, max_size=60)


def check_invariants(router: Router, decisions: list[Decision], before: dict[str, Any], now: float) -> None:
    waiting = router.waiting()
    offers = router.offers()
    # Never above capacity, at most one pending offer per agent and channel.
    pending: dict[tuple[str, str], int] = {}
    for offer in offers:
        pending[offer.agent_id, offer.channel] = pending.get((offer.agent_id, offer.channel), 0) + 1
    for agent_id in router.agent_ids():
        agent = router.agent(agent_id)
        for channel, capacity in agent.capacity.items():
            assert pending.get((agent_id, channel), 0) <= 1
            used = agent.load.get(channel, 0) + pending.get((agent_id, channel), 0)
            assert used <= max(capacity, before["load"][agent_id].get(channel, 0)), (agent_id, channel)
    # Never above a queue's capacity cap: an offer of a capped queue's task went to an agent whose
    # load on the channel is below the cap (load does not change inside a step).
    for offer in (d for d in decisions if isinstance(d, Offer)):
        if offer.task_id in router.task_ids() and router.task(offer.task_id).reservation_id == offer.reservation_id:
            cap = router.requirement(offer.task_id).cap
            assert cap is None or router.agent(offer.agent_id).load.get(offer.channel, 0) < cap, offer
    # Held tasks are exactly the waiting ones of closed queues (direct transfers excepted), and no
    # offer of this step went to a closed queue's task.
    closed = {q.id for q in queues_of(router) if q.open_at is not None and not q.open_at(now)}
    for task_id in waiting:
        info = router.task(task_id)
        assert info.held == (info.task.queue_id in closed and info.target_agent is None), info
    for offer in (d for d in decisions if isinstance(d, Offer)):
        if offer.task_id in router.task_ids() and router.task(offer.task_id).target_agent is None:
            assert offer.queue_id not in closed, offer
    # FIFO within priority per queue: no older same-priority task of the same queue and channel,
    # that the same agent qualifies for, was left waiting when an offer was made.
    for offer in (d for d in decisions if isinstance(d, Offer)):
        offered = router.task(offer.task_id) if offer.task_id in router.task_ids() else None
        if offered is None or offered.reservation_id != offer.reservation_id:
            continue
        for task_id in waiting:
            other = router.task(task_id)
            if (
                other.task.queue_id == offered.task.queue_id
                and other.priority == offered.priority
                and other.task.channel == offered.task.channel
                and other.task.queued_at < offered.task.queued_at
                and not other.held
            ):
                assert not router.qualifies(offer.agent_id, task_id), (offer, task_id)
    # No qualified agent idle while a matching task waits (so: offered within one step).
    # (Held tasks excepted; under a queue cap the agent must also have room.)
    for task_id in waiting:
        info = router.task(task_id)
        if info.held:
            continue
        channel, cap = info.task.channel, router.requirement(task_id).cap
        for agent_id in router.agent_ids():
            room = cap is None or router.agent(agent_id).load.get(channel, 0) < cap
            assert not (router.is_free(agent_id, channel) and room and router.qualifies(agent_id, task_id)), (
                task_id,
                agent_id,
            )


def snapshot(router: Router) -> dict[str, Any]:
    return {"load": {a: dict(router.agent(a).load) for a in router.agent_ids()}}


def queues_of(router: Router) -> list[Queue]:
    return [router.queue(q) for q in sorted(router._queues)]


@SETTINGS
@given(queues(), agents(), SCRIPTS)
def test_invariants_hold_after_every_step(qs: list[Queue], ags: list[Agent], script: list[Any]) -> None:
    router = Router(qs, ags)
    driver = Driver(router, qs)
    driver.observe(router.step(driver.now))
    for op, then_step in [*script, (("tick", 0.0), True)]:
        before = snapshot(router)
        driver.apply(op)
        if then_step:
            decisions = router.step(driver.now)
            driver.observe(decisions)
            check_invariants(router, decisions, before, driver.now)
    for task_id in router.task_ids():
        assert router.task(task_id).status in TaskStatus


@SETTINGS
@given(queues(), agents(), SCRIPTS)
def test_engine_decides_exactly_like_the_naive_baseline(
    qs: list[Queue], ags: list[Agent], script: list[Any]
) -> None:
    engine, naive = Router(qs, ags), NaiveRouter(qs, ags)
    drivers = [Driver(engine, qs), Driver(naive, qs)]
    assert engine.step(10.0) == naive.step(10.0)
    for op, then_step in script:
        for driver in drivers:
            driver.apply(op)
        assert drivers[0].errors == drivers[1].errors
        if then_step:
            assert engine.step(drivers[0].now) == naive.step(drivers[1].now)
    assert engine.step(drivers[0].now + 1) == naive.step(drivers[1].now + 1)
    assert [engine.task(t) for t in engine.task_ids()] == [naive.task(t) for t in naive.task_ids()]
    assert [engine.agent(a) for a in engine.agent_ids()] == [naive.agent(a) for a in naive.agent_ids()]


@SETTINGS
@given(queues(), agents(), SCRIPTS)
def test_same_inputs_same_decisions(qs: list[Queue], ags: list[Agent], script: list[Any]) -> None:
    """Determinism: two routers fed the same operations decide identically."""
    logs = []
    for _ in range(2):
        router = Router(qs, ags)
        driver = Driver(router, qs)
        log = [router.step(driver.now)]
        for op, then_step in script:
            driver.apply(op)
            if then_step:
                log.append(router.step(driver.now))
        logs.append(log)
    assert logs[0] == logs[1]


@SETTINGS
@given(
    queues(),
    agents(),
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 2), st.sampled_from([None, 0, 1])),
        min_size=2,
        max_size=25,
    ),
    st.lists(st.integers(0, 9), min_size=1, max_size=30),
)
def test_backlog_is_served_oldest_first_within_priority(
    qs: list[Queue], ags: list[Agent], arrivals: list[tuple[int, int, int | None]], frees: list[int]
) -> None:
    """Tasks pile up while every agent is on break; then agents come back and work the backlog one
    decision at a time. Every offer must respect FIFO within priority and leave no idle match."""
    router = Router(qs, ags)
    for agent_id in router.agent_ids():
        router.set_presence(agent_id, Presence.BREAK, 0.0)
    driver = Driver(router, qs)
    for q, c, prio in arrivals:
        driver.apply(("add", q, c, None, None, prio))
        driver.now += 1.0
    assert not [d for d in router.step(driver.now) if isinstance(d, Offer)]  # all on break
    for pick in frees:
        before = snapshot(router)
        agent_id = router.agent_ids()[pick % len(router.agent_ids())]
        if router.agent(agent_id).presence is Presence.BREAK:
            router.set_presence(agent_id, Presence.AVAILABLE, driver.now)
        else:
            driver.apply(("accept_all",))
            driver.apply(("complete", pick, False))
        decisions = router.step(driver.now)
        driver.observe(decisions)
        check_invariants(router, decisions, before, driver.now)
        driver.now += 0.5


def _moves(decisions: list[Decision]) -> list[tuple[object, ...]]:
    """The decisions that depend on a task's clock in its current queue: moves and max-wait exits."""
    found: list[tuple[object, ...]] = []
    for d in decisions:
        if isinstance(d, Overflowed) and d.from_queue != d.to_queue:
            found.append(("moved", d.task_id, d.from_queue, d.to_queue, d.reason))
        elif isinstance(d, MaxWaitExceeded):
            found.append(("max_wait", d.task_id, d.queue_id, d.waited_s))
    return sorted(found, key=repr)


@SETTINGS
@given(
    queues(),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.sampled_from([1.0, 7.0, 23.0])), min_size=1,
             max_size=20),
    st.lists(st.sampled_from([3.0, 11.0, 31.0, 64.0]), min_size=1, max_size=15),
)
def test_rebuilt_router_keeps_each_queue_clock(
    qs: list[Queue], arrivals: list[tuple[int, int, float]], ticks: list[float]
) -> None:
    """The dispatcher rebuilds the router from rows on every dispatch, giving each task its stage start
    (Task.stage_started_at). A router rebuilt midway moves tasks and ends them at max wait exactly
    when the original does, also for tasks that already moved once (overflow or closed queue)."""
    router = Router(qs, [])  # no agents: tasks only wait, move and time out
    driver = Driver(router, qs)
    for q, c, dt in arrivals:
        driver.apply(("add", q, c, None, None, None))
        router.step(driver.now)
        driver.now += dt
    twin = Router(qs, [])
    for task_id in router.task_ids():
        info = router.task(task_id)
        twin.add_task(dataclasses.replace(info.task, stage_started_at=info.stage_start))
    for dt in ticks:
        assert _moves(router.step(driver.now)) == _moves(twin.step(driver.now))
        driver.now += dt
    assert [(t, router.task(t).task.queue_id, router.task(t).stage_start) for t in router.task_ids()] == [
        (t, twin.task(t).task.queue_id, twin.task(t).stage_start) for t in twin.task_ids()
    ]


# Busy agents: mostly arrivals, accepts and completions, so agents hold several chats at once and the
# queues' capacity caps (queues() draws {"chat": 1}, {"chat": 2}, ...) decide who may take more.
BUSY_SCRIPTS = st.lists(
    st.tuples(st.one_of(ADD, ADD, ADD, st.just(("accept_all",)), st.just(("accept_all",)), COMPLETE, TICK),
              st.booleans()),
    min_size=20,
    max_size=80,
)


@SETTINGS
@given(queues(), agents(min_capacity=2), BUSY_SCRIPTS)
def test_queue_capacity_caps_under_load(qs: list[Queue], ags: list[Agent], script: list[Any]) -> None:
    """Never above min(agent capacity, queue cap), no idle agent with room while a task waits, and the
    same decisions as the naive matcher (which checks the cap from the raw load)."""
    engine, naive = Router(qs, ags), NaiveRouter(qs, ags)
    drivers = [Driver(engine, qs), Driver(naive, qs)]
    assert engine.step(10.0) == naive.step(10.0)
    for op, then_step in [*script, (("tick", 0.0), True)]:
        before = snapshot(engine)
        for driver in drivers:
            driver.apply(op)
        if then_step:
            decisions = engine.step(drivers[0].now)
            assert decisions == naive.step(drivers[1].now)
            drivers[0].observe(decisions)
            check_invariants(engine, decisions, before, drivers[0].now)
    assert [engine.agent(a) for a in engine.agent_ids()] == [naive.agent(a) for a in naive.agent_ids()]
