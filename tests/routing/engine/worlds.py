"""Small random worlds and operation sequences for the routing engine's property tests."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from linia.routing.engine import (
    CALL,
    CHAT,
    EMAIL,
    Agent,
    ClosedAction,
    Decision,
    EngineError,
    Offer,
    OfferExpired,
    OfferRescinded,
    OverflowStep,
    Presence,
    Queue,
    Router,
    Strategy,
    Task,
    TaskStatus,
)

SKILLS = ["billing", "tech", "vip"]
LANGS = ["ru", "pl"]
CHANNELS = [CALL, CHAT, EMAIL]
PRESENCES = list(Presence)
# Mostly routable, so that offers, accepts and full capacity are common in generated runs.
LIKELY_PRESENCES = st.sampled_from([Presence.AVAILABLE] * 5 + [Presence.BUSY] * 2 + PRESENCES)


@dataclass(frozen=True)
class Periodic:
    """Opening hours for tests: open for ``period`` seconds, then closed for ``period``, from ``offset``."""

    period: float
    offset: float = 0.0

    def __call__(self, now: float) -> bool:
        return math.floor((now - self.offset) / self.period) % 2 == 0


@st.composite
def queues(draw: st.DrawFn) -> list[Queue]:
    """Three first-line queues of tenant t1 (one overflows into another) plus a second line."""
    second = Queue(
        "second",
        "t1",
        frozenset(CHANNELS),
        skills={"tech": 5},
        tier=2,
        accept_timeout_s=draw(st.sampled_from([5, 20])),
    )
    result = [second]
    for index in range(3):
        steps: list[OverflowStep] = []
        if draw(st.booleans()):
            steps.append(
                OverflowStep(
                    after_s=draw(st.sampled_from([10, 30])),
                    lower_levels_by=draw(st.integers(0, 3)),
                    drop_skills=frozenset(draw(st.lists(st.sampled_from(SKILLS), max_size=1))),
                    add_tiers=frozenset({2}) if draw(st.booleans()) else frozenset(),
                    any_language=draw(st.booleans()),
                    raise_priority=draw(st.integers(0, 1)),
                )
            )
        if index == 2 and draw(st.booleans()):
            steps.append(OverflowStep(after_s=60, move_to_queue="q0"))
        result.append(
            Queue(
                f"q{index}",
                "t1",
                frozenset(draw(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=3, unique=True))),
                skills=draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 6), max_size=1)),
                languages=frozenset(draw(st.lists(st.sampled_from(LANGS), max_size=1))),
                priority=draw(st.integers(0, 1)),
                strategy=draw(st.sampled_from(list(Strategy))),
                overflow=tuple(steps),
                max_wait_s=draw(st.sampled_from([None, 45.0, 200.0])),
                accept_timeout_s=draw(st.sampled_from([5.0, 15.0])),
                exclude_decliners=draw(st.booleans()),
                escalation_queue_id="second",
                capacity=draw(st.sampled_from([{}, {}, {CHAT: 1}, {CHAT: 2}, {EMAIL: 1}, {CALL: 1, CHAT: 1}])),
                open_at=draw(st.sampled_from([None, None, Periodic(20.0), Periodic(50.0, 25.0)])),
                **draw(
                    st.sampled_from(
                        [
                            {},
                            {"closed_action": ClosedAction.OVERFLOW, "closed_overflow_queue_id": f"q{(index + 1) % 3}"},
                        ]
                    )
                ),
            )
        )
    return result


@st.composite
def agents(draw: st.DrawFn, min_capacity: int = 0) -> list[Agent]:
    """1-6 agents; ``min_capacity`` raises the chat and email capacity (several tasks at once)."""
    count = draw(st.integers(1, 6))
    result = []
    for index in range(count):
        capacity = {
            CALL: draw(st.integers(0, 1)),
            CHAT: draw(st.integers(min_capacity, 3)),
            EMAIL: draw(st.integers(min_capacity, max(2, min_capacity))),
        }
        result.append(
            Agent(
                f"a{index}",
                frozenset({"t1"}) if draw(st.integers(0, 5)) else frozenset({"t2"}),
                skills=draw(
                    st.dictionaries(st.sampled_from(SKILLS), st.integers(3, 10), min_size=1, max_size=3)
                ),
                languages=frozenset(
                    draw(st.lists(st.sampled_from(LANGS), min_size=1, max_size=2, unique=True))
                ),
                tier=draw(st.sampled_from([1, 1, 1, 2])),
                presence=draw(LIKELY_PRESENCES),
                capacity=capacity,
                idle_since=float(draw(st.integers(0, 5))),
            )
        )
    return result


ADD = st.tuples(
    st.just("add"),
    st.integers(0, 2),
    st.integers(0, 2),
    st.sampled_from([None, None, *LANGS]),
    st.sampled_from([None, None, None, *SKILLS]),
    st.sampled_from([None, 0, 1, 2]),
)
ACCEPT = st.tuples(st.just("accept"), st.integers(0, 9))
COMPLETE = st.tuples(st.just("complete"), st.integers(0, 9), st.booleans())
TICK = st.tuples(st.just("tick"), st.sampled_from([0.0, 1.0, 4.0, 11.0, 31.0]))
# Repeated branches weigh arrivals, accepts, completions and time more than the rarer operations.
OPS = st.one_of(
    ADD,
    ADD,
    ADD,
    ADD,
    ACCEPT,
    ACCEPT,
    ACCEPT,
    COMPLETE,
    st.just(("accept_all",)),
    st.just(("accept_all",)),
    TICK,
    TICK,
    st.tuples(st.just("presence"), st.integers(0, 9), LIKELY_PRESENCES),
    st.tuples(st.just("decline"), st.integers(0, 9)),
    st.tuples(st.just("timeout"), st.integers(0, 9)),
    st.tuples(st.just("remove"), st.integers(0, 9)),
    st.tuples(st.just("transfer"), st.integers(0, 9), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("to_agent"), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("escalate"), st.integers(0, 9)),
)


def fingerprint(router: Router) -> tuple[object, ...]:
    """Everything observable about a router, to check that a rejected operation changed nothing."""
    return (
        [router.task(t) for t in router.task_ids()],
        [router.agent(a) for a in router.agent_ids()],
        router.offers(),
        router.waiting(),
    )


@dataclass
class Driver:
    """Applies abstract operations to a router and keeps the clock and a task counter."""

    router: Router
    queues: list[Queue]
    now: float = 10.0
    counter: int = 0
    errors: list[str] = field(default_factory=list)
    active: dict[str, int] = field(default_factory=dict)  # task id -> reservation id, from decisions

    def pick(self, ids: list[str], index: int) -> str | None:
        return ids[index % len(ids)] if ids else None

    def apply(self, op: tuple[Any, ...]) -> None:
        """Apply one op; invalid ones are expected to raise EngineError and change nothing."""
        before = fingerprint(self.router)
        try:
            self._apply(op)
        except EngineError as error:
            self.errors.append(error.code)
            assert fingerprint(self.router) == before, f"{error.code} changed the state"

    def _apply(self, op: tuple[Any, ...]) -> None:
        r = self.router
        kind = op[0]
        if kind == "add":
            _, q, c, lang, skill, prio = op
            queue = self.queues[1 + int(q)]
            channels = sorted(queue.channels)
            self.counter += 1
            r.add_task(
                Task(
                    f"k{self.counter:03d}",
                    "t1",
                    queue.id,
                    channels[int(c) % len(channels)],
                    queued_at=self.now,
                    language=lang,
                    skills={skill: 2} if skill else {},
                    priority=prio,
                )
            )
        elif kind == "presence":
            agent = self.pick(r.agent_ids(), op[1])
            if agent:
                r.set_presence(agent, op[2], self.now)
        elif kind in ("accept", "decline", "timeout"):
            offers = r.offers()
            if offers:
                offer = offers[op[1] % len(offers)]
                if kind == "accept":
                    r.accept(offer.task_id, offer.agent_id, self.now)
                    self.active.pop(offer.task_id, None)
                elif kind == "decline":
                    r.decline(offer.task_id, offer.agent_id, self.now)
                    self.active.pop(offer.task_id, None)
                else:
                    r.timeout(offer.task_id, self.now)
        elif kind == "accept_all":
            for offer in r.offers():
                if offer.expires_at > self.now:
                    r.accept(offer.task_id, offer.agent_id, self.now)
                    self.active.pop(offer.task_id, None)
        elif kind == "complete":
            task = self.pick(r.task_ids(TaskStatus.ASSIGNED), op[1])
            if task:
                r.complete(task, self.now, wrap_up=bool(op[2]))
        elif kind == "remove":
            task = self.pick(r.task_ids(), op[1])
            if task:
                r.remove_task(task, self.now)
        elif kind == "transfer":
            task = self.pick(r.task_ids(), op[1])
            if task:
                r.transfer(task, self.now, to_queue=self.queues[int(op[2])].id, keep_position=bool(op[3]))
        elif kind == "to_agent":
            task = self.pick(r.task_ids(), op[1])
            agent = self.pick(r.agent_ids(), op[2])
            if task and agent:
                r.transfer(task, self.now, to_agent=agent, fallback_after_s=20)
        elif kind == "escalate":
            task = self.pick(r.task_ids(), op[1])
            if task:
                r.escalate(task, self.now, context={"note": "x"})
        elif kind == "tick":
            self.now += float(op[1])

    def observe(self, decisions: list[Decision]) -> None:
        """Track reservations from the decision stream; fail on a second active one for a task."""
        for decision in decisions:
            if isinstance(decision, Offer):
                assert decision.task_id not in self.active, f"two active reservations for {decision.task_id}"
                self.active[decision.task_id] = decision.reservation_id
            elif isinstance(decision, OfferExpired | OfferRescinded):
                assert self.active.pop(decision.task_id) == decision.reservation_id
        assert self.active == {o.task_id: o.reservation_id for o in self.router.offers()}
