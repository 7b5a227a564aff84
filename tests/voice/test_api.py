"""The CTI events API: idempotency, state machine refusals, tenant isolation, bad input, track mode."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from linia.intake.voice.models import Call, CtiEvent, RejectedCtiEvent
from linia.tickets.models import Event, Interaction
from tests.api.conftest import error_of

from .conftest import World, event, known_caller


def test_track_mode_call_becomes_an_interaction_with_timestamps(world: World) -> None:
    a = world.a
    contact = known_caller(a)
    steps = [("offered", "2026-11-25T10:00:00Z", {}), ("queued", "2026-11-25T10:00:02Z", {"queue": "support"}),
             ("ringing", "2026-11-25T10:00:05Z", {"agent_extension": "201"}),
             ("answered", "2026-11-25T10:00:09Z", {"agent_extension": "201"}),
             ("held", "2026-11-25T10:01:00Z", {}), ("resumed", "2026-11-25T10:01:30Z", {}),
             ("ended", "2026-11-25T10:03:00Z", {})]
    for seq, (kind, at, extra) in enumerate(steps, start=1):
        r = a.api.post("voice/events", event("c-1", seq, kind, at=at, **extra))
        assert r.status_code == 200, r.json()
        assert r.json()["duplicate"] is False
    call = Call.objects.get(tenant=a.tenant, pbx_call_id="c-1")
    assert call.state == "ended" and not call.abandoned
    assert call.agent == a.agent and call.agent_extension == "201" and call.queue_code == "support"
    assert call.queued_at.isoformat() == "2026-11-25T10:00:00+00:00"
    assert call.answered_at.isoformat() == "2026-11-25T10:00:09+00:00"
    assert call.wrapup_ends_at.isoformat() == "2026-11-25T10:03:30+00:00"  # 30 s default wrap-up
    interaction = Interaction.objects.get(tenant=a.tenant, channel="call", external_id="c-1")
    assert interaction.contact == contact and interaction.agent == a.agent
    assert interaction.started_at.isoformat() == "2026-11-25T10:00:00+00:00"
    assert interaction.ended_at.isoformat() == "2026-11-25T10:03:00+00:00"
    assert interaction.data["answered_at"] == "2026-11-25T10:00:09+00:00"
    assert interaction.data["wrapup_ends_at"] == "2026-11-25T10:03:30+00:00"
    kinds = list(Event.objects.filter(tenant=a.tenant, kind__startswith="call.").values_list("kind", flat=True))
    assert kinds == [f"call.{k}" for k, _, _ in steps]


def test_same_event_twice_is_acknowledged_once(world: World) -> None:
    a = world.a
    first = a.api.post("voice/events", event("c-2", 1, "offered"))
    again = a.api.post("voice/events", event("c-2", 1, "offered"))
    assert first.status_code == again.status_code == 200
    assert again.json()["duplicate"] is True
    assert CtiEvent.objects.filter(pbx_call_id="c-2").count() == 1
    assert Event.objects.filter(kind="call.offered").count() == 1
    assert Interaction.objects.filter(external_id="c-2").count() == 1


def test_answered_before_offered_is_refused_and_logged(world: World) -> None:
    a = world.a
    r = a.api.post("voice/events", event("c-3", 1, "answered", agent_extension="201"))
    assert r.status_code == 409
    assert error_of(r)["code"] == "unknown_call"
    assert not Call.objects.filter(pbx_call_id="c-3").exists()
    rejected = RejectedCtiEvent.objects.get(pbx_call_id="c-3")
    assert rejected.code == "unknown_call" and rejected.tenant == a.tenant and '"answered"' in rejected.raw


def test_forbidden_transition_and_late_sequence_leave_state_unchanged(world: World) -> None:
    a = world.a
    for seq, kind in [(1, "offered"), (2, "queued"), (5, "answered")]:
        assert a.api.post("voice/events", event("c-4", seq, kind)).status_code == 200
    late = a.api.post("voice/events", event("c-4", 4, "ringing"))
    assert late.status_code == 409 and error_of(late)["code"] == "out_of_order"
    resume = a.api.post("voice/events", event("c-4", 6, "resumed"))
    assert resume.status_code == 409 and error_of(resume)["code"] == "invalid_transition"
    assert a.api.post("voice/events", event("c-4", 7, "ended")).status_code == 200
    after = a.api.post("voice/events", event("c-4", 8, "abandoned"))
    assert after.status_code == 409 and error_of(after)["code"] == "call_ended"
    call = Call.objects.get(pbx_call_id="c-4")
    assert call.state == "ended" and call.last_sequence == 7 and not call.abandoned
    assert list(RejectedCtiEvent.objects.order_by("id").values_list("code", flat=True)) == [
        "out_of_order", "invalid_transition", "call_ended"]


def test_abandoned_call(world: World) -> None:
    a = world.a
    for seq, kind in [(1, "queued"), (2, "ringing"), (3, "abandoned"), (4, "ended")]:
        assert a.api.post("voice/events", event("c-5", seq, kind, agent_extension="201")).status_code == 200
    call = Call.objects.get(pbx_call_id="c-5")
    assert call.abandoned and call.answered_at is None and call.wrapup_ends_at is None
    assert call.interaction.data["abandoned"] is True


def test_another_tenants_line_is_unknown_and_logged(world: World) -> None:
    a, b = world.a, world.b
    r = a.api.post("voice/events", event("c-6", 1, "offered", dialled=b.line.number))
    assert r.status_code == 404 and error_of(r)["code"] == "unknown_line"
    unknown = a.api.post("voice/events", event("c-7", 1, "offered", dialled="+48999000111"))
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "unknown_line"
    assert not Call.objects.exists()
    codes = dict(RejectedCtiEvent.objects.values_list("pbx_call_id", "code"))
    assert codes == {"c-6": "foreign_line", "c-7": "unknown_line"}  # the log tells them apart; the PBX cannot


def test_national_and_plus_less_dialled_numbers_find_the_line(world: World) -> None:
    a = world.a
    assert a.api.post("voice/events", event("c-8", 1, "offered", dialled="48221234567")).status_code == 200
    assert a.api.post("voice/events", event("c-9", 1, "offered", dialled="22 123 45 67")).status_code == 200
    assert Call.objects.filter(line=a.line).count() == 2


BAD_BODIES: list[tuple[Any, int, str]] = [
    (" ", 422, "invalid_request"),
    ("{not json", 400, "malformed_json"),
    ("[1, 2]", 422, "invalid_request"),
    ({"call_id": "x", "sequence": "1", "event": "offered", "dialled": "+48221234567"}, 422, "invalid_request"),
    ({"call_id": "x", "sequence": True, "event": "offered", "dialled": "+48221234567"}, 422, "invalid_request"),
    ({"call_id": "x", "sequence": -1, "event": "offered", "dialled": "+48221234567"}, 422, "invalid_request"),
    ({"call_id": "x", "sequence": 2**70, "event": "offered", "dialled": "+48221234567"}, 422, "invalid_request"),
    ({"call_id": "x", "sequence": 1, "event": "exploded", "dialled": "+48221234567"}, 422, "unknown_event"),
    ({"call_id": "", "sequence": 1, "event": "offered", "dialled": "+48221234567"}, 422, "invalid_request"),
    ({"call_id": "x\u0000", "sequence": 1, "event": "offered", "dialled": "+48221234567"}, 422, "invalid_request"),
    ('{"call_id": "x\\ud800", "sequence": 1, "event": "offered", "dialled": "+48221234567"}', 422,
     "invalid_request"),
    ({"call_id": "x" * 201, "sequence": 1, "event": "offered", "dialled": "+48221234567"}, 422, "invalid_request"),
    ({"call_id": "x", "sequence": 1, "event": "offered"}, 422, "invalid_request"),
    ({"call_id": "x", "sequence": 1, "event": "offered", "dialled": 48221234567}, 422, "invalid_request"),
    ({"call_id": "x", "sequence": 1, "event": "offered", "dialled": "+48221234567", "at": "yesterday"}, 422,
     "invalid_request"),
    ({"call_id": "x", "sequence": 1, "event": "offered", "dialled": "+48221234567", "at": "2026-11-25T10:00:00"},
     422, "invalid_request"),
    ({"call_id": "x", "sequence": 1, "event": "offered", "dialled": "+48221234567", "colour": "red"}, 422,
     "invalid_request"),
]


def test_bad_input_is_a_4xx_with_a_code_and_is_logged(world: World) -> None:
    a = world.a
    for body, status, code in BAD_BODIES:
        raw = body if isinstance(body, str) else None
        r = a.api.post("voice/events", None if raw else body, raw=raw)
        assert r.status_code == status, (body, r.content)
        assert error_of(r)["code"] == code, body
    big = a.api.post("voice/events", event("c-big", 1, "offered", padding="x" * 70_000))
    assert big.status_code == 413 and error_of(big)["code"] == "too_large"
    assert RejectedCtiEvent.objects.filter(tenant=a.tenant).count() == len(BAD_BODIES) + 1
    assert not Call.objects.exists()


def test_auth_and_role(world: World) -> None:
    a = world.a
    from tests.api.conftest import Api

    assert Api(None).post("voice/events", event("c-10", 1, "offered")).status_code == 401
    assert Api("lin_nope").post("voice/events", event("c-10", 1, "offered")).status_code == 401
    r = a.agent_api.post("voice/events", event("c-10", 1, "offered"))  # agents may not pose as the PBX
    assert r.status_code == 403
    assert a.api.get("voice/events").status_code == 405


def test_screen_pop_is_pushed_to_the_ringing_agent(world: World, django_capture_on_commit_callbacks: Any) -> None:
    a = world.a
    known_caller(a)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"agent-{a.agent.pk}", channel)
    a.api.post("voice/events", event("c-11", 1, "queued"))
    with django_capture_on_commit_callbacks(execute=True):
        assert a.api.post("voice/events", event("c-11", 2, "ringing", agent_extension="201")).status_code == 200
    message = async_to_sync(layer.receive)(channel)
    payload = message["payload"]
    assert message["type"] == "linia.event" and payload["kind"] == "screen_pop"
    assert payload["call"]["call_id"] == "c-11" and payload["contact"]["name"] == "Jan Kowalski"


def test_registering_a_ticket_links_the_calls_interaction(world: World) -> None:
    from linia.core.errors import NotFound
    from linia.intake.voice.actions import link_ticket
    from linia.tickets import actions as tickets

    a, b = world.a, world.b
    contact = known_caller(a)
    a.api.post("voice/events", event("c-12", 1, "queued"))
    ticket = tickets.create_ticket(None, a.tenant, subject="Sour milk", channel="call", contact=contact)
    call = link_ticket(a.agent, a.tenant, "c-12", ticket)
    assert call.interaction.ticket == ticket and call.interaction.contact == contact
    assert Event.objects.filter(kind="call.linked", ticket=ticket).count() == 1
    foreign = tickets.create_ticket(None, b.tenant, subject="Theirs", channel="call")
    with pytest.raises(NotFound):
        link_ticket(a.agent, a.tenant, "c-12", foreign)  # another tenant's ticket
    with pytest.raises(NotFound):
        link_ticket(a.agent, a.tenant, "nope", ticket)
