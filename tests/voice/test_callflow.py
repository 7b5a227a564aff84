"""The pure call state machine: which event may follow which."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linia.intake.voice import callflow


def run(events: list[str]) -> list[str]:
    state, last, seen = callflow.START, None, []
    for seq, kind in enumerate(events, start=1):
        decision = callflow.decide(state, kind, last_sequence=last, sequence=seq)
        seen.append(decision.state or decision.code)
        if decision.ok:
            state, last = decision.state, seq
    return seen


def test_typical_calls() -> None:
    assert run(["offered", "queued", "ringing", "queued", "ringing", "answered", "held", "resumed", "ended"]) == [
        "offered", "queued", "ringing", "queued", "ringing", "talking", "held", "talking", "ended"]
    assert run(["queued", "ringing", "abandoned", "ended"]) == ["queued", "ringing", "abandoned", "ended"]
    assert run(["queued", "transferred", "ended"]) == ["queued", "transferred", "ended"]


def test_refusals() -> None:
    assert run(["answered"]) == ["unknown_call"]
    assert run(["offered", "offered"]) == ["offered", "invalid_transition"]
    assert run(["queued", "held"]) == ["queued", "invalid_transition"]
    assert run(["queued", "answered", "abandoned"]) == ["queued", "talking", "invalid_transition"]
    assert run(["queued", "ended", "ringing"]) == ["queued", "ended", "call_ended"]
    assert callflow.decide("queued", "exploded").code == "unknown_event"
    late = callflow.decide("talking", "held", last_sequence=5, sequence=5)
    assert late.code == "out_of_order" and not late.ok


@given(st.lists(st.sampled_from(callflow.EVENTS), max_size=30))
def test_any_sequence_stays_in_known_states_and_ended_is_final(events: list[str]) -> None:
    state, ended = callflow.START, False
    for seq, kind in enumerate(events, start=1):
        decision = callflow.decide(state, kind, sequence=seq, last_sequence=seq - 1)
        assert decision.ok != bool(decision.code)
        if ended:
            assert not decision.ok
        if decision.ok:
            assert decision.state in callflow.STATES
            state = decision.state
            ended = state == "ended"
