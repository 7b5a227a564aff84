"""Chat ops of the agent desktop's websocket (chat.send, chat.typing, chat.history, chat.end) against the real
ASGI app and the real chat (widget HTTP + visitor websocket): replies, no snapshot or dispatch after them,
idempotent client ids, transfer, and isolation (only the holder reads or writes a chat)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from linia.core.models import Role, Tenant, User
from linia.intake.chat.actions import ensure_chat_channel
from linia.intake.chat.models import ChatMessage
from linia.routing import actions as routing
from linia.routing.models import PresenceState, Queue, Reservation, ReservationStatus, Task
from tests import factories as f
from tests.desk_rt.conftest import communicator, receive_kind, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)
Cookie = list[tuple[bytes, bytes]]


@dataclass
class Room:
    tenant: Tenant
    key: str
    agent: User
    colleague: User
    foreign_agent: User
    cookies: dict[str, Cookie]


@pytest.fixture
def room(transactional_db: None) -> Room:
    tenant = f.tenant("spar", name="Spar East", ticket_prefix="SPR", time_zone="Europe/Warsaw", default_language="en")
    other = f.tenant("bieda", name="Bieda", ticket_prefix="BDR")
    queue = Queue.objects.create(tenant=tenant, code="chats", name="Chat", channels=["chat"], offer_timeout_seconds=60)
    Queue.objects.create(tenant=other, code="chats", name="Czat", channels=["chat"])
    channel = ensure_chat_channel(tenant, queue=queue, public_key="pk_spar")
    users = {"agent": f.user("anna", tenant=tenant, role=Role.AGENT),
             "colleague": f.user("boris", tenant=tenant, role=Role.AGENT),
             "foreign_agent": f.user("piotr", tenant=other, role=Role.AGENT)}
    users["agent"].first_name = "Anna"
    users["agent"].save()
    return Room(tenant, channel.public_key, users["agent"], users["colleague"], users["foreign_agent"],
                {name: session_cookie(u) for name, u in users.items()})


def _start(room: Room, text: str = "Where is my order?") -> dict[str, Any]:
    """The widget's pre-chat form; the agent is ready, so the chat is offered to them at once."""
    routing.set_presence(room.agent, room.agent, PresenceState.AVAILABLE)
    response = Client().post(f"/chat/api/{room.key}/sessions", json.dumps({
        "name": "Ivan", "email": "ivan@example.com", "consent": True, "language": "en", "text": text}),
        content_type="application/json")
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    routing.dispatch(room.tenant)
    data["task_id"] = Task.objects.get(channel="chat", status="reserved").pk
    data["reservation_id"] = Reservation.objects.get(task_id=data["task_id"], status=ReservationStatus.PENDING).pk
    return data


async def _desk(cookie: Cookie) -> WebsocketCommunicator:
    comm = communicator("/ws/desk/agent/", cookie)
    assert (await comm.connect())[0]
    assert (await comm.receive_json_from(timeout=3))["kind"] == "snapshot"
    return comm


async def _visitor(room: Room, token: str) -> WebsocketCommunicator:
    from linia.asgi import application

    comm = WebsocketCommunicator(application, f"/ws/chat/{room.key}/?token={token}")
    assert (await comm.connect())[0]
    return comm


async def _visitor_next(comm: WebsocketCommunicator, kind: str, timeout: float = 3) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = await comm.receive_json_from(timeout=timeout)
        if message.get("type") == kind:
            return message


async def _receive_kinds(comm: WebsocketCommunicator, kinds: set[str], timeout: float = 3) -> dict[str, Any]:
    """The next message of each kind, in whatever order they arrive: a chat op's ack and the pushes it causes
    travel separately (the op runs in a task of its own)."""
    found: dict[str, Any] = {}
    while set(found) != kinds:
        message: dict[str, Any] = await comm.receive_json_from(timeout=timeout)
        if message.get("kind") in kinds and message["kind"] not in found:
            found[message["kind"]] = message
    return found


async def _quiet(comm: WebsocketCommunicator, *, not_kinds: tuple[str, ...], timeout: float = 0.4) -> None:
    """Nothing of these kinds arrives for a moment (other pushes may)."""
    while not await comm.receive_nothing(timeout=timeout):
        message = await comm.receive_json_from()
        assert message.get("kind") not in not_kinds, message


def test_the_holder_talks_with_the_visitor_through_the_desk_socket(room: Room) -> None:
    chat = _start(room)
    task_id = chat["task_id"]
    # A call waits in another queue with a free colleague: a dispatch after a chat op would offer it.
    Queue.objects.create(tenant=room.tenant, code="calls", name="Calls", channels=["call"])
    routing.create_task(None, room.tenant, channel="call", queue="calls", external_id="pbx-1")
    routing.set_presence(room.colleague, room.colleague, PresenceState.AVAILABLE)

    async def scenario() -> None:
        desk = await _desk(room.cookies["agent"])
        colleague = await _desk(room.cookies["colleague"])
        visitor = await _visitor(room, chat["token"])
        await visitor.send_json_to({"type": "resume", "after_seq": 0})
        await desk.send_json_to({"op": "accept", "reservation_id": chat["reservation_id"]})
        assert (await receive_kind(desk, "ack"))["op"] == "accept"
        state = await _visitor_next(visitor, "state")
        while state["status"] != "active":
            state = await _visitor_next(visitor, "state")
        assert state["agent"]["name"] == "Anna"  # the accept told the chat at once

        await desk.send_json_to({"op": "chat.history", "task_id": task_id, "after_seq": 0})
        history = await receive_kind(desk, "chat.history")
        assert history["task_id"] == task_id and history["chat"]["name"] == "Ivan"
        assert [m["text"] for m in history["messages"]] == ["Where is my order?"]
        assert history["messages"][0]["sender"] == "visitor"

        await desk.send_json_to({"op": "chat.send", "task_id": task_id, "text": "Hello Ivan!", "client_id": "c-1"})
        got_both = await _receive_kinds(desk, {"ack", "chat.message"})  # either may come first
        ack, pushed = got_both["ack"], got_both["chat.message"]
        assert ack["op"] == "chat.send" and ack["client_id"] == "c-1" and ack["seq"] == 2 and ack["created_at"]
        assert pushed["task_id"] == task_id and pushed["message"]["seq"] == 2
        assert pushed["message"]["sender"] == "agent" and pushed["message"]["client_id"] == "c-1"
        got = await _visitor_next(visitor, "message")
        while got["seq"] != 2:
            got = await _visitor_next(visitor, "message")
        assert got["text"] == "Hello Ivan!" and got["agent"]["name"] == "Anna"

        # the same client id again (a resend after a reconnect): the same ack, nothing new stored or sent
        await desk.send_json_to({"op": "chat.send", "task_id": task_id, "text": "Hello Ivan!", "client_id": "c-1"})
        again = await receive_kind(desk, "ack")
        assert again["seq"] == 2
        await _quiet(desk, not_kinds=("snapshot", "chat.message"))  # no snapshot after chat ops, no new push
        assert await colleague.receive_nothing(timeout=0.3)  # and no dispatch: the waiting call was not offered

        await visitor.send_json_to({"type": "typing", "on": True})
        typing = await receive_kind(desk, "chat.typing")
        assert typing == {"kind": "chat.typing", "task_id": task_id, "on": True}
        await visitor.send_json_to({"type": "message", "client_id": "v-1", "text": "Thanks, and when?"})
        incoming = await receive_kind(desk, "chat.message")
        assert incoming["message"]["sender"] == "visitor" and incoming["message"]["seq"] == 3

        await desk.send_json_to({"op": "chat.typing", "task_id": task_id, "on": True})
        assert (await receive_kind(desk, "ack"))["op"] == "chat.typing"
        assert (await _visitor_next(visitor, "typing"))["on"] is True

        await desk.send_json_to({"op": "chat.history", "task_id": task_id, "after_seq": 2})
        assert [m["seq"] for m in (await receive_kind(desk, "chat.history"))["messages"]] == [3]

        await desk.send_json_to({"op": "chat.end", "task_id": task_id})
        assert (await receive_kind(desk, "ack"))["op"] == "chat.end"
        ended = await _visitor_next(visitor, "state")
        while ended["status"] != "ended":
            ended = await _visitor_next(visitor, "state")
        await desk.send_json_to({"op": "chat.send", "task_id": task_id, "text": "Still there?", "client_id": "c-2"})
        refused = await receive_kind(desk, "error")
        assert refused["op"] == "chat.send" and refused["client_id"] == "c-2" and refused["task_id"] == task_id
        for comm in (desk, colleague, visitor):
            await comm.disconnect()

    run(scenario)
    task = Task.objects.get(pk=task_id)
    assert task.first_response_at is not None and task.status == "assigned"  # completing stays with routing
    assert ChatMessage.objects.filter(session__task_id=task_id, sender="agent").count() == 1
    assert not Reservation.objects.filter(task__external_id="pbx-1").exists()


def test_back_to_back_chat_ops_are_stored_and_answered_in_the_order_sent(room: Room) -> None:
    """A busy agent's ops do not wait for each other's replies, yet keep their order: seq follows the order
    sent, replies come in that order, and an op after them (complete) sees all of them."""
    chat = _start(room)
    task_id = chat["task_id"]
    routing.accept_offer(room.agent, chat["reservation_id"])

    async def scenario() -> None:
        desk = await _desk(room.cookies["agent"])
        visitor = await _visitor(room, chat["token"])
        await visitor.send_json_to({"type": "resume", "after_seq": 0})
        await _visitor_next(visitor, "history")  # what comes next is pushed
        for n in range(8):
            await desk.send_json_to({"op": "chat.send", "task_id": task_id, "text": f"line {n}", "client_id": f"b-{n}"})
        await desk.send_json_to({"op": "chat.send", "task_id": 10**9, "text": "nowhere", "client_id": "b-x"})
        await desk.send_json_to({"op": "complete", "task_id": task_id})
        replies: list[dict[str, Any]] = []
        while len(replies) < 10:
            message = await desk.receive_json_from(timeout=5)
            if message.get("kind") in ("ack", "error"):
                replies.append(message)
        assert [r.get("client_id") for r in replies[:9]] == [f"b-{n}" for n in range(8)] + ["b-x"]
        assert [r["seq"] for r in replies[:8]] == list(range(2, 10))
        assert replies[8]["kind"] == "error" and replies[8]["code"] == "not_found"
        assert replies[9] == {"kind": "ack", "op": "complete", "ok": True}
        texts = []
        while len(texts) < 8:
            got = await _visitor_next(visitor, "message", timeout=5)
            if got["sender"] == "agent":
                texts.append(got["text"])
        assert texts == [f"line {n}" for n in range(8)]
        for comm in (desk, visitor):
            await comm.disconnect()

    run(scenario)
    assert list(ChatMessage.objects.filter(session__task_id=task_id, sender="agent").order_by("seq")
                .values_list("text", flat=True)) == [f"line {n}" for n in range(8)]
    assert Task.objects.get(pk=task_id).status != "assigned"


def test_nobody_but_the_holder_reads_or_writes_the_chat(room: Room) -> None:
    chat = _start(room)
    task_id = chat["task_id"]
    routing.accept_offer(room.agent, chat["reservation_id"])

    async def scenario() -> None:
        for who, code in (("colleague", "forbidden"), ("foreign_agent", "not_found")):
            desk = await _desk(room.cookies[who])
            for op in ({"op": "chat.send", "text": "I am not the agent", "client_id": "x-1"},
                       {"op": "chat.history", "after_seq": 0}, {"op": "chat.typing", "on": True},
                       {"op": "chat.end"}):
                await desk.send_json_to({**op, "task_id": task_id})
                reply = await receive_kind(desk, "error")
                assert reply["op"] == op["op"] and reply["code"] == code, (who, op, reply)
                assert "Where is my order" not in json.dumps(reply)
            await desk.disconnect()
        desk = await _desk(room.cookies["agent"])
        for bad, code in (({"op": "chat.send", "task_id": "x", "text": "a"}, "bad_request"),
                          ({"op": "chat.send", "task_id": task_id, "text": ["not", "text"]}, "bad_request"),
                          ({"op": "chat.send", "task_id": task_id, "text": "a", "client_id": {"x": 1}}, "bad_request"),
                          ({"op": "chat.send", "task_id": task_id, "text": "a\x00b"}, "bad_request"),
                          ({"op": "chat.history", "task_id": task_id, "after_seq": -1}, "bad_request"),
                          ({"op": "chat.send", "task_id": 10 ** 9, "text": "a"}, "not_found"),
                          ({"op": "chat.send", "task_id": task_id, "text": "   "}, None)):  # the chat's own check
            await desk.send_json_to(bad)
            reply = await receive_kind(desk, "error")
            assert reply["message"] and reply["code"] != "server_error", (bad, reply)
            assert code is None or reply["code"] == code, (bad, reply)
        await desk.disconnect()

    run(scenario)
    assert list(ChatMessage.objects.filter(session__task_id=task_id).values_list("text", flat=True)) == [
        "Where is my order?"]


def test_a_transferred_chat_goes_to_the_colleague_with_its_transcript(room: Room) -> None:
    chat = _start(room)
    task_id = chat["task_id"]
    routing.accept_offer(room.agent, chat["reservation_id"])
    routing.set_presence(room.colleague, room.colleague, PresenceState.AVAILABLE)

    async def scenario() -> None:
        mine = await _desk(room.cookies["agent"])
        theirs = await _desk(room.cookies["colleague"])
        await mine.send_json_to({"op": "chat.send", "task_id": task_id, "text": "Passing you on.", "client_id": "a"})
        await receive_kind(mine, "ack")
        await mine.send_json_to({"op": "transfer", "task_id": task_id, "agent_id": room.colleague.pk})
        assert (await receive_kind(mine, "ack"))["op"] == "transfer"
        offer = await receive_kind(theirs, "offer")
        await theirs.send_json_to({"op": "accept", "reservation_id": offer["reservation_id"]})
        await receive_kind(theirs, "ack")
        await theirs.send_json_to({"op": "chat.history", "task_id": task_id, "after_seq": 0})
        texts = [m["text"] for m in (await receive_kind(theirs, "chat.history"))["messages"]]
        assert texts == ["Where is my order?", "Passing you on."]
        await mine.send_json_to({"op": "chat.send", "task_id": task_id, "text": "me again", "client_id": "b"})
        assert (await receive_kind(mine, "error"))["code"] == "forbidden"
        await theirs.send_json_to({"op": "chat.send", "task_id": task_id, "text": "Boris here.", "client_id": "c"})
        assert (await receive_kind(theirs, "ack"))["seq"] == 3
        for comm in (mine, theirs):
            await comm.disconnect()

    run(scenario)
    assert Task.objects.get(pk=task_id).assigned_to_id == room.colleague.pk




def test_completing_the_chat_task_on_the_desk_ends_the_chat_for_the_visitor_at_once(room: Room) -> None:
    chat = _start(room)

    async def scenario() -> None:
        desk = await _desk(room.cookies["agent"])
        visitor = await _visitor(room, chat["token"])
        await visitor.send_json_to({"type": "resume", "after_seq": 0})
        await desk.send_json_to({"op": "accept", "reservation_id": chat["reservation_id"]})
        assert (await receive_kind(desk, "ack"))["op"] == "accept"
        await desk.send_json_to({"op": "complete", "task_id": chat["task_id"]})
        assert (await receive_kind(desk, "ack"))["op"] == "complete"
        state = await _visitor_next(visitor, "state")
        while state["status"] != "ended":
            state = await _visitor_next(visitor, "state")
        await visitor.send_json_to({"type": "message", "client_id": "late-1", "text": "Hello?"})
        assert (await _visitor_next(visitor, "error"))["client_id"] == "late-1"  # an ended chat takes no more
        for comm in (desk, visitor):
            await comm.disconnect()

    run(scenario)
    assert ChatMessage.objects.filter(client_id="late-1").count() == 0
