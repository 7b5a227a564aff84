"""Voice CTI API: a PBX posts call events and asks which agent to ring; agents fetch the screen pop.

The PBX authenticates with a bearer token of the tenant whose user holds config.manage (a supervisor
or an integration user); the dialled number must be one of that tenant's lines. Guide: docs/voice.md.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Query, Router, Schema

from linia.api import errors
from linia.api.auth import principal
from linia.api.schemas import ERRORS, In
from linia.core.permissions import Perm
from linia.intake.voice import actions, callflow, cti, queries
from linia.intake.voice.models import RejectedCtiEvent

router = Router(tags=["voice"])
MAX_BODY = 64 * 1024

EVENT_SCHEMA = {
    "type": "object", "required": ["call_id", "sequence", "event", "dialled"],
    "properties": {
        "call_id": {"type": "string", "maxLength": 200, "description": "the PBX's call id (Asterisk: Uniqueid)"},
        "sequence": {"type": "integer", "minimum": 0, "description": "grows with every event of the call"},
        "event": {"type": "string", "enum": list(callflow.EVENTS)},
        "caller": {"type": "string", "maxLength": 64}, "dialled": {"type": "string", "maxLength": 64},
        "queue": {"type": "string", "maxLength": 80}, "agent_extension": {"type": "string", "maxLength": 40},
        "at": {"type": "string", "format": "date-time", "description": "when it happened (default: now)"},
    },
}


class CallOut(Schema):
    id: int
    call_id: str
    state: str
    caller: str
    line: str
    line_kind: str
    line_name: str
    queue: str
    agent_extension: str
    agent_id: int | None
    abandoned: bool
    interaction_id: int
    task_id: int | None
    queued_at: str | None
    ringing_at: str | None
    answered_at: str | None
    ended_at: str | None
    wrapup_ends_at: str | None


class EventAck(Schema):
    accepted: bool = True
    duplicate: bool
    call: CallOut


class RouteIn(In):
    call_id: str = Field(min_length=1, max_length=200)


class RouteOut(Schema):
    action: str = Field(description='"ring" (ring `extension`), "wait" (ask again in a moment) or "closed" '
                                    "(the queue is closed now; `next_opening` says when it opens)")
    call_id: str
    extension: str | None = None
    agent_id: int | None = None
    reservation_id: int | None = None
    expires_at: str | None = None
    queue: str | None = Field(None, description="closed: the code of the closed queue")
    next_opening: str | None = Field(None, description="closed: when the queue opens (null: not within 14 days)")


class ScreenPopParams(Schema):
    caller: str = Field(min_length=1, max_length=64)


class RejectedOut(Schema):
    id: int
    call_id: str
    source: str
    code: str
    message: str
    raw: str
    received_at: str


@router.post("/voice/events", response={200: EventAck, **ERRORS},
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"application/json": {"schema": EVENT_SCHEMA}}}},
             summary="A call event from the PBX (idempotent by call_id + sequence)")
def post_event(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    p.require(Perm.CONFIG_MANAGE)
    body = request.body
    text = body[:MAX_BODY].decode("utf-8", errors="replace")
    if len(body) > MAX_BODY:
        actions.reject(p.tenant, "too_large", "body over 64 KiB", text)
        raise actions.Rejected(413, "too_large", "The event body is larger than 64 KiB.")
    if not body.strip():
        actions.reject(p.tenant, "invalid_request", "empty body", "")
        raise actions.Rejected(422, "invalid_request", "Send the event as a JSON object.", {"body": ["required"]})
    try:
        data = errors.parse_json(body)
        event = cti.parse(data)
    except errors.MalformedJSON as exc:
        actions.reject(p.tenant, "malformed_json", str(exc), text)
        raise actions.Rejected(400, "malformed_json", f"The request body is not valid JSON: {exc}") from None
    except cti.CtiInputError as exc:
        call_id = data.get("call_id") if isinstance(data, dict) else ""
        actions.reject(p.tenant, exc.code, f"{exc.message} {exc.fields}", text,
                       call_id=call_id if isinstance(call_id, str) else "")
        raise actions.Rejected(422, exc.code, exc.message, exc.fields) from None
    outcome = actions.receive_event(p.user, p.tenant, event, raw=data)
    # Rendered here, not validated again through EventAck (the PBX's every event; tests check the shape).
    return JsonResponse({"accepted": True, "duplicate": outcome.duplicate, "call": actions.call_summary(outcome.call)},
                        content_type="application/json; charset=utf-8", json_dumps_params={"ensure_ascii": False})


@router.post("/voice/route", response={200: RouteOut, **ERRORS},
             summary="Route mode: which extension to ring for this call (or wait)")
def route(request: HttpRequest, payload: RouteIn) -> dict[str, Any]:
    p = principal(request)
    return actions.route_call(p.user, p.tenant, payload.call_id)


@router.get("/voice/screen-pop", response={200: dict[str, Any], **ERRORS},
            summary="Caller's contact, open and recent tickets, nearest stores, category tree")
def screen_pop(request: HttpRequest, params: Query[ScreenPopParams]) -> dict[str, Any]:
    p = principal(request)
    p.require(Perm.CONTACTS_VIEW)
    return queries.screen_pop(p.tenant, params.caller, user=p.user)


@router.get("/voice/rejected", response={200: list[RejectedOut], **ERRORS},
            summary="The newest refused CTI events of the tenant (for diagnosis)")
def rejected(request: HttpRequest, limit: int = 50) -> list[dict[str, Any]]:
    p = principal(request)
    p.require(Perm.CONFIG_MANAGE)
    rows = RejectedCtiEvent.objects.filter(tenant=p.tenant).order_by("-id")[:max(1, min(limit, 200))]
    return [{"id": r.pk, "call_id": r.pbx_call_id, "source": r.source, "code": r.code, "message": r.message,
             "raw": r.raw, "received_at": r.received_at.isoformat()} for r in rows]
