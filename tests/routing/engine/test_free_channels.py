"""engine.free_channels (the dispatcher's test for "has room") says what the router itself says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from linia.routing.engine import CALL, CHAT, EMAIL, Agent, Offer, Presence, Queue, Router, Task, free_channels

CHANNELS = (CALL, CHAT, EMAIL, "ticket")
capacities = st.fixed_dictionaries({c: st.integers(0, 3) for c in CHANNELS})
loads = st.fixed_dictionaries({c: st.integers(0, 4) for c in CHANNELS})


def router_with(capacity: dict[str, int], load: dict[str, int]) -> Router:
    agent = Agent(id="a", tenant_ids=frozenset({"t"}), presence=Presence.AVAILABLE, capacity=capacity,
                  load={c: min(n, capacity[c]) for c, n in load.items()})
    return Router(queues=[Queue(id="q", tenant_id="t", channels=frozenset(CHANNELS))], agents=[agent])


@settings(max_examples=200, deadline=None)
@given(capacities, loads)
def test_held_work_leaves_the_same_room(capacity: dict[str, int], load: dict[str, int]) -> None:
    held = {c: min(n, capacity[c]) for c, n in load.items()}
    assert free_channels(capacity, held) == router_with(capacity, load).free_channels("a")


@settings(max_examples=200, deadline=None)
@given(capacities, loads, st.sampled_from(CHANNELS))
def test_a_ringing_offer_leaves_the_same_room(capacity: dict[str, int], load: dict[str, int], channel: str) -> None:
    router = router_with(capacity, load)
    router.add_task(Task(id="x", tenant_id="t", queue_id="q", channel=channel, queued_at=0.0))
    offered = [d for d in router.step(1.0) if isinstance(d, Offer)]
    held = {c: min(n, capacity[c]) for c, n in load.items()}
    if offered:
        held[channel] += 1
    ringing = [channel] if offered else []
    assert free_channels(capacity, held, ringing) == router.free_channels("a")


def test_a_call_blocks_chats_but_not_email() -> None:
    capacity = {CALL: 1, CHAT: 3, EMAIL: 5}
    assert free_channels(capacity, {}) == {CALL, CHAT, EMAIL}
    assert free_channels(capacity, {CALL: 1}) == {EMAIL}
    assert free_channels(capacity, {CALL: 1}, [CALL]) == {EMAIL}
    assert free_channels(capacity, {CHAT: 1}, [CHAT]) == {CALL, EMAIL}
    assert free_channels(capacity, {EMAIL: 5}) == {CALL, CHAT}
