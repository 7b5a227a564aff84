"""Example tests of the queue rules on top of matching: opening hours (hold or overflow when closed),
per-queue capacity caps, and the overflow clock of a task rebuilt from storage (stage_started_at)."""

from __future__ import annotations

import pytest

from linia.routing.engine import (
    CALL,
    CHAT,
    ClosedAction,
    EngineError,
    MaxWaitExceeded,
    Overflowed,
    OverflowStep,
    Presence,
    Router,
)
from tests.routing.engine.test_examples import agent, offers, queue, task
from tests.routing.engine.worlds import Periodic


def open_between(start: float, end: float) -> Periodic:
    """Open on [start, end) of every 2 * (end - start) seconds."""
    return Periodic(end - start, start)


# ---- opening hours --------------------------------------------------------------------------------


def test_closed_queue_holds_its_tasks_until_it_opens() -> None:
    router = Router([queue(open_at=open_between(100, 200))], [agent("a")])
    router.add_task(task("t1", 10))
    assert router.step(50) == []
    assert router.task("t1").held
    assert router.waiting() == ["t1"]
    assert offers(router.step(100)) == [("t1", "a")]
    assert not router.task("t1").held


def test_a_queue_that_closes_stops_offering_and_keeps_order() -> None:
    router = Router([queue(open_at=open_between(0, 100))], [agent("a", presence=Presence.BREAK)])
    router.add_task(task("t2", 20))
    router.add_task(task("t1", 10))
    assert router.step(50) == []
    assert not router.task("t1").held
    assert router.step(100) == []  # closed from 100 to 200
    router.set_presence("a", Presence.AVAILABLE, 101)
    assert router.step(150) == []
    assert router.task("t1").held and router.task("t2").held
    assert offers(router.step(200)) == [("t1", "a")]  # opens: oldest first


def test_other_queues_are_served_while_one_is_closed() -> None:
    closed = queue("closed", open_at=open_between(100, 200))
    router = Router([closed, queue("open")], [agent("a")])
    router.add_task(task("t1", 0, "closed"))
    router.add_task(task("t2", 5, "open"))
    assert offers(router.step(10)) == [("t2", "a")]


def test_closed_queue_with_overflow_moves_its_tasks() -> None:
    night = queue("night")
    day = queue("day", open_at=open_between(100, 200), closed_action=ClosedAction.OVERFLOW,
                closed_overflow_queue_id="night")
    router = Router([night, day], [agent("a", presence=Presence.BREAK)])
    router.add_task(task("t1", 10, "day"))
    assert router.step(30) == [Overflowed("t1", "day", "night", -1, "closed")]
    info = router.task("t1")
    assert (info.task.queue_id, info.stage_start, info.task.queued_at, info.held) == ("night", 30, 10, False)
    router.set_presence("a", Presence.AVAILABLE, 31)
    assert offers(router.step(31)) == [("t1", "a")]


def test_two_closed_queues_overflowing_into_each_other_do_not_loop() -> None:
    rules = {"open_at": open_between(100, 200), "closed_action": ClosedAction.OVERFLOW}
    a = queue("a", closed_overflow_queue_id="b", **rules)
    b = queue("b", closed_overflow_queue_id="a", **rules)
    router = Router([a, b], [agent("x")])
    router.add_task(task("t1", 0, "a"))
    assert router.step(10) == [Overflowed("t1", "a", "b", -1, "closed")]
    assert router.task("t1").held
    assert router.step(11) == [Overflowed("t1", "b", "a", -1, "closed")]  # one move per step at most
    assert offers(router.step(100)) == [("t1", "x")]


def test_closed_overflow_needs_a_target_and_skips_a_queue_without_the_channel() -> None:
    with pytest.raises(EngineError) as error:
        queue("day", closed_action=ClosedAction.OVERFLOW)
    assert error.value.code == "invalid_closed_action"
    calls = queue("calls", channels=frozenset({CALL}))
    day = queue("day", open_at=open_between(100, 200), closed_action=ClosedAction.OVERFLOW,
                closed_overflow_queue_id="calls")
    router = Router([calls, day], [agent("a")])
    router.add_task(task("t1", 0, "day", CHAT))
    assert router.step(10) == []  # a chat cannot go to a call queue: it is held instead
    assert router.task("t1").held


def test_a_direct_transfer_is_not_held_by_a_closed_queue() -> None:
    router = Router([queue(open_at=open_between(100, 200))], [agent("a"), agent("b")])
    router.add_task(task("t1", 0))
    router.step(100)
    router.accept("t1", "a", 101)
    router.transfer("t1", 250, to_agent="b")  # the queue closed at 200
    assert offers(router.step(250)) == [("t1", "b")]


def test_max_wait_still_runs_while_held() -> None:
    router = Router([queue(open_at=open_between(100, 200), max_wait_s=60)], [agent("a")])
    router.add_task(task("t1", 0))
    assert router.step(60) == [MaxWaitExceeded("t1", "q", 60)]


# ---- per-queue capacity caps ------------------------------------------------------------------------


def test_queue_cap_limits_the_agents_load_for_its_tasks() -> None:
    """The agent takes 3 chats, but "vip" tasks only while it has fewer than 1 chat."""
    vip = queue("vip", capacity={CHAT: 1})
    router = Router([vip, queue("general")], [agent("a", capacity={CHAT: 3})])
    router.add_task(task("g1", 0, "general"))
    assert offers(router.step(1)) == [("g1", "a")]
    router.accept("g1", "a", 1)
    router.add_task(task("v1", 2, "vip"))
    router.add_task(task("g2", 3, "general"))
    assert offers(router.step(4)) == [("g2", "a")]  # v1 is older, but a already has a chat
    router.accept("g2", "a", 5)
    router.complete("g1", 6)
    router.complete("g2", 7)
    assert offers(router.step(7)) == [("v1", "a")]  # load back to 0: below the cap


def test_freeing_load_below_the_cap_offers_at_once() -> None:
    """The agent stays free on chat (2 of 3) the whole time; only the completion lets the cap admit it."""
    router = Router([queue("vip", capacity={CHAT: 2}), queue("general")], [agent("a", capacity={CHAT: 3})])
    for n in range(2):
        router.add_task(task(f"g{n}", n, "general"))
        for task_id, agent_id in offers(router.step(10 + n)):
            router.accept(task_id, agent_id, 10 + n)
    router.add_task(task("v1", 20, "vip"))
    assert offers(router.step(21)) == []
    router.complete("g0", 22)
    assert offers(router.step(22)) == [("v1", "a")]


def test_queue_cap_must_be_positive() -> None:
    with pytest.raises(EngineError) as error:
        queue(capacity={CHAT: 0})
    assert error.value.code == "invalid_capacity"


# ---- the overflow clock after a move (stage_started_at) ----------------------------------------------


def test_stage_started_at_sets_the_clock_of_a_rebuilt_task() -> None:
    """A task that overflowed into "backup" at 60 and is loaded again (as the dispatcher does): backup's
    own overflow and max wait count from 60, while its FIFO place stays queued_at 0."""
    backup = queue("backup", overflow=(OverflowStep(after_s=30, raise_priority=1),), max_wait_s=100)
    router = Router([backup], [agent("a", presence=Presence.BREAK)])
    router.add_task(task("t1", 0, "backup", stage_started_at=60.0))
    router.add_task(task("t2", 10, "backup"))
    assert router.step(85) == [Overflowed("t2", "backup", "backup", 0)]  # t2: 10 + 30 <= 85 < 60 + 30
    assert router.step(90) == [Overflowed("t1", "backup", "backup", 0)]
    assert router.task("t1").stage_start == 60
    assert router.waiting() == ["t1", "t2"]  # same priority again: queued_at decides
    assert router.step(159) == [MaxWaitExceeded("t2", "backup", 149)]  # due at 110
    assert router.step(160) == [MaxWaitExceeded("t1", "backup", 100)]  # 60 + 100, not 0 + 100
