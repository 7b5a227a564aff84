"""The CTI event payload: checked field by field into a CtiInput (pure Python, shared by API, AMI, queue_log)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from linia.intake.voice.callflow import EVENTS

MAX_SEQUENCE = 2**63 - 1
_TEXT_LIMITS = {"call_id": 200, "caller": 64, "dialled": 64, "queue": 80, "agent_extension": 40}


class CtiInputError(ValueError):
    def __init__(self, code: str, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}


@dataclass(frozen=True)
class CtiInput:
    call_id: str
    sequence: int
    event: str
    caller: str = ""
    dialled: str = ""
    queue: str = ""
    agent_extension: str = ""
    at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # adapter details kept with the event (AMI fields...)


def _text(data: dict[str, Any], key: str, errors: dict[str, list[str]], *, required: bool = False) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            errors.setdefault(key, []).append("required")
        return ""
    if not isinstance(value, str):
        errors.setdefault(key, []).append("must be a string")
        return ""
    value = value.strip()
    if len(value) > _TEXT_LIMITS[key] or not _storable(value):
        errors.setdefault(key, []).append(f"at most {_TEXT_LIMITS[key]} characters of valid text, no NUL")
        return ""
    if required and not value:
        errors.setdefault(key, []).append("required")
    return value


def _storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape
        return False
    return True


def _sequence(data: dict[str, Any], errors: dict[str, list[str]]) -> int:
    value = data.get("sequence")
    if isinstance(value, bool) or not isinstance(value, int):
        errors.setdefault("sequence", []).append("an integer is required")
        return 0
    if not 0 <= value <= MAX_SEQUENCE:
        errors.setdefault("sequence", []).append(f"between 0 and {MAX_SEQUENCE}")
    return value


def _at(data: dict[str, Any], errors: dict[str, list[str]]) -> datetime | None:
    value = data.get("at")
    if value is None:
        return None
    if not isinstance(value, str):
        errors.setdefault("at", []).append("an ISO 8601 date-time string is required")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.setdefault("at", []).append("not an ISO 8601 date-time")
        return None
    if parsed.tzinfo is None:
        errors.setdefault("at", []).append("needs a time zone offset (e.g. Z or +01:00)")
        return None
    return parsed.astimezone(UTC)


def parse(data: Any) -> CtiInput:
    """A CtiInput from a decoded JSON body, or CtiInputError naming every bad field."""
    if not isinstance(data, dict):
        raise CtiInputError("invalid_request", "The body must be a JSON object.")
    errors: dict[str, list[str]] = {}
    call_id = _text(data, "call_id", errors, required=True)
    sequence = _sequence(data, errors)
    event = data.get("event")
    if not isinstance(event, str) or event not in EVENTS:
        errors.setdefault("event", []).append(f"one of: {', '.join(EVENTS)}")
    result = CtiInput(call_id=call_id, sequence=sequence, event=str(event), caller=_text(data, "caller", errors),
                      dialled=_text(data, "dialled", errors, required=True), queue=_text(data, "queue", errors),
                      agent_extension=_text(data, "agent_extension", errors), at=_at(data, errors))
    unknown = sorted(set(data) - {"call_id", "sequence", "event", "caller", "dialled", "queue", "agent_extension",
                                  "at"})
    if unknown:
        errors.setdefault("request", []).append(f"unknown fields: {', '.join(unknown)[:200]}")
    if errors:
        code = "unknown_event" if set(errors) == {"event"} else "invalid_request"
        raise CtiInputError(code, "Some fields are missing or have the wrong type.", errors)
    return result
