"""The desk websockets against the real ASGI application: session auth, snapshots, events, operations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from linia.routing import actions
from linia.routing.models import AgentProfile, PresenceState, Reservation, ReservationStatus, Task, TaskStatus
from tests.desk_rt.conftest import Center, communicator, receive_kind, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cookies(center: Center) -> dict[str, list[tuple[bytes, bytes]]]:
    return {name: session_cookie(getattr(center, name))
            for name in ("agent", "colleague", "supervisor", "foreign_agent")}


def _offer(center: Center, agent_ready: bool = True) -> Reservation:
    if agent_ready:
        actions.set_presence(center.agent, center.agent, PresenceState.AVAILABLE)
    actions.create_task(None, center.tenant, channel="call", queue=center.queue, external_id="pbx-1",
                        attributes={"caller": "+74232223344"})
    actions.dispatch(center.tenant)
    return Reservation.objects.get(task__external_id="pbx-1", status=ReservationStatus.PENDING)


def test_unauthenticated_and_not_permitted_are_closed_with_4403(center: Center, cookies: dict[str, list[tuple[bytes, bytes]]]) -> None:
    async def scenario() -> None:
        for path, user in (("/ws/desk/agent/", None), ("/ws/desk/supervisor/", None),
                           ("/ws/desk/supervisor/", "agent"),
                           (f"/ws/desk/supervisor/?tenant={center.other.pk}", "supervisor")):
            comm = communicator(path, cookies[user] if user else [])
            await comm.connect()
            closed = await comm.receive_output(timeout=3)
            assert closed == {"type": "websocket.close", "code": 4403}, (path, user)
            await comm.wait()

    run(scenario)


def test_snapshot_on_connect_shows_current_state(center: Center, cookies: dict[str, list[tuple[bytes, bytes]]]) -> None:
    actions.set_presence(center.agent, center.agent, PresenceState.BREAK, "lunch")

    async def scenario() -> None:
        comm = communicator("/ws/desk/agent/", cookies["agent"])
        assert (await comm.connect())[0]
        snapshot = await comm.receive_json_from(timeout=3)
        assert snapshot["kind"] == "snapshot"
        text = str(snapshot)
        assert "break" in text and "lunch" in text
        await comm.disconnect()

    run(scenario)


def test_offer_reaches_only_the_offered_agent_and_accept_works(center: Center, cookies: dict[str, list[tuple[bytes, bytes]]]) -> None:
    actions.set_presence(center.foreign_agent, center.foreign_agent, PresenceState.AVAILABLE)

    async def scenario() -> None:
        mine = communicator("/ws/desk/agent/", cookies["agent"])
        foreign = communicator("/ws/desk/agent/", cookies["foreign_agent"])
        colleague = communicator("/ws/desk/agent/", cookies["colleague"])
        for comm in (mine, foreign, colleague):
            assert (await comm.connect())[0]
            assert (await comm.receive_json_from(timeout=3))["kind"] == "snapshot"
        res = await database_sync_to_async(_offer)(center)
        offer = await receive_kind(mine, "offer")
        assert offer["reservation_id"] == res.pk and offer["expires_at"]
        assert offer["task"]["attributes"]["caller"] == "+74232223344"
        assert await foreign.receive_nothing(timeout=0.3)
        assert await colleague.receive_nothing(timeout=0.1)

        await mine.send_json_to({"op": "accept", "reservation_id": res.pk})
        ack = await receive_kind(mine, "ack")
        assert ack == {"kind": "ack", "op": "accept", "ok": True}
        snapshot = await receive_kind(mine, "snapshot")
        assert str(res.task_id) in str(snapshot)
        task = await database_sync_to_async(Task.objects.get)(pk=res.task_id)
        assert task.status == TaskStatus.ASSIGNED and task.assigned_to_id == center.agent.pk
        assert await foreign.receive_nothing(timeout=0.2)
        for comm in (mine, foreign, colleague):
            await comm.disconnect()

    run(scenario)


def test_accepting_an_expired_offer_is_an_error_and_changes_nothing(center: Center, cookies: dict[str, list[tuple[bytes, bytes]]]) -> None:
    res = _offer(center)
    Reservation.objects.filter(pk=res.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    async def scenario() -> None:
        comm = communicator("/ws/desk/agent/", cookies["agent"])
        assert (await comm.connect())[0]
        await receive_kind(comm, "snapshot")
        await comm.send_json_to({"op": "accept", "reservation_id": res.pk})
        error = await receive_kind(comm, "error")
        assert error["code"] == "offer_expired" and error["message"]
        # the socket survives the refusal
        await comm.send_json_to({"op": "snapshot"})
        await receive_kind(comm, "snapshot")
        await comm.disconnect()

    run(scenario)
    task = Task.objects.get(pk=res.task_id)
    assert task.assigned_to_id is None and task.status != TaskStatus.ASSIGNED


def test_bad_messages_get_errors_not_a_closed_socket(center: Center, cookies: dict[str, list[tuple[bytes, bytes]]]) -> None:
    async def scenario() -> None:
        comm = communicator("/ws/desk/agent/", cookies["agent"])
        assert (await comm.connect())[0]
        await receive_kind(comm, "snapshot")
        await comm.send_to(text_data="not json {")
        assert (await receive_kind(comm, "error"))["code"] == "bad_request"
        for message, code in (([1, 2], "unknown_op"), ({"op": "fly"}, "unknown_op"),
                              ({"op": "accept", "reservation_id": "abc"}, "bad_request"),
                              ({"op": "accept", "reservation_id": True}, "bad_request"),
                              ({"op": "accept", "reservation_id": 999999}, "not_found"),
                              ({"op": "presence", "state": "busy"}, "invalid_state"),
                              ({"op": "presence", "state": "break", "reason": "x\x00"}, "bad_request"),
                              ({"op": "complete", "task_id": 424242}, "not_found")):
            await comm.send_json_to(message)
            error = await receive_kind(comm, "error")
            assert error["code"] == code, (message, error)
        await comm.send_json_to({"op": "snapshot"})
        await receive_kind(comm, "snapshot")
        await comm.disconnect()

    run(scenario)


def test_full_contact_cycle_over_the_socket(center: Center, cookies: dict[str, list[tuple[bytes, bytes]]]) -> None:
    async def scenario() -> None:
        comm = communicator("/ws/desk/agent/", cookies["agent"])
        assert (await comm.connect())[0]
        await receive_kind(comm, "snapshot")
        await comm.send_json_to({"op": "presence", "state": "available"})
        await receive_kind(comm, "ack")
        res = await database_sync_to_async(_offer)(center, False)
        await receive_kind(comm, "offer")
        await comm.send_json_to({"op": "accept", "reservation_id": res.pk})
        await receive_kind(comm, "ack")
        await comm.send_json_to({"op": "complete", "task_id": res.task_id})
        await receive_kind(comm, "ack")
        profile = await database_sync_to_async(AgentProfile.objects.get)(user=center.agent)
        assert profile.presence == PresenceState.WRAP_UP
        await comm.send_json_to({"op": "finish_wrapup"})
        assert (await receive_kind(comm, "ack"))["op"] == "finish_wrapup"
        await comm.disconnect()

    run(scenario)
    assert AgentProfile.objects.get(user=center.agent).presence == PresenceState.AVAILABLE
    assert Task.objects.get(external_id="pbx-1").status == TaskStatus.COMPLETED


def test_supervisor_sees_presence_live_changes_state_and_moves_a_task(center: Center, cookies: dict[str, list[tuple[bytes, bytes]]]) -> None:
    actions.create_task(None, center.tenant, channel="call", queue=center.queue, external_id="pbx-9")
    task = Task.objects.get(external_id="pbx-9")

    async def scenario() -> None:
        sup = communicator(f"/ws/desk/supervisor/?tenant={center.tenant.pk}", cookies["supervisor"])
        assert (await sup.connect())[0]
        snapshot = await receive_kind(sup, "snapshot")
        assert snapshot["tenant_id"] == center.tenant.pk and "Customer line" in str(snapshot)
        assert "Bieda line" not in str(snapshot)

        await database_sync_to_async(actions.set_presence)(center.agent, center.agent, PresenceState.AVAILABLE)
        presence = await receive_kind(sup, "presence")
        assert presence["user_id"] == center.agent.pk and presence["state"] == "available"

        await sup.send_json_to({"op": "set_state", "user_id": center.agent.pk, "state": "break", "reason": "meeting"})
        assert (await receive_kind(sup, "ack"))["op"] == "set_state"
        await sup.send_json_to({"op": "set_state", "user_id": center.foreign_agent.pk, "state": "break"})
        assert (await receive_kind(sup, "error"))["code"] == "not_found"

        await sup.send_json_to({"op": "move_task", "task_id": task.pk, "queue_id": center.second.pk})
        assert (await receive_kind(sup, "ack"))["op"] == "move_task"
        await sup.send_json_to({"op": "move_task", "task_id": task.pk, "queue_id": center.foreign_queue.pk})
        assert (await receive_kind(sup, "error"))["code"] == "not_found"
        await sup.disconnect()

    run(scenario)
    profile = AgentProfile.objects.get(user=center.agent)
    assert (profile.presence, profile.presence_reason) == (PresenceState.BREAK, "meeting")
    assert Task.objects.get(pk=task.pk).queue_id == center.second.pk


def test_agent_transfers_a_call_to_another_queue_of_the_same_tenant(
        center: Center, cookies: dict[str, list[tuple[bytes, bytes]]]) -> None:
    res = _offer(center)
    actions.accept_offer(center.agent, res.pk)

    async def scenario() -> None:
        comm = communicator("/ws/desk/agent/", cookies["agent"])
        assert (await comm.connect())[0]
        await receive_kind(comm, "snapshot")
        await comm.send_json_to({"op": "transfer", "task_id": res.task_id, "queue_id": center.foreign_queue.pk})
        assert (await receive_kind(comm, "error"))["code"] == "not_found"
        await comm.send_json_to({"op": "transfer", "task_id": res.task_id, "queue_id": center.second.pk})
        assert (await receive_kind(comm, "ack"))["op"] == "transfer"
        await comm.disconnect()

    run(scenario)
    task = Task.objects.get(pk=res.task_id)
    assert task.queue_id == center.second.pk and task.assigned_to_id != center.agent.pk


def test_going_available_over_the_socket_offers_a_waiting_call_at_once(center: Center, cookies: dict[str, list[tuple[bytes, bytes]]]) -> None:
    actions.create_task(None, center.tenant, channel="call", queue=center.queue, external_id="pbx-wait")

    async def scenario() -> None:
        mine = communicator("/ws/desk/agent/", cookies["agent"])
        assert (await mine.connect())[0]
        assert (await mine.receive_json_from(timeout=3))["kind"] == "snapshot"
        await mine.send_json_to({"op": "presence", "state": "available"})
        offer = await receive_kind(mine, "offer")  # no periodic tick runs in this test
        res = await database_sync_to_async(Reservation.objects.get)(task__external_id="pbx-wait")
        assert offer["reservation_id"] == res.pk and res.agent_id == center.agent.pk
        await mine.disconnect()

    run(scenario)
