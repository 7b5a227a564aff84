"""Open desk sockets follow access changes: a removed supervisor or agent loses the tenant at once, not at
their next login (a socket lives for a whole shift)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from linia.core.models import Membership, Role
from linia.routing import actions
from linia.routing.models import AgentProfile, PresenceState
from tests.desk_rt.conftest import Center, communicator, receive_kind, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def _connected(path: str, cookie: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    """A desk socket past its first snapshot."""
    comm = communicator(path, cookie)
    assert (await comm.connect())[0]
    await receive_kind(comm, "snapshot")
    return comm


def _close_code(message: dict[str, object]) -> object:
    assert message.get("type") == "websocket.close", message
    return message.get("code")


def test_a_removed_supervisor_is_disconnected_and_refused(center: Center) -> None:
    cookie = session_cookie(center.supervisor)

    async def scenario() -> None:
        sup = await _connected(f"/ws/desk/supervisor/?tenant={center.tenant.pk}", cookie)
        await database_sync_to_async(Membership.objects.filter(user=center.supervisor, tenant=center.tenant)
                                     .delete)()  # a queryset delete sends post_delete for each row
        assert _close_code(await sup.receive_output(timeout=3)) == 4409  # access changed: the desk reconnects
        await sup.wait()
        again = communicator(f"/ws/desk/supervisor/?tenant={center.tenant.pk}", cookie)
        await again.connect()
        assert _close_code(await again.receive_output(timeout=3)) == 4403
        await again.wait()

    run(scenario)


def test_an_unrelated_change_keeps_the_socket_open(center: Center) -> None:
    cookie = session_cookie(center.agent)

    async def scenario() -> None:
        desk = await _connected("/ws/desk/agent/", cookie)
        member = await database_sync_to_async(Membership.objects.get)(user=center.agent, tenant=center.tenant)
        await database_sync_to_async(member.save)()  # saved as it was: what the user may see is the same
        await desk.send_json_to({"op": "presence", "state": "available"})
        assert (await receive_kind(desk, "ack"))["op"] == "presence"
        await desk.disconnect()

    run(scenario)


def test_a_membership_changed_without_signals_counts_at_the_next_op(center: Center) -> None:
    """A queryset update sends no signal: the socket's next operation still reads the membership afresh."""
    cookie = session_cookie(center.supervisor)
    actions.set_presence(center.agent, center.agent, PresenceState.AVAILABLE)

    async def scenario() -> None:
        sup = await _connected(f"/ws/desk/supervisor/?tenant={center.tenant.pk}", cookie)
        await sup.send_json_to({"op": "set_state", "user_id": center.agent.pk, "state": "break"})
        assert (await receive_kind(sup, "ack"))["op"] == "set_state"
        await database_sync_to_async(Membership.objects.filter(user=center.supervisor, tenant=center.tenant)
                                     .update)(role=Role.AGENT)
        await sup.send_json_to({"op": "set_state", "user_id": center.agent.pk, "state": "available"})
        assert (await receive_kind(sup, "error"))["op"] == "set_state"
        await sup.send_json_to({"op": "snapshot"})  # no longer the tenant's supervisor: no figures of it
        assert await sup.receive_nothing(timeout=0.5)
        await sup.disconnect()

    run(scenario)
    assert AgentProfile.objects.get(user=center.agent).presence == PresenceState.BREAK


def test_a_deactivated_agent_is_disconnected(center: Center) -> None:
    cookie = session_cookie(center.agent)

    async def scenario() -> None:
        desk = await _connected("/ws/desk/agent/", cookie)
        center.agent.is_active = False
        await database_sync_to_async(center.agent.save)()
        assert _close_code(await desk.receive_output(timeout=3)) == 4409
        await desk.wait()

    run(scenario)
