"""Example tests of the routing engine: strategies, FIFO, overflow, max wait, reservations, transfer,
escalation, presence and channel rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest

from linia.routing.engine import (
    CALL,
    CHAT,
    EMAIL,
    Agent,
    Decision,
    EngineError,
    MaxWaitExceeded,
    Offer,
    OfferExpired,
    OfferRescinded,
    Overflowed,
    OverflowStep,
    Presence,
    Queue,
    Router,
    Strategy,
    Task,
    TaskStatus,
    TransferFallback,
)

ALL = frozenset({CALL, CHAT, EMAIL})


def agent(
    agent_id: str,
    skills: Mapping[str, int] | None = None,
    *,
    idle_since: float = 0.0,
    presence: Presence = Presence.AVAILABLE,
    **kwargs: object,
) -> Agent:
    return Agent(
        agent_id,
        frozenset({"t1"}),
        skills=skills or {},
        presence=presence,
        idle_since=idle_since,
        **kwargs,  # type: ignore[arg-type]
    )


def queue(queue_id: str = "q", **kwargs: object) -> Queue:
    return Queue(queue_id, "t1", kwargs.pop("channels", ALL), **kwargs)  # type: ignore[arg-type]


def task(task_id: str, at: float, queue_id: str = "q", channel: str = CHAT, **kwargs: object) -> Task:
    return Task(task_id, "t1", queue_id, channel, queued_at=at, **kwargs)  # type: ignore[arg-type]


def offers(decisions: Iterable[Decision]) -> list[tuple[str, str]]:
    return [(d.task_id, d.agent_id) for d in decisions if isinstance(d, Offer)]


# ---- strategies -----------------------------------------------------------------------------------


def test_longest_idle_agent_gets_the_task() -> None:
    router = Router(
        [queue()], [agent("a", idle_since=30), agent("b", idle_since=10), agent("c", idle_since=20)]
    )
    router.add_task(task("t1", 40))
    assert offers(router.step(41)) == [("t1", "b")]


def test_least_occupied_spreads_chats_evenly() -> None:
    """Chatwoot #11034: with a per-agent limit, chats must spread over the online agents."""
    router = Router([queue(strategy=Strategy.LEAST_OCCUPIED)], [agent("a"), agent("b")])
    for n in range(4):
        router.add_task(task(f"t{n}", n))
        for task_id, agent_id in offers(router.step(10 + n)):
            router.accept(task_id, agent_id, 10 + n)
    loads = {a: router.agent(a).load.get(CHAT, 0) for a in ("a", "b")}
    assert loads == {"a": 2, "b": 2}


def test_skill_weighted_prefers_the_most_skilled() -> None:
    agents = [agent("a", {"tech": 4}, idle_since=0), agent("b", {"tech": 9}, idle_since=50)]
    router = Router([queue(skills={"tech": 3}, strategy=Strategy.SKILL_WEIGHTED)], agents)
    router.add_task(task("t1", 60))
    assert offers(router.step(61)) == [("t1", "b")]


def test_round_robin_rotates_by_last_offer() -> None:
    router = Router(
        [queue(strategy=Strategy.ROUND_ROBIN)],
        [agent(x, capacity={CHAT: 5}) for x in ("a", "b", "c")],
    )
    got = []
    for n in range(6):
        router.add_task(task(f"t{n}", n))
        for task_id, agent_id in offers(router.step(10 + n)):
            got.append(agent_id)
            router.accept(task_id, agent_id, 10 + n)
    assert got == ["a", "b", "c", "a", "b", "c"]


# ---- order ----------------------------------------------------------------------------------------


def test_oldest_first_within_priority_and_higher_priority_first() -> None:
    router = Router(
        [queue("low"), queue("high", priority=5)],
        [agent("a", presence=Presence.BREAK, capacity={CHAT: 1})],
    )
    router.add_task(task("old", 1, "low"))
    router.add_task(task("new", 2, "low"))
    router.add_task(task("vip", 3, "high"))
    router.add_task(task("urgent", 4, "low", priority=9))
    assert router.waiting() == ["urgent", "vip", "old", "new"]
    assert router.step(5) == []
    order = []
    router.set_presence("a", Presence.AVAILABLE, 5)
    for now in range(6, 10):
        [(task_id, agent_id)] = offers(router.step(now))
        order.append(task_id)
        router.accept(task_id, agent_id, now)
        router.complete(task_id, now)
    assert order == ["urgent", "vip", "old", "new"]


def test_freed_capacity_takes_the_oldest_queued_chat() -> None:
    """Chatwoot #10583: capacity 3, a 4th chat waits; when one is resolved the 4th, not a 5th, is
    assigned right away."""
    router = Router([queue()], [agent("a", capacity={CHAT: 3})])
    for n in range(3):
        router.add_task(task(f"c{n}", n))
        for task_id, agent_id in offers(router.step(n)):
            router.accept(task_id, agent_id, n)
    router.add_task(task("c3", 10))
    assert router.step(10) == []
    router.add_task(task("c4", 11))
    router.complete("c0", 12)
    assert offers(router.step(12)) == [("c3", "a")]


def test_an_agent_gets_one_pending_offer_per_channel() -> None:
    router = Router([queue()], [agent("a", capacity={CHAT: 3})])
    router.add_task(task("t1", 1))
    router.add_task(task("t2", 2))
    assert offers(router.step(3)) == [("t1", "a")]
    assert router.step(4) == []
    router.accept("t1", "a", 5)
    assert offers(router.step(5)) == [("t2", "a")]


# ---- channels and capacity ------------------------------------------------------------------------


def test_a_call_blocks_new_chats_but_chats_do_not_block_calls() -> None:
    router = Router([queue()], [agent("a")])
    router.add_task(task("chat1", 1))
    router.add_task(task("call1", 2, channel=CALL))
    assert offers(router.step(3)) == [("chat1", "a"), ("call1", "a")]
    router.accept("chat1", "a", 4)
    router.accept("call1", "a", 4)
    router.add_task(task("chat2", 5))
    assert router.step(5) == []  # on a call: no new chat
    router.add_task(task("mail", 6, channel=EMAIL))
    assert offers(router.step(6)) == [("mail", "a")]  # email is not blocked by the call
    router.complete("call1", 7)
    assert offers(router.step(7)) == [("chat2", "a")]


def test_a_ringing_call_blocks_chats_too() -> None:
    router = Router([queue()], [agent("a")])
    router.add_task(task("call", 1, channel=CALL))
    router.add_task(task("chat", 2))
    assert offers(router.step(3)) == [("call", "a")]
    router.decline("call", "a", 4)
    assert offers(router.step(4)) == [("chat", "a")]


def test_blocks_and_capacity_are_configurable_per_agent() -> None:
    solo = agent("a", capacity={CHAT: 1, EMAIL: 1}, blocks={CHAT: frozenset({EMAIL})})
    router = Router([queue()], [solo])
    router.add_task(task("chat", 1))
    router.add_task(task("mail", 2, channel=EMAIL))
    router.add_task(task("call", 3, channel=CALL))
    assert offers(router.step(4)) == [("chat", "a")]  # no call capacity; chat blocks email
    router.accept("chat", "a", 5)
    router.complete("chat", 6)
    assert offers(router.step(6)) == [("mail", "a")]


# ---- presence -------------------------------------------------------------------------------------


@pytest.mark.parametrize("presence", [p for p in Presence if p not in (Presence.AVAILABLE, Presence.BUSY)])
def test_only_available_and_busy_agents_receive_offers(presence: Presence) -> None:
    router = Router([queue()], [agent("a", presence=presence)])
    router.add_task(task("t1", 1))
    assert router.step(2) == []
    router.set_presence("a", Presence.BUSY, 3)
    assert offers(router.step(3)) == [("t1", "a")]


def test_accepting_makes_the_agent_busy_and_finishing_everything_available_again() -> None:
    router = Router([queue()], [agent("a")])
    router.add_task(task("t1", 1))
    router.step(2)
    router.accept("t1", "a", 3)
    assert router.agent("a").presence is Presence.BUSY
    router.complete("t1", 9)
    state = router.agent("a")
    assert (state.presence, state.idle_since, state.load) == (Presence.AVAILABLE, 9, {})


def test_wrap_up_blocks_offers_until_the_agent_is_ready() -> None:
    router = Router([queue()], [agent("a")])
    router.add_task(task("call", 1, channel=CALL))
    router.step(2)
    router.accept("call", "a", 2)
    router.add_task(task("next", 3, channel=CALL))
    router.complete("call", 10, wrap_up=True)
    assert router.agent("a").presence is Presence.WRAP_UP
    assert router.step(20) == []
    router.set_presence("a", Presence.AVAILABLE, 40)  # after-call-work timer ended (caller's timer)
    assert offers(router.step(40)) == [("next", "a")]
    assert router.agent("a").idle_since == 40


def test_going_on_break_withdraws_pending_offers() -> None:
    router = Router([queue()], [agent("a", idle_since=0), agent("b", idle_since=5)])
    router.add_task(task("t1", 1))
    assert offers(router.step(2)) == [("t1", "a")]
    router.set_presence("a", Presence.BREAK, 3)
    decisions = router.step(3)
    assert decisions == [
        OfferRescinded("t1", "a", 1, "agent_unavailable"),
        Offer("t1", "b", "q", CHAT, 2, 18.0),
    ]


# ---- reservations ---------------------------------------------------------------------------------


def test_ring_no_answer_marks_not_responding_and_offers_the_next_agent() -> None:
    router = Router([queue(accept_timeout_s=10)], [agent("a", idle_since=0), agent("b", idle_since=5)])
    router.add_task(task("t1", 1))
    assert router.step(2) == [Offer("t1", "a", "q", CHAT, 1, 12.0)]
    assert router.step(11.9) == []
    assert router.step(12) == [OfferExpired("t1", "a", 1), Offer("t1", "b", "q", CHAT, 2, 22.0)]
    assert router.agent("a").not_responding
    router.decline("t1", "b", 13)
    router.add_task(task("t2", 14))
    assert offers(router.step(14)) == [("t2", "b")]  # t1: a is not responding, b declined it
    router.set_presence("a", Presence.AVAILABLE, 15)  # any presence change clears not-responding
    assert not router.agent("a").not_responding
    assert offers(router.step(15)) == [("t1", "a")]


def test_decline_keeps_the_position_and_excludes_the_decliner() -> None:
    router = Router(
        [queue()], [agent("a", idle_since=0, capacity={CHAT: 1}), agent("b", presence=Presence.BREAK)]
    )
    router.add_task(task("t1", 1))
    router.add_task(task("t2", 2))
    assert offers(router.step(3)) == [("t1", "a")]
    router.decline("t1", "a", 4)
    assert router.waiting() == ["t1", "t2"]
    assert router.task("t1").excluded_agents == {"a"}
    assert offers(router.step(4)) == [("t2", "a")]  # t1 is skipped for a, not lost
    router.set_presence("b", Presence.AVAILABLE, 5)
    assert offers(router.step(5)) == [("t1", "b")]


def test_decline_without_exclusion_offers_the_same_agent_again() -> None:
    router = Router([queue(exclude_decliners=False)], [agent("a")])
    router.add_task(task("t1", 1))
    router.step(2)
    router.decline("t1", "a", 3)
    assert offers(router.step(3)) == [("t1", "a")]


def test_accepting_an_expired_offer_is_rejected_and_changes_nothing() -> None:
    router = Router([queue(accept_timeout_s=5)], [agent("a")])
    router.add_task(task("t1", 1))
    router.step(2)
    with pytest.raises(EngineError) as error:
        router.accept("t1", "a", 7)
    assert error.value.code == "offer_expired"
    assert router.task("t1").status is TaskStatus.OFFERED
    assert router.agent("a").load == {}
    assert router.step(7) == [OfferExpired("t1", "a", 1)]


def test_only_the_offered_agent_can_accept() -> None:
    router = Router([queue()], [agent("a"), agent("b", idle_since=9)])
    router.add_task(task("t1", 1))
    router.step(2)
    with pytest.raises(EngineError) as error:
        router.accept("t1", "b", 3)
    assert error.value.code == "no_offer"


# ---- overflow and max wait ------------------------------------------------------------------------


def test_overflow_widens_the_pool_after_n_seconds() -> None:
    q = queue(skills={"tech": 8}, overflow=(OverflowStep(after_s=30, lower_levels_by=4),))
    router = Router([q], [agent("junior", {"tech": 4})])
    router.add_task(task("t1", 100))
    assert router.step(129) == []
    assert router.step(130) == [Overflowed("t1", "q", "q", 0), Offer("t1", "junior", "q", CHAT, 1, 145.0)]


def test_overflow_steps_are_cumulative_and_can_add_second_line_and_priority() -> None:
    q = queue(
        skills={"tech": 5, "billing": 5},
        overflow=(
            OverflowStep(after_s=10, drop_skills=frozenset({"billing"}), raise_priority=2),
            OverflowStep(after_s=20, add_tiers=frozenset({2})),
        ),
    )
    router = Router([q], [agent("expert", {"tech": 9}, tier=2)])
    router.add_task(task("t1", 0))
    assert offers(router.step(10)) == []
    assert router.task("t1").priority == 2
    assert offers(router.step(20)) == [("t1", "expert")]


def test_overflow_moves_the_task_to_another_queue_keeping_its_place() -> None:
    backup = queue("backup", max_wait_s=100)
    main = queue("main", skills={"rare": 1}, overflow=(OverflowStep(after_s=60, move_to_queue="backup"),))
    router = Router([backup, main], [agent("a", presence=Presence.BREAK)])
    router.add_task(task("early", 5, "backup"))
    router.add_task(task("t1", 0, "main"))
    assert router.step(60) == [Overflowed("t1", "main", "backup", 0)]
    assert router.waiting("backup") == ["t1", "early"]  # queued_at kept
    assert router.task("t1").stage_start == 60  # backup's timers run from the move
    router.set_presence("a", Presence.AVAILABLE, 61)
    assert offers(router.step(61)) == [("t1", "a")]


def test_a_task_without_any_qualified_agent_reaches_a_wider_pool_eventually() -> None:
    """Bounded starvation: nobody speaks the required level; overflow drops it step by step."""
    q = queue(
        skills={"legal": 9},
        languages=frozenset({"de"}),
        overflow=(
            OverflowStep(after_s=20, lower_levels_by=3),
            OverflowStep(after_s=40, any_language=True),
            OverflowStep(after_s=60, drop_skills=frozenset({"legal"})),
        ),
    )
    router = Router([q], [agent("a", {"legal": 2}, languages=frozenset({"ru"}))])
    router.add_task(task("t1", 0))
    got = [offers(router.step(now)) for now in (19, 20, 40, 59, 60)]
    assert got == [[], [], [], [], [("t1", "a")]]


def test_max_wait_removes_the_task() -> None:
    router = Router([queue(max_wait_s=120)], [])
    router.add_task(task("t1", 0))
    assert router.step(119) == []
    assert router.step(200) == [MaxWaitExceeded("t1", "q", 200)]
    assert router.task_ids() == []


def test_max_wait_waits_for_a_ringing_offer_to_end() -> None:
    router = Router([queue(max_wait_s=20, accept_timeout_s=15)], [agent("a")])
    router.add_task(task("t1", 10))
    router.step(25)  # offered at 25, expires at 40
    assert router.step(30) == []
    assert router.step(40) == [OfferExpired("t1", "a", 1), MaxWaitExceeded("t1", "q", 30)]


# ---- transfer and escalation ----------------------------------------------------------------------


def test_transfer_to_a_queue_keeps_position_and_excludes_the_sender() -> None:
    router = Router(
        [queue("first"), queue("sales")],
        [agent("a", idle_since=0), agent("b", idle_since=5, presence=Presence.BREAK)],
    )
    router.add_task(task("t1", 1, "first"))
    router.step(2)
    router.accept("t1", "a", 2)
    router.transfer("t1", 4, to_queue="sales")
    info = router.task("t1")
    assert (info.task.queue_id, info.task.queued_at, info.excluded_agents) == ("sales", 1, {"a"})
    assert router.agent("a").load == {}
    assert offers(router.step(4)) == []  # only a is available and a handed it over
    router.set_presence("b", Presence.AVAILABLE, 5)
    assert offers(router.step(5)) == [("t1", "b")]


def test_transfer_to_the_back_of_the_queue_with_new_priority() -> None:
    router = Router([queue()], [agent("a", presence=Presence.BREAK)])
    router.add_task(task("t1", 1))
    router.add_task(task("t2", 2))
    router.transfer("t1", 3, keep_position=False)
    assert router.waiting() == ["t2", "t1"]
    router.transfer("t1", 4, priority=3)
    assert router.waiting() == ["t1", "t2"]


def test_transfer_to_an_agent_waits_for_them_then_falls_back() -> None:
    router = Router([queue()], [agent("a", idle_since=0), agent("b", idle_since=1, presence=Presence.BREAK)])
    router.add_task(task("t1", 1))
    router.step(2)
    router.accept("t1", "a", 2)
    router.transfer("t1", 3, to_agent="b", fallback_after_s=30)
    assert router.step(10) == []  # b is on break, a is excluded: nobody else gets it
    assert router.task("t1").target_agent == "b"
    router.set_presence("b", Presence.AVAILABLE, 20)
    assert offers(router.step(20)) == [("t1", "b")]
    router.decline("t1", "b", 21)
    assert router.step(32) == []
    router.upsert_agent(agent("c", idle_since=0))
    assert router.step(33) == [TransferFallback("t1", "b", "q"), Offer("t1", "c", "q", CHAT, 3, 48.0)]


def test_escalation_goes_to_second_line_with_context() -> None:
    first = queue("first", escalation_queue_id="second")
    second = queue("second", tier=2)
    router = Router([first, second], [agent("l1", idle_since=0), agent("l2", tier=2, idle_since=1)])
    router.add_task(task("t1", 1, "first", attributes={"order": "A-17"}))
    assert offers(router.step(2)) == [("t1", "l1")]
    router.accept("t1", "l1", 2)
    assert router.escalate("t1", 3, context={"note": "needs refund approval"}) == "second"
    info = router.task("t1")
    assert info.task.attributes == {
        "order": "A-17",
        "note": "needs refund approval",
        "escalated_from": "first",
        "escalated_by": "l1",
    }
    assert info.task.queued_at == 1
    assert router.agent("l1").load == {}
    assert offers(router.step(3)) == [("t1", "l2")]
    with pytest.raises(EngineError) as error:
        router.escalate("t1", 4)
    assert error.value.code == "no_escalation_queue"


def test_escalation_to_the_same_line_is_refused() -> None:
    router = Router([queue("a1"), queue("a2")], [])
    router.add_task(task("t1", 1, "a1"))
    with pytest.raises(EngineError) as error:
        router.escalate("t1", 2, to_queue="a2")
    assert error.value.code == "not_higher_line"


# ---- eligibility ----------------------------------------------------------------------------------


def test_tenant_language_tier_and_skill_rules() -> None:
    q = queue(skills={"tech": 5}, languages=frozenset({"pl", "ru"}))
    agents = [
        Agent(
            "other-tenant",
            frozenset({"t2"}),
            skills={"tech": 9},
            languages=frozenset({"pl"}),
            presence=Presence.AVAILABLE,
        ),
        agent("low-skill", {"tech": 4}, languages=frozenset({"pl"})),
        agent("no-language", {"tech": 9}, languages=frozenset({"en"})),
        agent("second-line", {"tech": 9}, languages=frozenset({"pl"}), tier=2),
        agent("ok-ru", {"tech": 5}, languages=frozenset({"ru"}), idle_since=1),
        agent("ok-pl", {"tech": 5}, languages=frozenset({"pl"}), idle_since=2),
    ]
    router = Router([q], agents)
    router.add_task(task("polish", 1, language="pl"))
    router.add_task(task("any", 2))
    assert offers(router.step(3)) == [("polish", "ok-pl"), ("any", "ok-ru")]


def test_task_extra_skills_add_to_the_queue_requirement() -> None:
    router = Router(
        [queue(skills={"tech": 2})],
        [agent("a", {"tech": 9}), agent("b", {"tech": 3, "vip": 6}, idle_since=5)],
    )
    router.add_task(task("t1", 1, skills={"vip": 5}))
    assert offers(router.step(2)) == [("t1", "b")]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda r: r.add_task(task("x", 0, "nope")), "unknown_queue"),
        (lambda r: r.add_task(Task("x", "t2", "q", CHAT, 0)), "cross_tenant"),
        (lambda r: r.add_task(task("x", 0, channel="fax")), "wrong_channel"),
        (lambda r: r.add_task(task("t1", 0)), "duplicate_task"),
        (lambda r: r.complete("t1", 0), "not_assigned"),
        (lambda r: r.timeout("t1", 0), "not_offered"),
        (lambda r: r.transfer("t1", 0, to_agent="ghost"), "unknown_agent"),
        (lambda r: r.set_presence("ghost", Presence.AVAILABLE, 0), "unknown_agent"),
        (lambda r: r.remove_task("ghost", 0), "unknown_task"),
        (lambda r: r.add_task(task("x", 0, skills={"tech": 11})), "invalid_level"),
    ],
)
def test_bad_operations_raise_and_change_nothing(make: object, code: str) -> None:
    router = Router([queue()], [agent("a", presence=Presence.BREAK)])
    router.add_task(task("t1", 0))
    with pytest.raises(EngineError) as error:
        make(router)  # type: ignore[operator]
    assert error.value.code == code
    assert router.task_ids() == ["t1"]
    assert router.task("t1").status is TaskStatus.WAITING


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(EngineError):
        Queue("q", "t1", ALL, overflow=(OverflowStep(after_s=5, move_to_queue="x"), OverflowStep(after_s=9)))
    with pytest.raises(EngineError):
        Router([queue(overflow=(OverflowStep(after_s=5, move_to_queue="missing"),))])
    with pytest.raises(EngineError):
        Router([Queue("x", "t2", ALL), queue(escalation_queue_id="x")])
    with pytest.raises(EngineError):
        agent("a", {"tech": 0})


# ---- restart ----------------------------------------------------------------------------------------


def test_restore_after_restart_keeps_loads_and_expires_old_offers() -> None:
    router = Router([queue(accept_timeout_s=10)], [agent("a", capacity={CHAT: 2}), agent("b", idle_since=3)])
    router.restore_assignment(task("done", 0), "a")
    router.add_task(task("ringing", 1))
    router.restore_offer("ringing", "a", expires_at=15)
    router.add_task(task("new", 2))
    assert offers(router.step(5)) == [("new", "b")]  # a: one chat and a pending chat offer
    assert router.step(15) == [OfferExpired("ringing", "a", 1), OfferExpired("new", "b", 2)]
    assert router.agent("a").load == {CHAT: 1}
    router.remove_task("done", 16)
    assert router.agent("a").load == {}


# ---- configuration changes and read API -----------------------------------------------------------


def test_new_skills_make_an_agent_eligible_at_the_next_step() -> None:
    router = Router([queue(skills={"tech": 6})], [agent("a", {"tech": 2})])
    router.add_task(task("t1", 1))
    assert router.step(2) == []
    router.upsert_agent(agent("a", {"tech": 7}))
    assert offers(router.step(3)) == [("t1", "a")]


def test_queue_changes_reindex_waiting_tasks() -> None:
    router = Router([queue(skills={"tech": 9})], [agent("a", {"tech": 3})])
    router.add_task(task("t1", 1))
    assert router.step(2) == []
    router.upsert_queue(queue(skills={"tech": 3}))
    assert offers(router.step(3)) == [("t1", "a")]


def test_removing_an_agent_requeues_its_work_in_place() -> None:
    router = Router([queue()], [agent("a", idle_since=0), agent("b", presence=Presence.BREAK)])
    router.add_task(task("t1", 1))
    router.add_task(task("t2", 2))
    router.step(3)
    router.accept("t1", "a", 3)
    router.step(3)  # t2 offered to a as well (chat capacity 3)
    assert router.remove_agent("a", 4) == ["t1"]
    assert router.step(4) == [OfferRescinded("t2", "a", 2, "agent_removed")]
    assert router.waiting() == ["t1", "t2"]
    router.set_presence("b", Presence.AVAILABLE, 5)
    assert offers(router.step(5)) == [("t1", "b")]


def test_queue_stats_count_by_status_and_longest_wait() -> None:
    router = Router([queue()], [agent("a", capacity={CHAT: 1})])
    for n in range(3):
        router.add_task(task(f"t{n}", 10 + n))
    router.step(20)
    router.accept("t0", "a", 21)
    stats = router.queue_stats("q", 30)
    assert (stats.waiting, stats.offered, stats.assigned, stats.longest_wait_s) == (2, 0, 1, 19)
