"""Property tests: random worlds and random operation sequences keep the routing invariants, and the
indexed router takes exactly the decisions of the scan-all-pairs baseline."""

from __future__ import annotations

from typing import Any

from benchmarks.routing_engine import NaiveRouter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linia.routing.engine import Agent, Decision, Offer, Presence, Queue, Router, TaskStatus
from tests.routing.engine.worlds import OPS, Driver, agents, queues

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Each op is optionally followed by a step, so several changes can reach one step together.
SCRIPTS = st.lists(st.tuples(OPS, st.booleans()), min_size=15, max_size=60)


def check_invariants(router: Router, decisions: list[Decision], before: dict[str, Any]) -> None:
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
            ):
                assert not router.qualifies(offer.agent_id, task_id), (offer, task_id)
    # No qualified agent idle while a matching task waits (so: offered within one step).
    for task_id in waiting:
        channel = router.task(task_id).task.channel
        for agent_id in router.agent_ids():
            assert not (router.is_free(agent_id, channel) and router.qualifies(agent_id, task_id)), (
                task_id,
                agent_id,
            )


def snapshot(router: Router) -> dict[str, Any]:
    return {"load": {a: dict(router.agent(a).load) for a in router.agent_ids()}}


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
            check_invariants(router, decisions, before)
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
        check_invariants(router, decisions, before)
        driver.now += 0.5
