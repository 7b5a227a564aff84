"""Asterisk's queue_log (/var/log/asterisk/queue_log) read into CTI events (pure Python, no Django).

Each line: ``time|callid|queuename|agent|event|data1|data2|...`` where time is a UNIX timestamp (the
realtime table's "YYYY-MM-DD HH:MM:SS[.ffffff]" is read as UTC too). Per call (callid):
ENTERQUEUE(url|callerid|origposition) → queued; RINGNOANSWER(ringtime ms) → ringing at time − ringtime, then
queued again; CONNECT(holdtime|bridged uniqueid|ringtime s) → ringing, answered; COMPLETECALLER and
COMPLETEAGENT → ended; ABANDON → abandoned, ended; EXITWITHTIMEOUT, EXITEMPTY, EXITWITHKEY and the
transfers (TRANSFER, BLINDTRANSFER, ATTENDEDTRANSFER) → transferred, ended. A DID line (written by
FreePBX-style dialplans) gives the dialled number. Queue/agent housekeeping lines (callid NONE) are skipped.
The sequence is the time in milliseconds, strictly increasing per call in file order, so importing the
same file again yields the same (call id, sequence) keys and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from linia.intake.voice.cti import CtiInput

MAX_LINE = 4096
IGNORED_CALLIDS = frozenset({"", "NONE", "REALTIME"})
_END_UNANSWERED = frozenset({"EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"})
_TRANSFERS = frozenset({"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"})
_KNOWN = frozenset({"ENTERQUEUE", "RINGNOANSWER", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON", "DID",
                    "RINGCANCELED", *_END_UNANSWERED, *_TRANSFERS})
_DB_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")
_INTERFACE = re.compile(r"^(?:[A-Za-z0-9_]+)/(?P<ext>[^@/-]+)")


@dataclass(frozen=True)
class Issue:
    line: int
    message: str


@dataclass(frozen=True)
class Record:
    line: int
    at: datetime
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]
    text: str


@dataclass
class Parsed:
    events: list[tuple[Record, CtiInput]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    lines: int = 0
    skipped: int = 0  # housekeeping lines and events that say nothing about a call's state


def parse_time(text: str) -> datetime:
    text = text.strip()
    if _DB_TIME.match(text):
        return datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=UTC)
    value = float(text)  # ValueError on junk
    if not 0 < value < 32503680000:  # before year 3000
        raise ValueError("timestamp out of range")
    return datetime.fromtimestamp(value, UTC)


def parse_line(number: int, text: str) -> Record | Issue:
    if len(text) > MAX_LINE:
        return Issue(number, f"line longer than {MAX_LINE} characters")
    if "\x00" in text:
        return Issue(number, "NUL character in line")
    parts = text.split("|")
    if len(parts) < 5:
        return Issue(number, f"expected time|callid|queuename|agent|event|data..., got {len(parts)} fields")
    try:
        at = parse_time(parts[0])
    except (ValueError, OverflowError, OSError):
        return Issue(number, f"bad time {parts[0][:40]!r} (UNIX timestamp expected)")
    event = parts[4].strip().upper()
    if not event:
        return Issue(number, "empty event name")
    return Record(number, at, parts[1].strip(), parts[2].strip(), parts[3].strip(), event,
                  tuple(p.strip() for p in parts[5:]), text)


def agent_extension(agent: str) -> str:
    """PJSIP/201, SIP/201, Local/201@from-queue/n → 201; a member name stays as it is."""
    match = _INTERFACE.match(agent)
    return match.group("ext") if match else ("" if agent.upper() == "NONE" else agent)


def _int(data: tuple[str, ...], index: int) -> int:
    try:
        return max(0, int(data[index]))
    except (IndexError, ValueError):
        return 0


@dataclass
class _CallInfo:
    caller: str = ""
    dialled: str = ""
    queue: str = ""
    last_sequence: int = 0


class Reader:
    """Turns records into CTI events, call by call, keeping what earlier lines said about each call."""

    def __init__(self) -> None:
        self.calls: dict[str, _CallInfo] = {}

    def events(self, record: Record) -> list[CtiInput]:
        info = self.calls.setdefault(record.callid, _CallInfo())
        data, at = record.data, record.at
        if record.queue and record.queue.upper() != "NONE":
            info.queue = record.queue
        if record.event == "DID":
            info.dialled = data[0] if data else ""
            return []
        if record.event == "ENTERQUEUE":
            info.caller = data[1] if len(data) > 1 else ""
            return [self._cti(record, info, "queued", at)]
        agent = agent_extension(record.agent)
        if record.event == "RINGNOANSWER":
            rang = at - timedelta(milliseconds=_int(data, 0))
            return [self._cti(record, info, "ringing", rang, agent), self._cti(record, info, "queued", at)]
        if record.event == "CONNECT":
            rang = at - timedelta(seconds=_int(data, 2))
            return [self._cti(record, info, "ringing", rang, agent), self._cti(record, info, "answered", at, agent)]
        if record.event in {"COMPLETECALLER", "COMPLETEAGENT"}:
            return [self._cti(record, info, "ended", at)]
        if record.event == "ABANDON":
            return [self._cti(record, info, "abandoned", at), self._cti(record, info, "ended", at)]
        if record.event in _END_UNANSWERED or record.event in _TRANSFERS:
            return [self._cti(record, info, "transferred", at), self._cti(record, info, "ended", at)]
        return []

    @staticmethod
    def _cti(record: Record, info: _CallInfo, kind: str, at: datetime, agent: str = "") -> CtiInput:
        info.last_sequence = max(int(at.timestamp() * 1000), info.last_sequence + 1)
        return CtiInput(call_id=record.callid, sequence=info.last_sequence, event=kind, caller=info.caller,
                        dialled=info.dialled, queue=info.queue, agent_extension=agent, at=at,
                        extra={"queue_log": {"line": record.line, "event": record.event, "text": record.text}})


def parse(lines: Iterable[str]) -> Parsed:
    """Every CTI event of a queue_log, with the lines that could not be read."""
    result = Parsed()
    reader = Reader()
    for number, raw in enumerate(lines, start=1):
        result.lines = number
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        record = parse_line(number, text)
        if isinstance(record, Issue):
            result.issues.append(record)
            continue
        if record.callid.upper() in IGNORED_CALLIDS or record.event not in _KNOWN:
            result.skipped += 1
            continue
        produced = reader.events(record)
        if not produced:
            result.skipped += 1
        result.events.extend((record, event) for event in produced)
    return result


def read_lines(data: bytes) -> Iterator[str]:
    """Lines of a queue_log file (UTF-8; bytes that are not are replaced, the line still parses)."""
    yield from data.decode("utf-8", errors="replace").splitlines()
