"""Asterisk Manager Interface client: log in, read events, map queue events to CTI events, reconnect.

Protocol (TCP, default port 5038): the server greets with one line "Asterisk Call Manager/<version>";
then messages are "Key: value" lines ended by an empty line, each starting with Action (client),
Response or Event (server). Login: Action: Login / Username / Secret / ActionID; the answer carries the
same ActionID with "Response: Success" or "Response: Error".

Mapping (apps/app_queue.c events; the caller's channel Uniqueid is the call id, like queue_log's callid):
QueueCallerJoin → queued, AgentCalled → ringing, AgentRingNoAnswer → queued, AgentConnect → answered,
AgentComplete → ended (transferred when Reason is "transfer"), QueueCallerAbandon → abandoned,
Hold/Unhold of the caller → held/resumed, Hangup of the caller → ended (unless already ended).
The sequence is the event's Timestamp header (manager.conf timestampevents=yes) in milliseconds, else the
time received, made strictly increasing per call; a replayed transcript maps to the same keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from linia.intake.voice.cti import CtiInput

log = logging.getLogger(__name__)

BANNER_PREFIX = "Asterisk Call Manager/"
Message = dict[str, str]  # header names in lower case


class AmiError(Exception):
    """The server is not an AMI server or broke the protocol."""


class AmiAuthError(AmiError):
    """Login refused: retrying with the same secret would not help."""


def parse_message(lines: list[str]) -> Message:
    """One AMI message from its "Key: value" lines (keys lower-cased; repeated keys keep the last)."""
    message: Message = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep:
            continue  # e.g. the free text some Command responses carry
        message[key.strip().lower()] = value.strip()
    return message


def format_action(action: str, **fields: str) -> bytes:
    lines = [f"Action: {action}"] + [f"{k}: {v}" for k, v in fields.items()]
    for line in lines:
        if "\r" in line or "\n" in line:
            raise ValueError("AMI header values cannot contain line breaks")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


_INTERFACE = re.compile(r"^(?:[A-Za-z0-9_]+)/(?P<ext>[^@/-]+)")


def extension_of(message: Message) -> str:
    """The agent's extension: from Interface (PJSIP/201, SIP/201-0001, Local/201@from-queue/n), else
    the member channel's caller id number."""
    match = _INTERFACE.match(message.get("interface", ""))
    if match:
        return match.group("ext")
    return message.get("destcalleridnum", "") or message.get("membername", "")


def _phone_like(text: str) -> bool:
    digits = text.lstrip("+")
    return digits.isdigit() and len(digits) >= 6


@dataclass
class _Tracked:
    caller: str
    dialled: str
    queue: str
    last_sequence: int = 0
    ended: bool = False


@dataclass
class CallMapper:
    """Turns AMI events into CTI events, remembering the calls it saw join a queue."""

    calls: dict[str, _Tracked] = field(default_factory=dict)
    clock: Callable[[], float] = time.time

    def map(self, message: Message) -> list[CtiInput]:
        name = message.get("event", "")
        call_id = message.get("uniqueid", "")
        if not call_id:
            return []
        if name == "QueueCallerJoin":
            exten = message.get("exten", "")
            self.calls[call_id] = _Tracked(caller=message.get("calleridnum", ""),
                                           dialled=exten if _phone_like(exten) else "",
                                           queue=message.get("queue", ""))
            return [self._cti(call_id, "queued", message)]
        tracked = self.calls.get(call_id)
        if tracked is not None and tracked.ended and name == "Hangup":
            del self.calls[call_id]  # ended earlier (AgentComplete): forget the call now its channel is gone
        if tracked is None or tracked.ended:
            return []
        kind = self._kind(name, message)
        if not kind:
            return []
        event = self._cti(call_id, kind, message)
        if kind == "ended":
            tracked.ended = True
        if name == "Hangup":
            self.calls.pop(call_id, None)  # the caller's channel is gone: nothing more will come
        return [event]

    def _kind(self, name: str, message: Message) -> str:
        if name == "AgentComplete":
            return "transferred" if message.get("reason", "").lower() == "transfer" else "ended"
        return {"AgentCalled": "ringing", "AgentRingNoAnswer": "queued", "AgentConnect": "answered",
                "QueueCallerAbandon": "abandoned", "Hold": "held", "Unhold": "resumed",
                "Hangup": "ended"}.get(name, "")

    def _cti(self, call_id: str, kind: str, message: Message) -> CtiInput:
        tracked = self.calls[call_id]
        stamp = _timestamp(message.get("timestamp", "")) or self.clock()
        tracked.last_sequence = max(int(stamp * 1000), tracked.last_sequence + 1)
        extension = extension_of(message) if kind in {"ringing", "answered"} else ""
        extra = {k: v for k, v in message.items() if k in _KEPT}
        return CtiInput(call_id=call_id, sequence=tracked.last_sequence, event=kind, caller=tracked.caller,
                        dialled=tracked.dialled, queue=message.get("queue", "") or tracked.queue,
                        agent_extension=extension, at=datetime.fromtimestamp(stamp, UTC),
                        extra={"ami": extra})


_KEPT = frozenset({"event", "channel", "uniqueid", "linkedid", "queue", "interface", "membername", "position",
                   "holdtime", "talktime", "ringtime", "reason", "cause", "cause-txt", "timestamp",
                   "calleridnum", "exten"})


def _timestamp(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 else None


Handler = Callable[[CtiInput], Awaitable[None]]


@dataclass
class AmiClient:
    host: str
    port: int
    username: str
    secret: str
    mapper: CallMapper = field(default_factory=CallMapper)
    reconnect_delay: float = 1.0
    max_reconnect_delay: float = 30.0
    connect_timeout: float = 10.0
    _action_id: int = 0

    async def run(self, handler: Handler, *, max_connections: int | None = None,
                  stop: asyncio.Event | None = None) -> None:
        """Connect, log in and feed events until `stop` is set; reconnect (with backoff) when the link
        drops. A refused login raises AmiAuthError at once."""
        delay = self.reconnect_delay
        connections = 0
        while not (stop and stop.is_set()) and (max_connections is None or connections < max_connections):
            connections += 1
            try:
                await self._session(handler, stop)
                delay = self.reconnect_delay
            except AmiAuthError:
                raise
            except (TimeoutError, OSError, asyncio.IncompleteReadError, AmiError) as exc:
                log.warning("AMI %s:%s: %s; reconnecting in %.1fs", self.host, self.port, exc, delay)
                if max_connections is not None and connections >= max_connections:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_reconnect_delay)

    async def _session(self, handler: Handler, stop: asyncio.Event | None) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port),
                                                self.connect_timeout)
        try:
            banner = (await asyncio.wait_for(reader.readline(), self.connect_timeout)).decode(errors="replace")
            if not banner.startswith(BANNER_PREFIX):
                raise AmiError(f"not an AMI server (banner {banner.strip()[:80]!r})")
            await self._login(reader, writer)
            while not (stop and stop.is_set()):
                message = await read_message(reader)
                if message is None:
                    return  # the server closed the connection
                if "event" in message:
                    for event in self.mapper.map(message):
                        await handler(event)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _login(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._action_id += 1
        action_id = f"linia-{self._action_id}"
        writer.write(format_action("Login", Username=self.username, Secret=self.secret, ActionID=action_id))
        await writer.drain()
        while True:
            message = await asyncio.wait_for(read_message(reader), self.connect_timeout)
            if message is None:
                raise AmiError("connection closed during login")
            if message.get("actionid") != action_id:
                continue  # an event that raced the answer
            if message.get("response", "").lower() == "success":
                return
            raise AmiAuthError(message.get("message", "authentication failed"))


async def read_message(reader: asyncio.StreamReader) -> Message | None:
    """The next message (lines up to an empty line), or None at a clean end of stream."""
    lines: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            if lines:
                raise asyncio.IncompleteReadError(b"".join(x.encode() for x in lines), None)
            return None
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if line == "":
            if lines:
                return parse_message(lines)
            continue
        lines.append(line)
