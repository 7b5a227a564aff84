"""Chat pushes: to the visitor's sockets (group ``chat-<session id>``) and to the holding agent's desk.

Both go through linia.routing.realtime.publish: sent only after the transaction commits (nobody sees a
message that was rolled back), and inside a server through its one ordered pump, so pushes leave in the
order they were published. Consumers receive ``{"type": "linia.event", "payload": ...}``.
"""

from __future__ import annotations

from typing import Any

from linia.routing import realtime


def chat_group(session_id: int) -> str:
    return f"chat-{session_id}"


def to_visitor(session_id: int, payload: dict[str, Any]) -> None:
    """After commit: to every socket of the session (the visitor's tabs)."""
    realtime.publish(chat_group(session_id), payload)


def to_agent(user_id: int | None, payload: dict[str, Any]) -> None:
    """After commit: to the agent's desk (its consumer forwards the payload to the browser)."""
    if user_id is not None:
        realtime.publish(realtime.agent_group(user_id), payload)
