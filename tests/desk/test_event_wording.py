from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import translation

from linia.desk.messages import describe_event


def _event(kind: str, **data: Any) -> Any:
    return SimpleNamespace(kind=kind, data=data)


@pytest.mark.parametrize(("kind", "data", "text"), [
    ("chat.started", {"offline": False}, "Chat started"),
    ("chat.started", {"offline": True}, "Chat started outside opening hours (no agent)"),
    ("chat.ended", {"by": "visitor"}, "The customer left the chat"),
    ("chat.ended", {"by": "routing"}, "Chat ended"),
    ("chat.transcript_sent", {"to": ["ivan@example.com"]}, "Chat transcript emailed to ivan@example.com"),
    ("webform.submitted", {"form_key": "demo-preorder", "attachments": 0}, "Sent through the web form demo-preorder"),
])
def test_chat_and_web_form_events_read_as_sentences_on_the_ticket_history(kind: str, data: dict[str, Any],
                                                                          text: str) -> None:
    assert describe_event(_event(kind, **data)) == text


def test_the_history_wording_is_translated() -> None:
    with translation.override("pl"):
        assert describe_event(_event("chat.ended", by="agent")) == "Konsultant zakończył czat"
    with translation.override("ru"):
        assert describe_event(_event("chat.started", offline=False)) == "Чат начат"
