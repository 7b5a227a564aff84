"""The desk side of a chat across routing: transfer to another agent, completion, the admin."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from linia.core.errors import Conflict
from linia.core.models import Role
from linia.core.permissions import PermissionDenied
from linia.intake.chat import actions, queries
from linia.intake.chat.models import ChatChannel, ChatSession
from linia.routing import actions as routing
from linia.routing.models import PresenceState, Reservation, ReservationStatus
from tests import factories as f
from tests.chat.conftest import Chat, desk, receive_type, run, session_cookie, start, take, visitor


def _start(**data: Any) -> tuple[str, ChatSession]:
    body = start(Client(), **data).json()
    return body["token"], ChatSession.objects.get(pk=body["session_id"])


@pytest.mark.django_db(transaction=True)
def test_transfer_hands_the_chat_and_its_transcript_to_the_new_agent(chat: Chat) -> None:
    token, session = _start(text="Hi")
    task = take(chat, session.task_id)
    actions.agent_send(chat.agent, task.pk, "One moment, I pass you to a colleague.")
    routing.set_presence(chat.colleague, chat.colleague, PresenceState.AVAILABLE)
    routing.transfer_task(chat.agent, task.pk, to_agent=chat.colleague)
    res = Reservation.objects.get(task_id=task.pk, status=ReservationStatus.PENDING)
    # offered, not yet accepted: the colleague may read the chat before taking it
    assert len(queries.transcript(chat.colleague, task.pk)) == 2
    cookies = {"old": session_cookie(chat.agent), "new": session_cookie(chat.colleague)}

    async def scenario() -> None:
        old, new = desk(cookies["old"]), desk(cookies["new"])
        for comm in (old, new):
            assert (await comm.connect())[0]
        comm = visitor("pk_spar", token)
        await comm.connect()
        assert (await receive_type(comm, "state"))["status"] == "waiting"
        await database_sync_to_async(routing.accept_offer)(chat.colleague, res.pk)
        await database_sync_to_async(actions.sync_task)(task.pk)
        state = await receive_type(comm, "state")
        while state["status"] == "waiting":  # the connect itself saw the transfer: a push of "waiting" first
            state = await receive_type(comm, "state")
        assert state["status"] == "active" and state["agent"]["name"] == "boris"
        await comm.send_json_to({"type": "message", "client_id": "after", "text": "thanks"})
        pushed = await receive_type(new, "chat.message", key="kind")
        assert pushed["message"]["text"] == "thanks" and pushed["task_id"] == task.pk
        assert not [m for m in await _drain(old) if m.get("kind") == "chat.message"]
        for c in (old, new, comm):
            await c.disconnect()

    run(scenario)
    with pytest.raises(PermissionDenied):
        actions.agent_send(chat.agent, task.pk, "I no longer hold it")
    texts = [m["text"] for m in queries.transcript(chat.colleague, task.pk) if m["sender"] != "system"]
    assert texts == ["Hi", "One moment, I pass you to a colleague.", "thanks"]
    assert queries.chat_for_task(chat.colleague, task.pk)["name"] == "Ivan"


async def _drain(comm: Any) -> list[dict[str, Any]]:
    out = []
    while not await comm.receive_nothing(timeout=0.2):
        out.append(await comm.receive_json_from())
    return out


@pytest.mark.django_db
def test_completing_the_task_in_routing_ends_the_chat(chat: Chat) -> None:
    _token, session = _start(text="Hi")
    task = take(chat, session.task_id)
    routing.complete_task(chat.agent, task.pk)
    actions.sync_task(task.pk)
    session.refresh_from_db()
    assert session.status == "ended" and session.ended_at is not None
    with pytest.raises(Conflict):
        actions.visitor_send(session, "anyone?", "late")
    with pytest.raises(PermissionDenied):
        actions.agent_send(chat.agent, task.pk, "after completion")


@pytest.mark.django_db
def test_waiting_visitor_who_left_is_not_sent_to_agents(chat: Chat) -> None:
    _token, session = _start(text="Hi")
    actions.visitor_end(session)
    routing.set_presence(chat.agent, chat.agent, PresenceState.AVAILABLE)
    assert routing.dispatch(chat.tenant) == []


@pytest.mark.django_db
def test_admin_is_tenant_scoped_and_checks_the_json(chat: Chat) -> None:
    boss = f.user("boss", tenant=chat.tenant, role=Role.SUPERVISOR)
    boss.is_staff = True
    boss.save()
    client = Client()
    client.force_login(boss)
    listing = client.get("/admin/chat/chatchannel/")
    assert listing.status_code == 200 and b"Spar chat" in listing.content and b"Bieda chat" not in listing.content
    assert client.get(f"/admin/chat/chatchannel/{chat.foreign_channel.pk}/change/").status_code == 404
    page = client.get(f"/admin/chat/chatchannel/{chat.channel.pk}/change/")
    assert b"data-channel" in page.content
    form = {"name": "Spar chat", "public_key": "pk_spar", "queue": chat.queue.pk, "default_language": "ru",
            "allowed_origins": '["https://shop.example/path"]', "greeting": '{"de": "Hallo"}',
            "colours": '{"primary": "red"}', "topics": '[{"labels": {}}]', "consent_text": "{}", "is_active": "on"}
    response = client.post(f"/admin/chat/chatchannel/{chat.channel.pk}/change/", form)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"allowed_origins", "greeting", "colours", "topics"}
    good = {**form, "allowed_origins": '["https://shop.example"]', "greeting": '{"en": "Hi"}',
            "colours": '{"primary": "#112233"}', "topics": '[{"code": "a", "labels": {"en": "A"}}]'}
    assert client.post(f"/admin/chat/chatchannel/{chat.channel.pk}/change/", good).status_code == 302
    assert ChatChannel.objects.get(pk=chat.channel.pk).greeting == {"en": "Hi"}


@pytest.mark.django_db
def test_an_expired_token_no_longer_opens_the_chat(chat: Chat) -> None:
    from datetime import timedelta

    from django.utils import timezone

    token, session = _start(text="Hi")
    client = Client()
    assert client.post(f"/chat/api/pk_spar/sessions/{token}/rating", {"score": 5},
                       content_type="application/json").status_code == 200
    ChatSession.objects.filter(pk=session.pk).update(last_activity_at=timezone.now() - timedelta(days=8))
    gone = client.post(f"/chat/api/pk_spar/sessions/{token}/rating?lang=ru", {"score": 5},
                       content_type="application/json")
    assert gone.status_code == 404 and gone.json()["error"] == "unknown_session" and "чат" in gone.json()["message"]
    assert queries.session_for_token(chat.channel, token) is None


@pytest.mark.django_db
def test_waiting_visitors_see_their_place_in_the_queue(chat: Chat) -> None:
    from linia.intake.chat.serialize import state_payload
    from linia.routing.models import Task

    sessions = [_start(name=f"V{i}", text="Hi")[1] for i in range(3)]
    places = [state_payload(s, Task.objects.get(pk=s.task_id))["queue_position"] for s in sessions]
    assert places == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_a_closed_ticket_keeps_visitor_text_in_the_chat_only_and_refuses_files(chat: Chat) -> None:
    from linia.tickets import actions as tickets
    from linia.tickets.models import Message, Ticket

    _token, session = _start(text="Hi")
    task = take(chat, session.task_id)
    ticket = Ticket.objects.get(pk=session.ticket_id)
    on_ticket = Message.objects.filter(ticket=ticket).count()
    tickets.change_status(chat.agent, ticket, "solved")
    tickets.change_status(chat.agent, Ticket.objects.get(pk=ticket.pk), "closed")

    msg, created = actions.visitor_send(session, "one more thing", "v-closed")
    assert created and msg.seq == 2 and msg.message_id is None  # stored and acknowledged, not on the ticket
    assert actions.visitor_send(session, "one more thing", "v-closed")[0].pk == msg.pk  # a resend: same row
    assert Message.objects.filter(ticket=ticket).count() == on_ticket
    with pytest.raises(Conflict):
        actions.visitor_file(session, filename="a.png", data=b"\x89PNG\r\n\x1a\n" + b"0" * 40,
                             content_type="image/png", client_id="v-file")
    answer = actions.agent_send(chat.agent, task.pk, "It is closed; I open a new one for you.", "a-closed")
    assert answer.message_id is not None  # the agent's reply still goes on the ticket
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"
