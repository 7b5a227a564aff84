"""The AMI client against a recorded transcript replayed by a real asyncio TCP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from linia.intake.voice.ami import AmiAuthError, AmiClient, CallMapper, parse_message
from linia.intake.voice.management.commands.voice import ami_handler
from linia.intake.voice.models import Call, CtiEvent, RejectedCtiEvent

from .conftest import FIXTURES, World

pytestmark = pytest.mark.django_db(transaction=True)  # the handler writes from asgiref's worker thread


def transcript_parts() -> list[bytes]:
    """The recorded events as wire bytes (CRLF), split where the server drops the connection."""
    text = "".join(line for line in (FIXTURES / "ami_queue_calls.txt").read_text().splitlines(keepends=True)
                   if not line.startswith("#"))
    return [part.replace("\n", "\r\n").encode() for part in text.split("--- reconnect ---\n")]


@dataclass
class FakeAsterisk:
    """Speaks AMI's side: banner, Login check, then one recorded part per connection."""

    parts: list[bytes]
    username: str = "linia"
    secret: str = "s3cret"
    logins: list[dict[str, str]] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/5.0.2\r\n")
        lines = []
        while (line := (await reader.readline()).decode().rstrip("\r\n")) != "":
            lines.append(line)
        login = parse_message(lines)
        self.logins.append(login)
        ok = (login.get("action", "").lower() == "login" and login.get("username") == self.username
              and login.get("secret") == self.secret)
        status = "Success" if ok else "Error"
        message = "Authentication accepted" if ok else "Authentication failed"
        writer.write(f"Response: {status}\r\nActionID: {login.get('actionid', '')}\r\nMessage: {message}\r\n\r\n"
                     .encode())
        if ok:
            writer.write(b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 12\r\nLastReload: 12\r\n"
                         b"Status: Fully Booted\r\n\r\n")
            writer.write(self.parts.pop(0) if self.parts else b"")
        await writer.drain()
        writer.close()


async def replay(server: FakeAsterisk, handler: Any, *, connections_allowed: int, secret: str = "s3cret") -> None:
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        client = AmiClient("127.0.0.1", port, "linia", secret, reconnect_delay=0.01)
        await client.run(handler, max_connections=connections_allowed)
    finally:
        listener.close()
        await listener.wait_closed()
        await sync_to_async(connections.close_all)()


def test_replayed_transcript_becomes_calls_and_interactions(world: World) -> None:
    a = world.a
    server = FakeAsterisk(transcript_parts())
    asyncio.run(replay(server, ami_handler(a.tenant), connections_allowed=2))
    assert len(server.logins) == 2  # the dropped connection was re-established and logged in again
    assert server.logins[0]["username"] == "linia" and server.logins[0]["actionid"]

    answered = Call.objects.get(tenant=a.tenant, pbx_call_id="1795600800.101")
    assert answered.line == a.line and answered.caller == "+48601000001" and answered.queue_code == "alfa-support"
    assert answered.state == "ended" and not answered.abandoned
    assert answered.agent == a.agent and answered.agent_extension == "201"
    assert answered.queued_at.timestamp() == 1795600800.5
    assert answered.ringing_at.timestamp() == 1795600801.0  # the first ring (agent 202, no answer)
    assert answered.answered_at.timestamp() == 1795600821.0
    assert answered.ended_at.timestamp() == 1795600920.0
    assert list(answered.events.values_list("event", flat=True)) == [
        "queued", "ringing", "queued", "ringing", "answered", "held", "resumed", "ended"]
    assert answered.interaction.agent == a.agent and answered.interaction.ended_at == answered.ended_at

    abandoned = Call.objects.get(tenant=a.tenant, pbx_call_id="1795600900.201")  # Exten "s": found by queue name
    assert abandoned.abandoned and abandoned.state == "ended" and abandoned.caller == "+48601000002"
    assert list(abandoned.events.values_list("event", flat=True)) == ["queued", "ringing", "abandoned", "ended"]

    rejected = RejectedCtiEvent.objects.get(pbx_call_id="1795601000.301")  # a queue no line serves
    assert rejected.code == "unknown_line" and rejected.source == "ami"
    assert Call.objects.count() == 2


def test_replaying_the_same_transcript_again_changes_nothing(world: World) -> None:
    a = world.a
    asyncio.run(replay(FakeAsterisk(transcript_parts()), ami_handler(a.tenant), connections_allowed=2))
    before = (CtiEvent.objects.count(), list(Call.objects.order_by("id").values_list("state", "last_sequence")))
    asyncio.run(replay(FakeAsterisk(transcript_parts()), ami_handler(a.tenant), connections_allowed=2))
    after = (CtiEvent.objects.count(), list(Call.objects.order_by("id").values_list("state", "last_sequence")))
    assert before == after and before[0] == 12


def test_refused_login_stops_at_once(world: World) -> None:
    server = FakeAsterisk(transcript_parts())
    with pytest.raises(AmiAuthError, match="Authentication failed"):
        asyncio.run(replay(server, ami_handler(world.a.tenant), connections_allowed=5, secret="wrong"))
    assert len(server.logins) == 1 and not Call.objects.exists()


def test_not_an_ami_server_is_retried_then_given_up() -> None:
    async def http_like(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    async def run() -> int:
        listener = await asyncio.start_server(http_like, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        seen: list[Any] = []

        async def handler(event: Any) -> None:
            seen.append(event)

        await AmiClient("127.0.0.1", port, "u", "s", reconnect_delay=0.01).run(handler, max_connections=2)
        listener.close()
        await listener.wait_closed()
        return len(seen)

    assert asyncio.run(run()) == 0


def test_mapper_ignores_events_of_calls_it_never_saw_join() -> None:
    mapper = CallMapper(clock=lambda: 1795600000.0)
    stray = {"event": "AgentConnect", "uniqueid": "1.1", "queue": "q", "interface": "PJSIP/201"}
    assert mapper.map(stray) == []
    joined = mapper.map({"event": "QueueCallerJoin", "uniqueid": "1.1", "queue": "q", "exten": "s",
                         "calleridnum": "601000002"})
    assert [e.event for e in joined] == ["queued"] and joined[0].dialled == ""
    again = mapper.map(stray)  # no Timestamp header: the clock, still strictly increasing
    assert again[0].event == "answered" and again[0].agent_extension == "201"
    assert again[0].sequence == joined[0].sequence + 1


def test_mapper_forgets_calls_whose_channel_hung_up() -> None:
    mapper = CallMapper(clock=lambda: 1795600000.0)
    mapper.map({"event": "QueueCallerJoin", "uniqueid": "1.1", "queue": "q", "exten": "48221234567"})
    mapper.map({"event": "AgentConnect", "uniqueid": "1.1", "queue": "q", "interface": "PJSIP/201"})
    assert [e.event for e in mapper.map({"event": "AgentComplete", "uniqueid": "1.1", "reason": "agent"})] == [
        "ended"]
    assert mapper.map({"event": "Hangup", "uniqueid": "1.1"}) == []  # already ended: nothing sent twice
    assert mapper.calls == {}


def test_ami_command_reports_a_refused_login(world: World) -> None:
    import io
    import threading

    from django.core.management import call_command
    from django.core.management.base import CommandError

    server = FakeAsterisk(transcript_parts())
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    async def start() -> asyncio.Server:
        listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
        port.append(listener.sockets[0].getsockname()[1])
        ready.set()
        return listener

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    listener = asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    try:
        ready.wait(5)
        with pytest.raises(CommandError, match="AMI login refused") as caught:
            call_command("voice", "ami", "--host", "127.0.0.1", "--port", str(port[0]), "--username", "linia",
                         "--secret", "wrong", "--tenant", world.a.tenant.slug, stdout=io.StringIO())
        assert caught.value.returncode == 2 and server.logins[0]["secret"] == "wrong"
    finally:
        # The server belongs to the loop's thread: close it there (closing it from here raced the loop).
        async def stop() -> None:
            listener.close()
            await listener.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
