"""Every CTI event, whatever its source (HTTP API, AMI, queue_log), goes through `receive_event`.

One transaction: duplicate check, call state machine (callflow.decide), call + interaction update,
event rows (CtiEvent, tickets Event), routing side effects in route mode, screen pop on commit.
Refused events are kept in RejectedCtiEvent and raised as ActionError/Conflict/NotFound (4xx).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NoReturn

import phonenumbers
from django.db import IntegrityError, transaction
from django.utils import timezone

from linia.core import fastsql
from linia.core.errors import ActionError, Conflict, NotFound
from linia.core.models import Tenant
from linia.core.permissions import Perm, require
from linia.intake.voice import callflow, lines
from linia.intake.voice.cti import CtiInput
from linia.intake.voice.models import Call, CtiEvent, Line, LineMode, RejectedCtiEvent
from linia.tickets import events
from linia.tickets.contacts import REGION_BY_LANGUAGE, normalize_phone
from linia.tickets.events import emit
from linia.tickets.models import Channel, ContactIdentity, Interaction, Ticket

log = logging.getLogger(__name__)

DEFAULT_WRAPUP_SECONDS = 30


class Rejected(ActionError):
    """A refused CTI event; `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(code, message, fields)
        self.status = status


# Events after which route mode dispatches: a call entered the queue, or an agent may be free again.
DISPATCHING_EVENTS = frozenset({"offered", "queued", "transferred", "abandoned", "ended"})


@dataclass(frozen=True)
class Outcome:
    call: Call
    duplicate: bool


# --- rejected log -------------------------------------------------------------------------------


def reject(tenant: Tenant | None, code: str, message: str, raw: Any, *, source: str = "api",
           call_id: str = "", log_code: str = "") -> RejectedCtiEvent:
    """Keep a refused event for diagnosis (its own transaction: it must survive the refusal)."""
    text = raw if isinstance(raw, str) else json.dumps(_jsonable(raw), ensure_ascii=False, sort_keys=True)
    return RejectedCtiEvent.objects.create(
        tenant=tenant, pbx_call_id=_printable(call_id)[:200], source=source, code=log_code or code,
        message=_printable(message)[:500], raw=_printable(text)[:20_000], received_at=timezone.now())


def _printable(text: str) -> str:
    """Text PostgreSQL can store: NUL and lone surrogates (from JSON escapes) are written as escapes."""
    return text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, CtiInput):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# --- lines and phones ---------------------------------------------------------------------------


def e164(raw: str, tenant: Tenant | None = None) -> str:
    """E.164 when the number parses, else the text as sent. PBXs often send international numbers
    without "+" (48221234567) or national ones (0221234567, 89161234567): the valid reading wins."""
    raw = raw.strip()
    if not raw:
        return ""
    return _e164(raw, REGION_BY_LANGUAGE.get(tenant.default_language if tenant else "", "RU"))


@lru_cache(maxsize=4096)
def _e164(raw: str, region: str) -> str:
    """A pure function of its text and region (every CTI event parses its dialled and calling number)."""
    candidates = [raw] if raw.startswith("+") or not raw.isdigit() else ["+" + raw, raw]
    for text in candidates:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    try:
        return normalize_phone(raw, region)
    except ValueError:
        return raw[:64]


def find_line(tenant: Tenant, event: CtiInput, raw: Any, source: str) -> Line:
    """The line by dialled number (unique across the installation), else by the PBX queue name."""
    line = None
    if event.dialled:
        line = lines.by_number(e164(event.dialled, tenant))
        if line is not None and line.tenant_id != tenant.pk:
            # Same answer as an unknown number: a PBX must not learn other tenants' lines.
            _refuse(tenant, 404, "unknown_line", f"no line {event.dialled!r} in this tenant", raw, source,
                    event.call_id, log_code="foreign_line")
    elif event.queue:
        line = lines.by_pbx_queue(tenant.pk, event.queue)
    if line is None:
        what = f"dialled number {event.dialled!r}" if event.dialled else f"PBX queue {event.queue!r}"
        _refuse(tenant, 404, "unknown_line", f"no line for {what} in this tenant", raw, source, event.call_id)
    return line


def _refuse(tenant: Tenant | None, status: int, code: str, message: str, raw: Any, source: str, call_id: str,
            *, log_code: str = "", fields: dict[str, list[str]] | None = None) -> NoReturn:
    reject(tenant, code, message, raw, source=source, call_id=call_id, log_code=log_code)
    raise Rejected(status, code, message, fields)


# --- receiving an event -------------------------------------------------------------------------


def receive_event(actor: Any, tenant: Tenant, event: CtiInput, *, source: str = "api", raw: Any = None) -> Outcome:
    """Apply one CTI event. Duplicates (same call id + sequence) change nothing and say so."""
    if actor is not None:
        require(actor, Perm.CONFIG_MANAGE, tenant)
    raw = event if raw is None else raw
    line = find_line(tenant, event, raw, source)
    try:
        result = _apply(tenant, line, event, raw, source)
    except IntegrityError:
        # A parallel delivery of the same new call or event won the insert: look again (now a duplicate).
        result = _apply(tenant, line, event, raw, source)
    if isinstance(result, Outcome):
        if not result.duplicate and line.mode == LineMode.ROUTE and event.event in DISPATCHING_EVENTS:
            from linia.routing.actions import dispatch_after_change

            dispatch_after_change([tenant.pk])  # offer the new call (or the freed agent) at once, not at the next tick
        return result
    status, code, message = result
    _refuse(tenant, status, code, message, raw, source, event.call_id)


def _apply(tenant: Tenant, line: Line, event: CtiInput, raw: Any, source: str) -> Outcome | tuple[int, str, str]:
    """The outcome, or (status, code, message) of a refusal (nothing changed)."""
    with events.atomic():
        call, seen, task_seen = _locked_call(tenant, line, event)
        if call is not None and seen:  # an accepted event always has its call
            return Outcome(call, duplicate=True)
        if call is not None and call.line_id != line.pk:
            return 409, "line_mismatch", f"call {event.call_id!r} belongs to line {call.line.number}"
        state = call.state if call is not None else callflow.START
        decision = callflow.decide(state, event.event, sequence=event.sequence,
                                   last_sequence=call.last_sequence if call is not None else None)
        if not decision.ok:
            return 409, decision.code, decision.message
        at = event.at or timezone.now()
        if call is None:
            # Inserted in its final state; a racing twin fails on the unique key and receive_event retries.
            call = _new_call(tenant, line, event, decision.state, at)
        else:
            _advance(call, event, decision.state, at)
            fastsql.save_fields(call, CALL_FIELDS)
            _sync_interaction(call)
        fastsql.insert(CtiEvent(tenant=tenant, call=call, pbx_call_id=event.call_id, sequence=event.sequence,
                                event=event.event, source=source, raw=_jsonable(raw), received_at=timezone.now()))
        ticket_id = call.interaction.ticket_id  # the id is all the event row needs: no read of the ticket
        emit(tenant.pk, f"call.{event.event}", ticket=Ticket(pk=ticket_id, tenant_id=tenant.pk) if ticket_id else None,
             data={"call_id": event.call_id, "call": call.pk, "line": line.number, "state": call.state,
                   "agent_extension": call.agent_extension, "queue": call.queue_code})
        if line.mode == LineMode.ROUTE:
            _route_side_effects(call, event, task_seen)
        if event.event in {"ringing", "answered"} and call.agent_id is not None:
            _publish_screen_pop(call, call.agent_id)
        return Outcome(call, duplicate=False)


CALL_FIELDS = tuple(f.name for f in Call._meta.concrete_fields if not f.primary_key and f.name != "created_at")


@dataclass(frozen=True)
class TaskSeen:
    """The call's routing task as the call's own read found it (not locked: routing re-checks under its locks)."""
    status: str
    assigned_to_id: int | None


def _locked_call(tenant: Tenant, line: Line, event: CtiInput) -> tuple[Call | None, bool, TaskSeen | None]:
    """The call (locked on PostgreSQL) with its interaction, whether this event (call id + sequence) was
    already accepted, and its task's status: one plain read, as this runs for every CTI event."""
    from linia.routing.models import Task

    sql = (f"SELECT {fastsql.cols(Call, 'c')}, {fastsql.cols(Interaction, 'i')}, t.status, t.assigned_to_id, "  # noqa: S608
           f"EXISTS(SELECT 1 FROM {fastsql.table(CtiEvent)} e WHERE e.tenant_id = c.tenant_id "
           f"AND e.pbx_call_id = c.pbx_call_id AND e.sequence = %s) FROM {fastsql.table(Call)} c "
           f"JOIN {fastsql.table(Interaction)} i ON i.id = c.interaction_id LEFT JOIN {fastsql.table(Task)} t "
           f"ON t.id = c.task_id WHERE c.tenant_id = %s AND c.pbx_call_id = %s{fastsql.for_update('c')}")
    row = fastsql.fetch_one(sql, [event.sequence, tenant.pk, event.call_id])
    if row is None:
        return None, False, None
    call = fastsql.load(Call, row)
    fastsql.attach(call, "interaction", fastsql.load(Interaction, row, fastsql.width(Call)))
    fastsql.attach(call, "tenant", tenant)
    if call.line_id == line.pk:
        fastsql.attach(call, "line", line)
    return call, bool(row[-1]), TaskSeen(row[-3], row[-2]) if row[-3] is not None else None


def _new_call(tenant: Tenant, line: Line, event: CtiInput, state: str, at: datetime) -> Call:
    caller = e164(event.caller, tenant)
    call = Call(tenant=tenant, pbx_call_id=event.call_id, line=line, caller=caller, state=callflow.START,
                last_sequence=event.sequence, queue_code=event.queue)
    _advance(call, event, state, at)
    # One statement in the usual case: the new interaction, its contact found by the caller's number in a
    # sub-select, and nothing written when one with this call id exists already (the unique tenant + channel
    # + external id; e.g. made through the API before the PBX reported the call): then that one is used.
    # No savepoint: a racing twin's call insert makes the whole event fail and receive_event retry it.
    interaction = fastsql.insert_unless_exists(Interaction(
        tenant=tenant, channel=Channel.CALL, external_id=event.call_id, direction="inbound", started_at=at,
        agent=call.agent, ended_at=call.ended_at, data={"line": line.number, "line_kind": line.kind,
                                                         "caller": caller, **_interaction_state(call)}),
        exprs={"contact": _contact_by_phone_sql(tenant, caller)}, or_nothing=True)
    existing = _interaction_of(tenant, event.call_id) if interaction is None else None
    if existing is not None:
        interaction = existing
    if interaction is None:  # it was there a moment ago and is gone now: let receive_event try again
        raise IntegrityError(f"interaction of call {event.call_id!r} vanished")
    call.interaction = interaction
    fastsql.insert(call)
    if existing is not None:
        _sync_interaction(call)
    return call


def _interaction_of(tenant: Tenant, call_id: str) -> Interaction | None:
    sql = (f"SELECT {fastsql.cols(Interaction, 'i')} FROM {fastsql.table(Interaction)} i "  # noqa: S608
           "WHERE i.tenant_id = %s AND i.channel = %s AND i.external_id = %s")
    row = fastsql.fetch_one(sql, [tenant.pk, Channel.CALL, call_id])
    return fastsql.load(Interaction, row) if row is not None else None


def _contact_by_phone_sql(tenant: Tenant, phone: str) -> tuple[str, list[Any]]:
    """The contact id of the tenant's customer with this E.164 phone, as a sub-select (NULL: none)."""
    if not phone.startswith("+"):
        return "NULL", []
    sql = (f"SELECT ci.contact_id FROM {fastsql.table(ContactIdentity)} ci "  # noqa: S608
           "WHERE ci.tenant_id = %s AND ci.kind = %s AND ci.value = %s")
    return sql, [tenant.pk, ContactIdentity.Kind.PHONE, phone]


def _advance(call: Call, event: CtiInput, state: str, at: datetime) -> None:
    kind = event.event
    if kind in {"offered", "queued"} and call.queued_at is None:
        call.queued_at = at
    if kind == "ringing" and call.ringing_at is None:
        call.ringing_at = at
    if kind == "answered" and call.answered_at is None:
        call.answered_at = at
    # An unanswered call that ends was abandoned, unless it left the queue elsewhere (overflow, transfer).
    if kind == "abandoned" or (kind == "ended" and call.answered_at is None and call.state != "transferred"):
        call.abandoned = True
    if kind == "ended":
        call.ended_at = at
        if call.answered_at is not None:
            call.wrapup_ends_at = at + timedelta(seconds=_wrapup_seconds(call))
    if event.queue:
        call.queue_code = event.queue
    if event.agent_extension and kind in {"ringing", "answered", "transferred"}:
        call.agent_extension = event.agent_extension
        call.agent = _agent_by_extension(call.tenant_id, event.agent_extension)
    call.state = state
    call.last_sequence = event.sequence


def _wrapup_seconds(call: Call) -> int:
    queue = call.line.queue
    return int(queue.wrapup_seconds) if queue is not None else DEFAULT_WRAPUP_SECONDS


def _agent_by_extension(tenant_id: int, extension: str) -> Any:
    from linia.core.models import Membership
    from linia.routing.models import AgentProfile

    profile = AgentProfile.objects.select_related("user").filter(extension=extension).first()
    if profile is None or not Membership.objects.filter(user=profile.user, tenant_id=tenant_id).exists():
        return None
    return profile.user


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _sync_interaction(call: Call) -> None:
    interaction = call.interaction
    interaction.agent = call.agent
    interaction.ended_at = call.ended_at
    interaction.data = {**interaction.data, **_interaction_state(call)}
    fastsql.save_fields(interaction, ("agent", "ended_at", "data"))


def _interaction_state(call: Call) -> dict[str, Any]:
    return {"state": call.state, "abandoned": call.abandoned, "queue": call.queue_code,
            "agent_extension": call.agent_extension, "queued_at": _iso(call.queued_at),
            "answered_at": _iso(call.answered_at), "ended_at": _iso(call.ended_at),
            "wrapup_ends_at": _iso(call.wrapup_ends_at)}


# --- screen pop ---------------------------------------------------------------------------------


def _publish_screen_pop(call: Call, agent_id: int) -> None:
    from linia.intake.voice.queries import screen_pop
    from linia.routing import realtime

    pop = screen_pop(call.tenant, call.caller)
    realtime.publish(realtime.agent_group(agent_id), {
        "kind": "screen_pop", "call": call_summary(call), **pop})


def call_summary(call: Call) -> dict[str, Any]:
    return {"id": call.pk, "call_id": call.pbx_call_id, "state": call.state, "caller": call.caller,
            "line": call.line.number, "line_kind": call.line.kind, "line_name": call.line.name,
            "queue": call.queue_code, "agent_extension": call.agent_extension, "agent_id": call.agent_id,
            "abandoned": call.abandoned, "interaction_id": call.interaction_id, "task_id": call.task_id,
            "queued_at": _iso(call.queued_at), "ringing_at": _iso(call.ringing_at),
            "answered_at": _iso(call.answered_at), "ended_at": _iso(call.ended_at),
            "wrapup_ends_at": _iso(call.wrapup_ends_at)}


# --- route mode ---------------------------------------------------------------------------------


@contextmanager
def _routing_step(call: Call, what: str) -> Iterator[None]:
    """A routing refusal (e.g. an expired offer) must not undo the call record: the PBX is the truth."""
    try:
        with events.atomic():  # a refusal drops the step's event rows with its other writes
            yield
    except ActionError as exc:
        log.warning("call %s: routing %s refused: %s (%s)", call.pbx_call_id, what, exc.code, exc.message)


def _route_side_effects(call: Call, event: CtiInput, task_seen: TaskSeen | None) -> None:
    handlers: dict[str, Callable[[], None]] = {
        "offered": lambda: _ensure_task(call), "queued": lambda: _ensure_task(call),
        "answered": lambda: _accept(call, event.agent_extension),
        "abandoned": lambda: _abandon(call),
        "ended": lambda: _end(call, task_seen),
    }
    handler = handlers.get(event.event)
    if handler is None:
        return
    with _routing_step(call, event.event):
        handler()


def _ensure_task(call: Call) -> None:
    from linia.routing import actions as routing

    if call.task_id is not None or call.line.queue is None:
        return
    task = routing.create_task(None, call.tenant_id, channel="call", queue=call.line.queue,
                               external_id=call.pbx_call_id, interaction=call.interaction, queue_loaded=True,
                               attributes={"caller": call.caller, "line": call.line.number,
                                           "line_kind": call.line.kind})
    call.task = task
    fastsql.save_fields(call, ("task", "updated_at"))


def _accept(call: Call, extension: str) -> None:
    from linia.routing import actions as routing
    from linia.routing.models import Reservation

    if call.task_id is None:
        return
    reservation = (Reservation.objects.filter(task_id=call.task_id, status="pending")
                   .select_related("agent__agent_profile").first())
    if reservation is None:
        return
    profile_ext = getattr(getattr(reservation.agent, "agent_profile", None), "extension", "")
    if extension and profile_ext and extension != profile_ext:
        log.warning("call %s answered at %s, but the offer went to %s", call.pbx_call_id, extension, profile_ext)
        return
    routing.accept_offer(None, reservation.pk)


def _abandon(call: Call) -> None:
    from linia.routing import actions as routing

    if call.task_id is not None:
        routing.abandon_task(None, call.task_id, reason="caller hung up")


def _end(call: Call, seen: TaskSeen | None) -> None:
    from linia.routing import actions as routing
    from linia.routing.models import Task

    if call.task_id is None or seen is None:
        return
    if seen.status == "assigned":
        # The system completes it (no permission to check): the call's read is all complete_task would read
        # first (it re-checks the status under its locks); _routing_step's savepoint undoes a refusal, so
        # complete_task needs none of its own.
        found = Task(pk=call.task_id, tenant_id=call.tenant_id, assigned_to_id=seen.assigned_to_id)
        routing.complete_task(None, call.task_id, _found=found, _savepoint=False)
    elif seen.status in {"queued", "reserved"}:
        routing.abandon_task(None, call.task_id, reason="call ended before an agent answered")


def route_call(actor: Any, tenant: Tenant, call_id: str) -> dict[str, Any]:
    """Which extension the PBX should ring for this call, {"action": "wait"}, or {"action": "closed"} when
    the call's queue is closed now (its task is held until the queue opens: play a closed message,
    offer voicemail, or keep the caller waiting)."""
    from linia.routing import actions as routing
    from linia.routing.models import Reservation

    if actor is not None:
        require(actor, Perm.CONFIG_MANAGE, tenant)
    call = Call.objects.select_related("line").filter(tenant=tenant, pbx_call_id=call_id).first()
    if call is None:
        raise NotFound("call")
    if call.line.mode != LineMode.ROUTE:
        raise Conflict("not_routed", f"line {call.line.number} is in track mode: the PBX distributes its calls")
    if call.state not in callflow.WAITING:
        raise Conflict("not_waiting", f"the call is {call.state}, not waiting for an agent")
    task_id = call.task_id
    if task_id is None:
        raise Conflict("no_task", f"line {call.line.number} has no routing queue")

    def active() -> Reservation | None:
        return (Reservation.objects.select_related("agent__agent_profile")
                .filter(task_id=task_id, status__in=["pending", "accepted"]).first())

    reservation = active()
    if reservation is None:
        routing.dispatch(tenant.pk)
        reservation = active()
    if reservation is None:  # the task's queue now (a closed queue with overflow has moved it on)
        closed = _closed_answer(task_id, call_id)
        if closed is not None:
            return closed
    extension = getattr(getattr(reservation.agent, "agent_profile", None), "extension", "") if reservation else ""
    if reservation is None or not extension:
        return {"action": "wait", "call_id": call_id}
    return {"action": "ring", "call_id": call_id, "extension": extension, "agent_id": reservation.agent_id,
            "reservation_id": reservation.pk, "expires_at": _iso(reservation.expires_at)}


def _closed_answer(task_id: int, call_id: str) -> dict[str, Any] | None:
    """{"action": "closed", ...} when the call's task waits in a queue that is closed now."""
    from linia.routing import queries as routing_queries
    from linia.routing.models import Task

    task = Task.objects.select_related("queue", "queue__tenant").filter(pk=task_id).first()
    if task is None:
        return None
    status = routing_queries.queue_open_status(task.queue)
    if status["open"]:
        return None
    return {"action": "closed", "call_id": call_id, "queue": task.queue.code, "next_opening": status["next_opening"]}


# --- tickets ------------------------------------------------------------------------------------


def link_ticket(actor: Any, tenant: Tenant, call_id: str, ticket: Ticket) -> Call:
    """The agent registered a ticket for this call: the call's interaction now belongs to it."""
    if actor is not None:
        require(actor, Perm.TICKETS_CHANGE, tenant)
    if ticket.tenant_id != tenant.pk:
        raise NotFound("ticket")
    with transaction.atomic():
        call = Call.objects.select_related("interaction").filter(tenant=tenant, pbx_call_id=call_id).first()
        if call is None:
            raise NotFound("call")
        interaction = call.interaction
        interaction.ticket = ticket
        if interaction.contact_id is None and ticket.contact_id is not None:
            interaction.contact_id = ticket.contact_id
        interaction.save(update_fields=["ticket", "contact"])
        emit(tenant.pk, "call.linked", ticket=ticket, actor=actor, data={"call_id": call_id, "call": call.pk})
    return call


# --- adapters (AMI, queue_log) --------------------------------------------------------------------


def feed(tenant: Tenant, event: CtiInput, *, source: str, raw: Any = None) -> str:
    """Apply an adapter's event as the system: "applied", "duplicate" or "rejected:<code>" (kept in the log)."""
    try:
        outcome = receive_event(None, tenant, event, source=source, raw=raw)
    except ActionError as exc:
        return f"rejected:{exc.code}"
    return "duplicate" if outcome.duplicate else "applied"
