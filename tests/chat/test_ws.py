"""The visitor's websocket against the real ASGI application, with the agent's desk socket and actions."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import close_old_connections, connection
from django.test import Client, override_settings

from linia.core.errors import NotFound
from linia.core.permissions import PermissionDenied
from linia.intake.chat import actions, queries
from linia.intake.chat.models import ChatMessage, ChatSession
from linia.routing.models import Task, TaskStatus
from linia.routing.realtime import start_pump, stop_pump
from linia.tickets.models import Message
from tests.chat.conftest import Chat, desk, receive_type, run, session_cookie, start, take, visitor

pytestmark = pytest.mark.django_db(transaction=True)


def _start(chat: Chat, **data: Any) -> tuple[str, ChatSession]:
    body = start(Client(), **data).json()
    return body["token"], ChatSession.objects.get(pk=body["session_id"])


def test_connect_sends_state_and_resume_sends_history(chat: Chat) -> None:
    token, session = _start(chat, text="first")

    async def scenario() -> None:
        comm = visitor("pk_spar", token)
        assert (await comm.connect())[0]
        state = await comm.receive_json_from(timeout=3)
        assert state == {"type": "state", "status": "waiting", "agent": None, "queue_position": 1}
        await comm.send_json_to({"type": "resume", "after_seq": 0})
        history = await receive_type(comm, "history")
        assert [m["text"] for m in history["messages"]] == ["first"]
        assert history["messages"][0]["seq"] == 1 and history["state"]["status"] == "waiting"
        await comm.send_json_to({"type": "message", "client_id": "c-1", "text": "second"})
        ack = await receive_type(comm, "ack")
        assert ack["client_id"] == "c-1" and ack["seq"] == 2 and ack["created_at"]
        pushed = await receive_type(comm, "message")
        assert (pushed["seq"], pushed["text"], pushed["sender"], pushed["client_id"]) == (2, "second", "visitor", "c-1")
        await comm.send_json_to({"type": "resume", "after_seq": 1})
        assert [m["seq"] for m in (await receive_type(comm, "history"))["messages"]] == [2]
        await comm.disconnect()

    run(scenario)
    assert Message.objects.filter(ticket_id=session.ticket_id).count() == 2


def test_repeated_client_id_is_acked_once_and_stored_once(chat: Chat) -> None:
    token, session = _start(chat)

    async def scenario() -> None:
        comm = visitor("pk_spar", token)
        await comm.connect()
        await receive_type(comm, "state")
        await comm.send_json_to({"type": "message", "client_id": "same", "text": "hello"})
        first = await receive_type(comm, "ack")
        await receive_type(comm, "message")
        # the widget lost the ack (connection cut) and resends on a new socket
        await comm.disconnect()
        again = visitor("pk_spar", token)
        await again.connect()
        await receive_type(again, "state")
        await again.send_json_to({"type": "message", "client_id": "same", "text": "hello"})
        second = await receive_type(again, "ack")
        assert second == first
        assert await again.receive_nothing(timeout=0.3)  # nothing new is broadcast
        await again.disconnect()

    run(scenario)
    assert ChatMessage.objects.filter(session=session).count() == 1
    assert Message.objects.filter(ticket_id=session.ticket_id).count() == 1


def test_agent_and_visitor_talk_both_ways(chat: Chat) -> None:
    token, session = _start(chat, text="Hi")
    cookie = session_cookie(chat.agent)

    async def scenario() -> None:
        agent_ws = desk(cookie)
        assert (await agent_ws.connect())[0]
        comm = visitor("pk_spar", token)
        await comm.connect()
        assert (await receive_type(comm, "state"))["status"] == "waiting"
        task = await database_sync_to_async(take)(chat, session.task_id)
        state = await receive_type(comm, "state")
        assert state["status"] == "active" and state["agent"] == {"name": "anna", "avatar_url": None}
        assert (await receive_type(agent_ws, "chat.state", key="kind"))["status"] == "active"

        history = await database_sync_to_async(queries.transcript)(chat.agent, task.pk)
        assert [m["text"] for m in history] == ["Hi"]

        await database_sync_to_async(actions.agent_send)(chat.agent, task.pk, "Hello, how can I help?", "a-1")
        reply = await receive_type(comm, "message")
        assert reply["sender"] == "agent" and reply["agent"]["name"] == "anna" and reply["seq"] == 2
        assert reply["text"] == "Hello, how can I help?"
        echo = await receive_type(agent_ws, "chat.message", key="kind")
        assert echo["task_id"] == task.pk and echo["message"]["seq"] == 2

        await comm.send_json_to({"type": "typing", "on": True})
        typing = await receive_type(agent_ws, "chat.typing", key="kind")
        assert typing == {"kind": "chat.typing", "task_id": task.pk, "on": True}
        await database_sync_to_async(actions.agent_typing)(chat.agent, task.pk, True)
        assert (await receive_type(comm, "typing"))["agent"] == "anna"

        await comm.send_json_to({"type": "message", "client_id": "v-2", "text": "<b>my order</b>"})
        got = await receive_type(agent_ws, "chat.message", key="kind")
        assert got["message"]["text"] == "<b>my order</b>" and got["message"]["sender"] == "visitor"

        await database_sync_to_async(actions.agent_end)(chat.agent, task.pk)
        assert (await receive_type(comm, "state"))["status"] == "ended"
        await comm.send_json_to({"type": "message", "client_id": "v-3", "text": "still there?"})
        error = await receive_type(comm, "error")
        assert error["code"] == "ended" and error["client_id"] == "v-3"
        await comm.disconnect()
        await agent_ws.disconnect()

    run(scenario)
    task = Task.objects.get(pk=session.task_id)
    assert task.first_response_at is not None and task.status == TaskStatus.ASSIGNED
    outbound = Message.objects.get(ticket_id=session.ticket_id, direction="outbound")
    assert outbound.author_user_id == chat.agent.pk and outbound.body_text == "Hello, how can I help?"


def test_only_the_holder_sends_and_other_tenants_see_nothing(chat: Chat) -> None:
    token, session = _start(chat, text="Hi")
    task = take(chat, session.task_id)
    with pytest.raises(PermissionDenied):
        actions.agent_send(chat.colleague, task.pk, "not mine")
    with pytest.raises(NotFound):
        actions.agent_send(chat.foreign_agent, task.pk, "cross-tenant")
    with pytest.raises(NotFound):
        queries.transcript(chat.foreign_agent, task.pk)
    with pytest.raises(PermissionDenied):
        queries.transcript(chat.colleague, task.pk)
    assert [m["text"] for m in queries.transcript(chat.supervisor, task.pk)] == ["Hi"]
    assert ChatMessage.objects.filter(session=session).count() == 1

    async def scenario() -> None:
        # A's token on B's channel key, a made-up token: refused with 4403
        for key, tok in (("pk_bieda", token), ("pk_spar", "made-up"), ("pk_spar", "")):
            comm = visitor(key, tok, origin=None)
            await comm.connect()
            closed = await comm.receive_output(timeout=3)
            assert closed == {"type": "websocket.close", "code": 4403}, key
        comm = visitor("nope", token)
        await comm.connect()
        assert (await comm.receive_output(timeout=3))["code"] == 4404

    run(scenario)


def test_origin_not_allowed_is_closed(chat: Chat) -> None:
    token, _session = _start(chat)

    async def scenario() -> None:
        comm = visitor("pk_spar", token, origin="https://evil.example")
        await comm.connect()
        assert await comm.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}
        ok = visitor("pk_spar", token, origin="https://a.spar.example")
        await ok.connect()
        assert (await ok.receive_json_from(timeout=3))["type"] == "state"
        await ok.disconnect()

    run(scenario)


def test_bad_input_gets_errors_and_the_socket_stays(chat: Chat) -> None:
    token, session = _start(chat)

    async def scenario() -> None:
        comm = visitor("pk_spar", token + "&lang=fr")
        await comm.connect()
        await receive_type(comm, "state")
        await comm.send_to(text_data="not json {")
        error = await receive_type(comm, "error")
        assert error["code"] == "bad_request" and "JSON" in error["message"]
        await comm.send_to(bytes_data=b"\x00\x01")
        assert (await receive_type(comm, "error"))["code"] == "bad_request"
        await comm.send_to(text_data="x" * 100_000)
        assert (await receive_type(comm, "error"))["code"] == "too_long"
        cases = [([1, 2], "unknown_type"), ({"type": "fly"}, "unknown_type"), ({"type": 5}, "unknown_type"),
                 ({"type": "message", "client_id": "l", "text": "y" * 2001}, "too_long"),
                 ({"type": "message", "client_id": "e", "text": "   "}, "empty"),
                 ({"type": "message", "client_id": "n", "text": None}, "empty"),
                 ({"type": "message", "client_id": "d", "text": {"a": 1}}, "invalid_value"),
                 ({"type": "message", "client_id": "bad id with spaces", "text": "hi"}, "invalid_client_id"),
                 ({"type": "resume", "after_seq": "abc"}, "bad_request"),
                 ({"type": "resume", "after_seq": -1}, "bad_request")]
        for message, code in cases:
            await comm.send_json_to(message)
            error = await receive_type(comm, "error")
            assert error["code"] == code, (message, error)
        assert "trop long" in error["message"] or "nombre entier" in error["message"]
        await comm.send_json_to({"type": "message", "client_id": "ok", "text": "still works"})
        assert (await receive_type(comm, "ack"))["seq"] == 1
        await comm.disconnect()

    run(scenario)
    assert list(ChatMessage.objects.filter(session=session).values_list("text", flat=True)) == ["still works"]


@override_settings(LINIA_CHAT_RATE_LIMITS={"message_token": (3, 60)})
def test_messages_are_rate_limited_per_visitor(chat: Chat) -> None:
    token, session = _start(chat)

    async def scenario() -> None:
        comm = visitor("pk_spar", token)
        await comm.connect()
        await receive_type(comm, "state")
        for n in range(3):
            await comm.send_json_to({"type": "message", "client_id": f"m{n}", "text": f"n{n}"})
            await receive_type(comm, "ack")
        await comm.send_json_to({"type": "message", "client_id": "m3", "text": "too many"})
        error = await receive_type(comm, "error")
        assert error["code"] == "rate_limited" and error["client_id"] == "m3"
        await comm.disconnect()

    run(scenario)
    assert ChatMessage.objects.filter(session=session).count() == 3


def test_history_survives_a_fresh_application(chat: Chat) -> None:
    """All chat state is in the database: a new application (a restarted server, a fresh in-memory
    channel layer) resumes the visitor's chat where it was."""
    token, session = _start(chat, text="before restart")
    task = take(chat, session.task_id)
    actions.agent_send(chat.agent, task.pk, "answer before restart")

    async def scenario() -> None:
        from channels.layers import channel_layers

        channel_layers.backends.clear()  # the old server's layer is gone
        from channels.auth import AuthMiddlewareStack
        from channels.routing import ProtocolTypeRouter, URLRouter

        from linia.routing_ws import websocket_urlpatterns

        fresh = ProtocolTypeRouter({"websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns))})
        comm = visitor("pk_spar", token, application=fresh)
        await comm.connect()
        state = await receive_type(comm, "state")
        assert state["status"] == "active" and state["agent"]["name"] == "anna"
        await comm.send_json_to({"type": "resume", "after_seq": 0})
        history = await receive_type(comm, "history")
        assert [m["text"] for m in history["messages"]] == ["before restart", "answer before restart"]
        await comm.send_json_to({"type": "message", "client_id": "after", "text": "after restart"})
        assert (await receive_type(comm, "ack"))["seq"] == 3
        await comm.disconnect()

    run(scenario)


def test_concurrent_senders_get_gapless_ordered_seqs_and_every_socket_sees_them_in_order(chat: Chat) -> None:
    token, session = _start(chat)
    task = take(chat, session.task_id)
    per_sender = 15

    def agent_burst() -> None:
        try:
            for n in range(per_sender):
                actions.agent_send(chat.agent, task.pk, f"agent {n}", f"ag-{n}")
        finally:
            close_old_connections()

    async def scenario() -> None:
        # As `linia serve` does: pushes from other threads (the agent's) reach this loop's channel layer
        # through the pump; a plain thread's async_to_sync would run the in-memory layer on a loop of its own.
        await start_pump()
        try:
            await senders_and_agent()
        finally:
            await stop_pump()

    async def senders_and_agent() -> None:
        watcher = visitor("pk_spar", token)
        await watcher.connect()
        await receive_type(watcher, "state")
        senders = [visitor("pk_spar", token) for _ in range(2)]
        for comm in senders:
            await comm.connect()
            await receive_type(comm, "state")
        # PostgreSQL: the agent writes from its own thread, truly in parallel with the visitors' consumer
        # thread. In-memory SQLite allows one connection at a time: there the agent's sends interleave.
        parallel = connection.vendor == "postgresql"
        thread = threading.Thread(target=agent_burst)
        if parallel:
            thread.start()

        async def burst(comm: Any, name: str) -> None:
            for n in range(per_sender):
                await comm.send_json_to({"type": "message", "client_id": f"{name}-{n}", "text": f"{name} {n}"})

        async def agent_interleaved() -> None:
            for n in range(per_sender):
                await database_sync_to_async(actions.agent_send)(chat.agent, task.pk, f"agent {n}", f"ag-{n}")

        await asyncio.gather(*(burst(c, f"v{i}") for i, c in enumerate(senders)),
                             *([] if parallel else [agent_interleaved()]))
        total = per_sender * 3
        seen: list[int] = []
        while len(seen) < total:
            message = await watcher.receive_json_from(timeout=10)
            if message["type"] == "message":
                seen.append(message["seq"])
        assert seen == list(range(1, total + 1))
        if parallel:
            await asyncio.get_running_loop().run_in_executor(None, thread.join)
        for comm in (watcher, *senders):
            await comm.disconnect()

    with override_settings(LINIA_CHAT_RATE_LIMITS={"message_token": (1000, 60), "message_ip": (1000, 60)}):
        run(scenario)
    seqs = list(ChatMessage.objects.filter(session=session).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, per_sender * 3 + 1))
    assert ChatSession.objects.get(pk=session.pk).last_seq == per_sender * 3
    assert Message.objects.filter(ticket_id=session.ticket_id).count() == per_sender * 3


def test_visitor_end_abandons_a_waiting_chat(chat: Chat) -> None:
    token, session = _start(chat, text="never mind")

    async def scenario() -> None:
        comm = visitor("pk_spar", token)
        await comm.connect()
        await receive_type(comm, "state")
        await comm.send_json_to({"type": "end"})
        assert (await receive_type(comm, "state"))["status"] == "ended"
        await comm.disconnect()

    run(scenario)
    assert Task.objects.get(pk=session.task_id).status == TaskStatus.ABANDONED
    assert ChatSession.objects.get(pk=session.pk).ended_at is not None
