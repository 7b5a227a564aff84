"""Which CTI event may follow which: the call state machine, pure Python (no Django).

A call starts with `offered` or `queued`. Events arrive with a per-call sequence that must grow;
a lower or equal sequence that is not an exact duplicate is a late (out-of-order) event.
"""

from __future__ import annotations

from dataclasses import dataclass

EVENTS = ("offered", "queued", "ringing", "answered", "held", "resumed", "transferred", "abandoned", "ended")

# Call states. "talking" covers answered and resumed; "ended" is final (abandoned calls end too).
START = "start"  # no call yet
STATES = ("offered", "queued", "ringing", "talking", "held", "transferred", "abandoned", "ended")
WAITING = frozenset({"offered", "queued", "ringing"})

# event -> (states it may follow, state it leads to)
_RULES: dict[str, tuple[frozenset[str], str]] = {
    "offered": (frozenset({START}), "offered"),
    # Back to the queue after a ring-no-answer or a transfer to a queue; ring-all strategies report
    # one ring-no-answer per agent rung, hence queued after queued.
    "queued": (frozenset({START, "offered", "queued", "ringing", "transferred"}), "queued"),
    # Ring-all strategies ring several agents: ringing may follow ringing.
    "ringing": (frozenset({"offered", "queued", "ringing", "transferred"}), "ringing"),
    # Some PBXs do not report ringing; a transferred call is answered by the next agent.
    "answered": (frozenset({"offered", "queued", "ringing", "transferred"}), "talking"),
    "held": (frozenset({"talking"}), "held"),
    "resumed": (frozenset({"held"}), "talking"),
    "transferred": (frozenset({"talking", "held", "ringing", "queued"}), "transferred"),
    "abandoned": (frozenset({"offered", "queued", "ringing", "transferred"}), "abandoned"),
    # The PBX's hang-up after an abandon closes the call; an unanswered call that ends was abandoned.
    "ended": (frozenset({"offered", "queued", "ringing", "talking", "held", "transferred", "abandoned"}), "ended"),
}


@dataclass(frozen=True)
class Decision:
    """Either `state` (the call's next state) or `code` + `message` (why the event is refused)."""

    state: str = ""
    code: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.code


def decide(state: str, event: str, *, last_sequence: int | None = None, sequence: int = 0) -> Decision:
    """The call's next state after `event`, or why the event is refused (state unchanged)."""
    rule = _RULES.get(event)
    if rule is None:
        return Decision(code="unknown_event", message=f"unknown event {event!r}; one of: {', '.join(EVENTS)}")
    if last_sequence is not None and sequence <= last_sequence:
        return Decision(code="out_of_order",
                        message=f"sequence {sequence} is not after the call's last sequence {last_sequence}")
    allowed, target = rule
    if state in allowed:
        return Decision(state=target)
    if state == START:
        return Decision(code="unknown_call", message=f"{event!r} for a call never offered or queued")
    if state == "ended":
        return Decision(code="call_ended", message=f"{event!r} after the call ended")
    return Decision(code="invalid_transition", message=f"{event!r} is not allowed while the call is {state}")


def answered(state: str) -> bool:
    return state in {"talking", "held"}
