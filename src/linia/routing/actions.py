"""Every routing state change: one transaction that checks permission, changes state, writes the event
row and queues realtime messages for after the commit.

Locking order, the same everywhere so that writers never deadlock: the tenant's RoutingLock row, then
AgentProfile rows (by primary key), then reservations and tasks. On SQLite the IMMEDIATE transaction
already serialises writers; on PostgreSQL the row locks do. Dispatch itself lives in dispatcher.py.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from linia.core import fastsql
from linia.core.errors import ActionError, Conflict, NotFound
from linia.core.models import Membership, Role, Tenant, User
from linia.core.permissions import Perm, PermissionDenied, is_platform_admin, membership, require
from linia.routing import realtime
from linia.routing.engine import DEFAULT_BLOCKS
from linia.routing.locks import lock_agents, lock_tenant, tenant_id_of
from linia.routing.models import (
    CHANNELS,
    OPEN_TASK,
    AgentProfile,
    Disposition,
    PresenceState,
    Queue,
    Reservation,
    ReservationStatus,
    Task,
    TaskStatus,
)
from linia.routing.serialize import queue_stats_payload, task_brief
from linia.tickets import events
from linia.tickets.events import emit
from linia.tickets.models import Interaction, Ticket

ROUTABLE = (PresenceState.AVAILABLE, PresenceState.BUSY)
SETTABLE = (PresenceState.OFFLINE, PresenceState.AVAILABLE, PresenceState.BREAK, PresenceState.TRAINING,
            PresenceState.OTHER)
ROUTING_ROLES = (Role.AGENT, Role.SUPERVISOR)
FIRST_RESPONSE_CHANNELS = ("chat",)  # answered at the first public agent reply (GLOSSARY), not at accept

log = logging.getLogger(__name__)


# --- permissions ---------------------------------------------------------------------------------

def _role(actor: Any, tenant_id: int) -> str | None:
    """"supervisor" for the system (None) and platform admins, else the actor's routing role here."""
    if actor is None or is_platform_admin(actor):
        return Role.SUPERVISOR
    member = membership(actor, tenant_id)
    return member.role if member is not None and member.role in ROUTING_ROLES else None


def _require_member(actor: Any, tenant_id: int) -> str:
    role = _role(actor, tenant_id)
    if role is None:
        raise PermissionDenied("routing.work", "only agents and supervisors of this tenant may do this")
    return role


def _require_self_or_supervisor(actor: Any, agent_id: int, tenant_id: int) -> None:
    role = _require_member(actor, tenant_id)
    if role != Role.SUPERVISOR and actor.pk != agent_id:
        raise PermissionDenied("routing.supervise", "only the agent or a supervisor may do this")


def _check_tenant(obj_tenant_id: int, tenant: Tenant | int | None) -> None:
    """The API passes the token's tenant: another tenant's rows look missing."""
    if tenant is not None and tenant_id_of(tenant) != obj_tenant_id:
        raise NotFound("object")


# --- events and messages -------------------------------------------------------------------------

def task_event(task: Task, kind: str, actor: Any, **data: Any) -> None:
    ticket = Ticket(pk=task.ticket_id, tenant_id=task.tenant_id) if task.ticket_id else None
    emit(task.tenant_id, kind, ticket=ticket, actor=actor,
         data={"task_id": task.pk, "channel": task.channel, "queue_id": task.queue_id, **data})


def agent_tenant_ids(user_id: int, known: list[int] | None = None) -> list[int]:
    """The tenants the agent routes in; ``known``: the caller already read them (then no read)."""
    if known is not None:
        return known
    sql = (f"SELECT tenant_id FROM {fastsql.table(Membership)} WHERE user_id = %s "  # noqa: S608
           f"AND role IN ({fastsql.literals(*ROUTING_ROLES)}) ORDER BY tenant_id")
    return [r[0] for r in fastsql.fetch(sql, [user_id])]


def _tenant_ids_sql(alias: str) -> str:
    """Two sub-selects to put after an agent profile's columns: how many tenants the agent
    serves and the lowest one's id, so the usual agent of one tenant needs no agent_tenant_ids read."""
    member, roles = fastsql.table(Membership), fastsql.literals(*ROUTING_ROLES)
    where = f"FROM {member} m WHERE m.user_id = {alias}.user_id AND m.role IN ({roles})"
    return f"(SELECT COUNT(*) {where}), (SELECT MIN(m.tenant_id) {where})"


def _tenant_ids_of(count: Any, lowest: Any) -> list[int] | None:
    """agent_tenant_ids from _tenant_ids_sql's two values (None: several tenants, read them)."""
    return [] if not count else [int(lowest)] if count == 1 else None


def _presence_changed(profile: AgentProfile, old: str, actor: Any, tenant_ids: Iterable[int]) -> None:
    since = profile.presence_since.isoformat() if profile.presence_since else None
    data = {"user_id": profile.user_id, "from": old, "to": profile.presence, "reason": profile.presence_reason,
            "since": since}
    payload = {"kind": "presence", "user_id": profile.user_id, "state": profile.presence,
               "reason": profile.presence_reason, "since": since, "not_responding": profile.not_responding}
    realtime.publish(realtime.agent_group(profile.user_id), payload)
    for tenant_id in tenant_ids:
        emit(tenant_id, "agent.presence", actor=actor, data=data)
        realtime.publish(realtime.supervisor_group(tenant_id), payload)


def _queue_stats_soon(tenant_id: int) -> None:
    realtime.stats_soon(tenant_id, queue_stats_payload)


def _offer_cancelled(res: Reservation, reason: str) -> None:
    realtime.publish(realtime.agent_group(res.agent_id),
                     {"kind": "offer_cancelled", "reservation_id": res.pk, "reason": reason})


# --- agents' presence ----------------------------------------------------------------------------

def _profile_for_update(user_id: int) -> AgentProfile:
    AgentProfile.objects.get_or_create(user_id=user_id)
    return AgentProfile.objects.select_for_update().get(user_id=user_id)


def _assigned_count(user_id: int) -> int:
    sql = (f"SELECT COUNT(*) FROM {fastsql.table(Task)} WHERE assigned_to_id = %s "  # noqa: S608
           f"AND status = {fastsql.literals(TaskStatus.ASSIGNED)}")
    row = fastsql.fetch_one(sql, [user_id])
    return int(row[0]) if row else 0


def set_state(profile: AgentProfile, state: str, reason: str, now: datetime, *, assigned: int | None = None) -> str:
    """Change presence on a locked profile (no event); returns the old state. ``assigned``: the agent's
    count of assigned tasks when the caller just counted it under the same lock."""
    old = profile.presence
    if state == PresenceState.AVAILABLE and (_assigned_count(profile.user_id) if assigned is None else assigned):
        state = PresenceState.BUSY  # still on a contact (e.g. another chat)
    if state in ROUTABLE and old not in ROUTABLE:
        profile.idle_since = now
    if state != old or reason != profile.presence_reason:
        profile.presence_since = now
    profile.presence, profile.presence_reason = state, reason
    profile.not_responding = False  # any presence change re-arms the agent
    if state != PresenceState.WRAP_UP:
        profile.wrapup_until = None
    fastsql.save_fields(profile, ("presence", "presence_reason", "presence_since", "not_responding", "idle_since",
                                  "wrapup_until"))
    return old


def _rescind_pending(user_id: int, reason: str, actor: Any) -> None:
    """An agent who leaves the routable states gives back the offers ringing at them."""
    pending = list(Reservation.objects.select_related("task").filter(agent_id=user_id,
                                                                     status=ReservationStatus.PENDING))
    for res in pending:
        res.status = ReservationStatus.RESCINDED
        res.save(update_fields=["status"])
        Task.objects.filter(pk=res.task_id, status=TaskStatus.RESERVED).update(status=TaskStatus.QUEUED)
        task_event(res.task, "task.rescinded", actor, reservation_id=res.pk, agent_id=user_id, reason=reason)
        _offer_cancelled(res, reason)


def set_presence(actor: Any, agent_user: User | int, state: str, reason: str = "", *,
                 tenant: Tenant | int | None = None, now: datetime | None = None) -> AgentProfile:
    """The agent (or a supervisor of a tenant the agent serves) sets the agent's presence."""
    user_id = agent_user if isinstance(agent_user, int) else agent_user.pk
    if state not in SETTABLE:
        raise ActionError("invalid_state", f"Presence must be one of: {', '.join(SETTABLE)}.",
                          {"state": ["not a settable presence"]})
    reason = (reason or "").strip()
    if len(reason) > 100:
        raise ActionError("invalid_value", "The reason is too long (100 characters at most).",
                          {"reason": ["at most 100 characters"]})
    tenant_ids = agent_tenant_ids(user_id)
    if tenant is not None:
        tid = tenant_id_of(tenant)
        if tid not in tenant_ids:
            raise NotFound("agent")
        _require_self_or_supervisor(actor, user_id, tid)
    elif actor is not None and actor.pk != user_id and not is_platform_admin(actor) and not any(
            _role(actor, t) == Role.SUPERVISOR for t in tenant_ids):
        raise PermissionDenied("routing.supervise", "only the agent or a supervisor may do this")
    now = now or timezone.now()
    with transaction.atomic():
        profile = _profile_for_update(user_id)
        was_routable = profile.presence in ROUTABLE
        old = set_state(profile, state, reason, now)
        if was_routable and profile.presence not in ROUTABLE:
            _rescind_pending(user_id, "presence", actor)
        _presence_changed(profile, old, actor, tenant_ids)
    return profile


def finish_wrapup(actor: Any, agent_user: User | int, *, tenant: Tenant | int | None = None,
                  now: datetime | None = None) -> AgentProfile:
    """After-call work done: the agent's wrapped-up tasks are completed and the agent is ready again."""
    user_id = agent_user if isinstance(agent_user, int) else agent_user.pk
    tenant_ids = agent_tenant_ids(user_id)
    if tenant is not None:
        if tenant_id_of(tenant) not in tenant_ids:
            raise NotFound("agent")
        _require_self_or_supervisor(actor, user_id, tenant_id_of(tenant))
    elif actor is not None and actor.pk != user_id and not is_platform_admin(actor):
        raise PermissionDenied("routing.supervise", "only the agent or a supervisor may do this")
    now = now or timezone.now()
    with transaction.atomic():
        profile = _profile_for_update(user_id)
        if profile.presence != PresenceState.WRAP_UP:
            raise Conflict("not_in_wrapup", "The agent is not in wrap-up.")
        end_wrapup(profile, now, actor, tenant_ids)
    return profile


def end_wrapup(profile: AgentProfile, now: datetime, actor: Any, tenant_ids: Iterable[int]) -> None:
    """On a locked profile in wrap-up: complete its wrapped-up tasks, make it available (or busy)."""
    for task in Task.objects.filter(assigned_to_id=profile.user_id, status=TaskStatus.WRAP_UP):
        task.status = TaskStatus.COMPLETED
        task.save(update_fields=["status"])
    old = set_state(profile, PresenceState.AVAILABLE, "", now)
    _presence_changed(profile, old, actor, tenant_ids)


# --- tasks ---------------------------------------------------------------------------------------

def _resolve_queue(tenant_id: int, queue: Queue | int | str, *, loaded: bool = False) -> Queue:
    """The tenant's active queue; with ``loaded``, a Queue the caller read in this same request is
    checked as it is (tenant and active flag) instead of being read again."""
    if loaded and isinstance(queue, Queue):
        if queue.tenant_id != tenant_id or not queue.is_active:
            raise ActionError("invalid_queue", "No such active queue in this tenant.", {"queue": ["unknown queue"]})
        return queue
    qs = Queue.objects.filter(tenant_id=tenant_id, is_active=True)
    if isinstance(queue, Queue):
        found = qs.filter(pk=queue.pk).first()
    elif isinstance(queue, int):
        found = qs.filter(pk=queue).first()
    else:
        found = qs.filter(code=str(queue)).first()
    if found is None:
        raise ActionError("invalid_queue", "No such active queue in this tenant.", {"queue": ["unknown queue"]})
    return found


def _check_skills(skills: Any) -> dict[str, int]:
    if not isinstance(skills, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10
            for k, v in skills.items()):
        raise ActionError("invalid_value", "Skills are {name: level 1-10}.",
                          {"required_skills": ["expected {name: level 1-10}"]})
    return skills


def _check_task_input(channel: str, queue: Queue, language: str, priority: int, external_id: str | None,
                      attributes: Any) -> None:
    errors: dict[str, list[str]] = {}
    if channel not in CHANNELS:
        errors["channel"] = [f"one of {', '.join(CHANNELS)}"]
    elif channel not in (queue.channels or []):
        errors["channel"] = [f"queue {queue.code} does not serve {channel}"]
    if len(language) > 8:
        errors["language"] = ["at most 8 characters"]
    if not -1000 <= priority <= 1000:
        errors["priority"] = ["between -1000 and 1000"]
    if external_id is not None and not 0 < len(external_id) <= 200:
        errors["external_id"] = ["1 to 200 characters"]
    if not isinstance(attributes, dict):
        errors["attributes"] = ["expected an object"]
    if errors:
        raise ActionError("invalid_task", "Check the task fields.", errors)


def _task_by_external_id(tenant_id: int, external_id: str) -> Task | None:
    sql = (f"SELECT {fastsql.cols(Task, 't')} FROM {fastsql.table(Task)} t "  # noqa: S608
           "WHERE t.tenant_id = %s AND t.external_id = %s ORDER BY t.queued_at, t.id LIMIT 1")
    row = fastsql.fetch_one(sql, [tenant_id, external_id])
    return fastsql.load(Task, row) if row is not None else None


def create_intake_task(tenant: Tenant | int, *, channel: str, queue: Queue | str, language: str,
                       **task: Any) -> Task:
    """A new customer contact (chat, email, web form) enters a queue, read once. The customer's language
    is a routing requirement only where the queue names it as a working language: a customer writing in
    English must still reach a Russian-speaking team rather than wait for an English-speaking agent it does
    not have. ``task``: create_task's other arguments."""
    q = _resolve_queue(tenant_id_of(tenant), queue, loaded=isinstance(queue, Queue))
    return create_task(None, tenant, channel=channel, queue=q, queue_loaded=True,
                       language=language if language in (q.languages or []) else "", **task)


def create_task(actor: Any, tenant: Tenant | int, *, channel: str, queue: Queue | int | str, language: str = "",
                required_skills: dict[str, int] | None = None, priority: int | None = 0,
                external_id: str | None = None, ticket: Ticket | None = None,
                interaction: Interaction | None = None, attributes: dict[str, Any] | None = None,
                now: datetime | None = None, queue_loaded: bool = False) -> Task:
    """A routable item enters a queue. Idempotent by external_id (the same id returns the same task).
    ``queue_loaded``: ``queue`` is a Queue read in this request; it is not read again."""
    tenant_id = tenant_id_of(tenant)
    _require_member(actor, tenant_id)
    try:
        q = _resolve_queue(tenant_id, queue, loaded=queue_loaded)
        attributes = {} if attributes is None else attributes
        _check_task_input(channel, q, language or "", priority or 0, external_id or None, attributes)
        skills = _check_skills(required_skills or {})
        for obj in (ticket, interaction):
            if obj is not None and obj.tenant_id != tenant_id:
                raise ActionError("invalid_value", "The ticket or interaction belongs to another tenant.")
    except ActionError:
        existing = _task_by_external_id(tenant_id, external_id) if external_id else None
        if existing is not None:
            return existing  # the same id returns the same task, whatever changed in the queue since
        raise
    now = now or timezone.now()
    # The unique tenant + external id decides, in the insert itself: when a task with this id is there
    # (made earlier, or by a parallel request that committed first), nothing is written and that task is
    # returned. So no read before the insert and no savepoint for the race; nothing below raises by design.
    with transaction.atomic(savepoint=False):
        task = fastsql.insert_unless_exists(Task(
            tenant_id=tenant_id, channel=channel, queue=q, language=language or "", required_skills=skills,
            priority=priority if priority else None, queued_at=now, stage_started_at=now,
            ticket=ticket, interaction=interaction, external_id=external_id or None, attributes=attributes),
            or_nothing=bool(external_id))
        if task is None:
            existing = _task_by_external_id(tenant_id, external_id or "")
            if existing is None:  # deleted in between: the caller may try again
                raise IntegrityError(f"task {external_id!r} conflicted but is not there")
            return existing
        task_event(task, "task.created", actor, external_id=task.external_id)
        _queue_stats_soon(tenant_id)
    return task


def _reservation_for(actor: Any, reservation_id: int, tenant: Tenant | int | None) -> Reservation:
    row = fastsql.fetch_one(f"SELECT tenant_id, agent_id FROM {fastsql.table(Reservation)} WHERE id = %s",  # noqa: S608
                            [reservation_id])
    if row is None:
        raise NotFound("offer")
    res = Reservation(pk=reservation_id, tenant_id=row[0], agent_id=row[1])
    _check_offer_access(actor, res, tenant)
    return res


def _check_offer_access(actor: Any, res: Reservation, tenant: Tenant | int | None) -> None:
    _check_tenant(res.tenant_id, tenant)
    if _role(actor, res.tenant_id) is None:
        raise NotFound("offer")
    _require_self_or_supervisor(actor, res.agent_id, res.tenant_id)


def _locked_offer(actor: Any, reservation_id: int,
                  tenant: Tenant | int | None) -> tuple[Reservation, AgentProfile, list[int] | None]:
    """Inside the transaction: the offer, checked as _reservation_for does, locked in the routing order
    (tenant, agent, reservation and task) with its task, queue and agent's profile.

    SQLite: one read (BEGIN IMMEDIATE already made this the only writer; a refusal rolls back an empty
    transaction). PostgreSQL: the tenant id first (the tenant's lock comes before the rows), then one read
    that locks the agent, reservation and task rows; every writer of this tenant holds its lock, and the
    agent row is the only one another tenant's writer may want, so the order inside the statement is free.
    Also the agent's tenant ids when that is one tenant (None: read them when needed)."""
    if connection.vendor != "sqlite":
        checked = _reservation_for(actor, reservation_id, tenant)
        lock_tenant(checked.tenant_id)
    tenants = _tenant_ids_sql("p")
    sql = (f"SELECT {fastsql.cols(Reservation, 'r')}, {fastsql.cols(Task, 't')}, {fastsql.cols(Queue, 'q')}, "  # noqa: S608
           f"{fastsql.cols(AgentProfile, 'p')}, {tenants} FROM {fastsql.table(Reservation)} r "
           f"JOIN {fastsql.table(Task)} t ON t.id = r.task_id JOIN {fastsql.table(Queue)} q ON q.id = t.queue_id "
           f"JOIN {fastsql.table(AgentProfile)} p ON p.user_id = r.agent_id "
           f"WHERE r.id = %s{fastsql.for_update('r', 't', 'p')}")
    row = fastsql.fetch_one(sql, [reservation_id])
    if row is None:  # no such offer, or its agent has no profile yet: the general way (creates the profile)
        return (*_locked_reservation(_reservation_for(actor, reservation_id, tenant)), None)
    locked = fastsql.load(Reservation, row)
    at = fastsql.width(Reservation)
    task = fastsql.load(Task, row, at)
    at += fastsql.width(Task)
    fastsql.attach(task, "queue", fastsql.load(Queue, row, at))
    fastsql.attach(locked, "task", task)
    if connection.vendor == "sqlite":
        _check_offer_access(actor, locked, tenant)
    return locked, fastsql.load(AgentProfile, row, at + fastsql.width(Queue)), _tenant_ids_of(row[-2], row[-1])


def _locked_reservation(res: Reservation) -> tuple[Reservation, AgentProfile]:
    lock_tenant(res.tenant_id)
    profile = lock_agents([res.agent_id]).get(res.agent_id) or _profile_for_update(res.agent_id)
    sql = (f"SELECT {fastsql.cols(Reservation, 'r')}, {fastsql.cols(Task, 't')}, {fastsql.cols(Queue, 'q')} "  # noqa: S608
           f"FROM {fastsql.table(Reservation)} r JOIN {fastsql.table(Task)} t ON t.id = r.task_id "
           f"JOIN {fastsql.table(Queue)} q ON q.id = t.queue_id WHERE r.id = %s{fastsql.for_update('r', 't')}")
    row = fastsql.fetch_one(sql, [res.pk])
    if row is None:
        raise NotFound("offer")
    locked = fastsql.load(Reservation, row)
    task = fastsql.load(Task, row, fastsql.width(Reservation))
    fastsql.attach(task, "queue", fastsql.load(Queue, row, fastsql.width(Reservation) + fastsql.width(Task)))
    fastsql.attach(locked, "task", task)
    return locked, profile


def accept_offer(actor: Any, reservation_id: int, *, tenant: Tenant | int | None = None,
                 now: datetime | None = None) -> Task:
    """The offered agent takes the task. An expired, declined or withdrawn offer: 409 offer_expired."""
    now = now or timezone.now()
    with events.atomic():
        res, profile, tenant_ids = _locked_offer(actor, reservation_id, tenant)
        if res.status != ReservationStatus.PENDING or res.expires_at <= now:
            raise Conflict("offer_expired", "This offer has expired or was withdrawn.")
        res.status, res.responded_at = ReservationStatus.ACCEPTED, now
        fastsql.save_fields(res, ("status", "responded_at"))
        task = res.task
        task.status, task.assigned_to_id, task.answered_at = TaskStatus.ASSIGNED, res.agent_id, now
        fastsql.save_fields(task, ("status", "assigned_to", "answered_at"))
        profile.idle_since = now
        old = profile.presence
        if old == PresenceState.AVAILABLE:
            profile.presence, profile.presence_since = PresenceState.BUSY, now
        fastsql.save_fields(profile, ("idle_since", "presence", "presence_since"))
        task_event(task, "task.accepted", actor, reservation_id=res.pk, agent_id=res.agent_id,
                   wait_seconds=round((now - task.queued_at).total_seconds(), 3))
        if old != profile.presence:
            _presence_changed(profile, old, actor, agent_tenant_ids(profile.user_id, tenant_ids))
        realtime.publish(realtime.agent_group(res.agent_id), {"kind": "task_assigned", "task": task_brief(task)})
        _queue_stats_soon(task.tenant_id)
    return task


def decline_offer(actor: Any, reservation_id: int, *, tenant: Tenant | int | None = None,
                  now: datetime | None = None) -> None:
    """The agent refuses: the task goes back to its place and is not offered to this agent again."""
    now = now or timezone.now()
    with transaction.atomic():
        res, _profile, _tenant_ids = _locked_offer(actor, reservation_id, tenant)
        if res.status != ReservationStatus.PENDING:
            raise Conflict("offer_expired", "This offer has expired or was withdrawn.")
        res.status, res.responded_at = ReservationStatus.DECLINED, now
        res.save(update_fields=["status", "responded_at"])
        task = res.task
        task.status = TaskStatus.QUEUED
        if res.agent_id not in task.excluded_agents:
            task.excluded_agents = [*task.excluded_agents, res.agent_id]
        task.save(update_fields=["status", "excluded_agents"])
        task_event(task, "task.declined", actor, reservation_id=res.pk, agent_id=res.agent_id)
        _offer_cancelled(res, "declined")


def _task_for(actor: Any, task_id: int, tenant: Tenant | int | None, *, holder_only: bool = True) -> Task:
    """The task, checked: another tenant's is missing; with holder_only, only its agent or a supervisor."""
    row = fastsql.fetch_one(f"SELECT tenant_id, assigned_to_id FROM {fastsql.table(Task)} WHERE id = %s",  # noqa: S608
                            [task_id])
    if row is None:
        raise NotFound("task")
    task = Task(pk=task_id, tenant_id=row[0], assigned_to_id=row[1])
    _check_tenant(task.tenant_id, tenant)
    role = _role(actor, task.tenant_id)
    if role is None:
        raise NotFound("task")
    if holder_only and role != Role.SUPERVISOR:
        holder = task.assigned_to_id == actor.pk or Reservation.objects.filter(
            task_id=task_id, status=ReservationStatus.PENDING, agent_id=actor.pk).exists()
        if not holder:
            raise PermissionDenied("routing.supervise", "only the task's agent or a supervisor may do this")
    return task


def _locked_task(task_id: int, tenant_id: int, agent_ids: Iterable[int]) -> tuple[Task, dict[int, AgentProfile]]:
    lock_tenant(tenant_id)
    profiles = lock_agents(agent_ids)
    sql = (f"SELECT {fastsql.cols(Task, 't')}, {fastsql.cols(Queue, 'q')} FROM {fastsql.table(Task)} t "  # noqa: S608
           f"JOIN {fastsql.table(Queue)} q ON q.id = t.queue_id WHERE t.id = %s{fastsql.for_update('t', 'q')}")
    row = fastsql.fetch_one(sql, [task_id])
    if row is None:
        raise NotFound("task")
    task = fastsql.load(Task, row)
    fastsql.attach(task, "queue", fastsql.load(Queue, row, fastsql.width(Task)))
    return task, profiles


def _check_disposition(tenant_id: int, disposition: str) -> str:
    disposition = (disposition or "").strip()
    if disposition and not Disposition.objects.filter(tenant_id=tenant_id, code=disposition,
                                                      is_active=True).exists():
        raise ActionError("invalid_disposition", "Unknown disposition code.",
                          {"disposition": ["not a disposition code of this tenant"]})
    return disposition


def link_ticket(actor: Any, task_id: int, ticket: Ticket) -> Task:
    """The agent registered `ticket` for this contact: the task and its interaction now point to it."""
    found = _task_for(actor, task_id, ticket.tenant_id)
    with transaction.atomic():
        task = Task.objects.select_for_update(of=("self",)).select_related("interaction").get(pk=found.pk)
        task.ticket = ticket
        task.save(update_fields=["ticket"])
        interaction = task.interaction
        if interaction is not None:
            interaction.ticket = ticket
            interaction.contact_id = interaction.contact_id or ticket.contact_id
            interaction.save(update_fields=["ticket", "contact"])
        emit(task.tenant_id, "task.ticket_linked", ticket=ticket, actor=actor,
             data={"task_id": task.pk, "interaction_id": task.interaction_id})
    return task


def record_first_response(actor: Any, ticket: Ticket, at: datetime | None = None) -> list[int]:
    """An agent sent a public reply on ``ticket``: chat tasks linked to it (directly or through their
    interaction) that entered their queue by then and have no first response yet get ``at`` as their
    first response (GLOSSARY: chat service level is over first response time). Called by
    tickets.actions.add_message; returns the ids of the tasks it changed."""
    if actor is None:
        return []  # automatic messages are not an agent's response
    at = at or timezone.now()
    waiting = _waiting_first_response(ticket, at)
    if not waiting:
        return []  # the usual case: every reply after the first one in a chat
    require(actor, Perm.TICKETS_CHANGE, ticket.tenant_id)  # whoever may reply on the ticket
    with transaction.atomic():
        # one statement locks, re-checks and sets them (a concurrent reply may have set them meanwhile)
        table = fastsql.table(Task)
        rows = fastsql.fetch(
            f"UPDATE {table} SET first_response_at = %s WHERE id IN ({fastsql.placeholders(len(waiting))}) "  # noqa: S608
            f"AND tenant_id = %s AND first_response_at IS NULL RETURNING {fastsql.cols(Task, table)}",
            [fastsql.dt(at), *waiting, ticket.tenant_id])
        tasks = sorted((fastsql.load(Task, row) for row in rows), key=lambda t: t.pk)
        if not tasks:
            return []
        for task in tasks:
            task_event(task, "task.first_response", actor, agent_id=getattr(actor, "pk", None),
                       response_seconds=round((at - task.queued_at).total_seconds(), 3))
        _queue_stats_soon(ticket.tenant_id)
    return [t.pk for t in tasks]


def _waiting_first_response(ticket: Ticket, at: datetime) -> list[int]:
    """Ids of the ticket's chat tasks that wait for their first response (queued by ``at``): one plain read
    on every agent reply, in two branches so that each uses its own index (an OR over the join makes SQLite
    scan all of the tenant's tasks). The caller locks what it found."""
    task, interaction = fastsql.table(Task), fastsql.table(Interaction)
    waiting = (f"SELECT t.id FROM {task} t WHERE {{}} AND t.first_response_at IS NULL "  # noqa: S608
               f"AND t.channel IN ({fastsql.placeholders(len(FIRST_RESPONSE_CHANNELS))}) AND t.queued_at <= %s")
    direct = waiting.format("t.ticket_id = %s")
    through = waiting.format(f"t.interaction_id IN (SELECT i.id FROM {interaction} i WHERE i.ticket_id = %s)")  # noqa: S608
    conds = [*FIRST_RESPONSE_CHANNELS, fastsql.dt(at)]
    rows = fastsql.fetch(f"{direct} UNION {through}", [ticket.pk, *conds, ticket.pk, *conds])
    return [int(row[0]) for row in rows]


def first_response(actor: Any, task_id: int, *, tenant: Tenant | int | None = None,
                   now: datetime | None = None) -> Task:
    """The task's agent sent its first public reply in a chat that has no ticket to hook (the chat
    channel or the desk calls this; replies on a linked ticket are recorded by add_message). Only the
    first call counts; later ones change nothing. Only an assigned chat task can have one."""
    found = _task_for(actor, task_id, tenant)
    now = now or timezone.now()
    with transaction.atomic():
        task = Task.objects.select_for_update(of=("self",)).get(pk=found.pk)
        if task.channel not in FIRST_RESPONSE_CHANNELS or task.status != TaskStatus.ASSIGNED:
            raise Conflict("invalid_state", "Only an assigned chat task records a first response.")
        if task.first_response_at is None:
            task.first_response_at = now
            task.save(update_fields=["first_response_at"])
            task_event(task, "task.first_response", actor, agent_id=task.assigned_to_id,
                       response_seconds=round((now - task.queued_at).total_seconds(), 3))
            _queue_stats_soon(task.tenant_id)
    return task


def complete_task(actor: Any, task_id: int, disposition: str = "", *, tenant: Tenant | int | None = None,
                  now: datetime | None = None, _found: Task | None = None, _savepoint: bool = True) -> Task:
    """The conversation ended: the agent goes to wrap-up for the queue's after-call-work time.

    ``_found`` (the system only, no tenant): the task's tenant and agent as the caller just read them, so
    they are not read again. ``_savepoint=False``: the caller's own savepoint undoes a refusal."""
    found = _found if _found is not None and actor is None and tenant is None else _task_for(actor, task_id, tenant)
    now = now or timezone.now()
    with events.atomic(savepoint=_savepoint):
        task, profile, assigned, tenant_ids = _locked_task_of_agent(task_id, found.tenant_id, found.assigned_to_id or 0)
        if task.status != TaskStatus.ASSIGNED or task.assigned_to_id is None:
            raise Conflict("invalid_state", f"Only an assigned task can be completed (this one is {task.status}).")
        task.disposition = _check_disposition(task.tenant_id, disposition)
        wrapup = task.queue.wrapup_seconds
        task.status = TaskStatus.WRAP_UP if wrapup else TaskStatus.COMPLETED
        task.ended_at = now
        fastsql.save_fields(task, ("status", "ended_at", "disposition"))
        fastsql.execute(f"UPDATE {fastsql.table(Reservation)} SET status = %s WHERE task_id = %s AND status = %s",  # noqa: S608
                        [ReservationStatus.COMPLETED, task.pk, ReservationStatus.ACCEPTED])
        task_event(task, "task.completed", actor, agent_id=task.assigned_to_id, disposition=task.disposition,
                   handle_seconds=round((now - (task.answered_at or now)).total_seconds(), 3))
        realtime.publish(realtime.agent_group(task.assigned_to_id), {"kind": "task_ended", "task_id": task.pk})
        if profile is None or profile.user_id != task.assigned_to_id:  # it changed hands before the lock
            profile, assigned, tenant_ids = _profile_for_update(task.assigned_to_id), None, None
        # Counted under the agent's lock while this task was still assigned to them: one fewer now.
        _after_release(profile, now, actor, wrapup_seconds=wrapup, assigned=None if assigned is None else assigned - 1,
                       tenant_ids=tenant_ids)
        _queue_stats_soon(task.tenant_id)
    return task


def _locked_task_of_agent(task_id: int, tenant_id: int,
                          agent_id: int) -> tuple[Task, AgentProfile | None, int | None, list[int] | None]:
    """_locked_task for a task and its one agent in one read, with the agent's count of assigned tasks
    (this one included while it is) on SQLite; (task, None, None) when the agent has no profile.

    On PostgreSQL the count is left to a read of its own after the locks: a sub-select in a statement that
    waited for a row lock still sees the snapshot from before the wait (the locked rows themselves are
    re-read at their latest version). Also the agent's tenant ids when that is one tenant."""
    lock_tenant(tenant_id)
    count = "NULL"
    if connection.vendor == "sqlite":  # BEGIN IMMEDIATE: nothing changes between the snapshot and the locks
        count = (f"SELECT COUNT(*) FROM {fastsql.table(Task)} a "  # noqa: S608
                 f"WHERE a.assigned_to_id = p.user_id AND a.status = {fastsql.literals(TaskStatus.ASSIGNED)}")
    tenants = _tenant_ids_sql("p")
    sql = (f"SELECT {fastsql.cols(Task, 't')}, {fastsql.cols(Queue, 'q')}, {fastsql.cols(AgentProfile, 'p')}, "  # noqa: S608
           f"({count}), {tenants} FROM {fastsql.table(Task)} t JOIN {fastsql.table(Queue)} q ON q.id = t.queue_id "
           f"JOIN {fastsql.table(AgentProfile)} p ON p.user_id = %s WHERE t.id = %s{fastsql.for_update('t', 'q', 'p')}")
    row = fastsql.fetch_one(sql, [agent_id, task_id])
    if row is None:  # no such task, or no profile for the agent: the general way
        task, profiles = _locked_task(task_id, tenant_id, [agent_id])
        return task, profiles.get(agent_id), None, None
    task = fastsql.load(Task, row)
    at = fastsql.width(Task)
    fastsql.attach(task, "queue", fastsql.load(Queue, row, at))
    at += fastsql.width(Queue)
    assigned = row[-3]
    return (task, fastsql.load(AgentProfile, row, at), None if assigned is None else int(assigned),
            _tenant_ids_of(row[-2], row[-1]))


def _after_release(profile: AgentProfile, now: datetime, actor: Any, *, wrapup_seconds: int = 0,
                   assigned: int | None = None, tenant_ids: list[int] | None = None) -> None:
    """An agent's task ended or moved away: wrap-up, or ready again when nothing else is on.
    ``assigned``: the agent's assigned tasks now, when the caller counted them under the agent's lock;
    ``tenant_ids``: agent_tenant_ids when the caller has them."""
    tenant_ids = agent_tenant_ids(profile.user_id, tenant_ids)
    if wrapup_seconds and profile.presence in (*ROUTABLE, PresenceState.WRAP_UP):
        old = profile.presence
        until = now + timedelta(seconds=wrapup_seconds)
        profile.wrapup_until = max(until, profile.wrapup_until or until)
        if old != PresenceState.WRAP_UP:
            profile.presence, profile.presence_since, profile.presence_reason = PresenceState.WRAP_UP, now, ""
        fastsql.save_fields(profile, ("presence", "presence_since", "presence_reason", "wrapup_until"))
        if old != profile.presence:
            _presence_changed(profile, old, actor, tenant_ids)
        realtime.publish(realtime.agent_group(profile.user_id),
                         {"kind": "wrap_up", "until": profile.wrapup_until.isoformat()})
    elif profile.presence == PresenceState.BUSY and not (
            _assigned_count(profile.user_id) if assigned is None else assigned):
        old = set_state(profile, PresenceState.AVAILABLE, "", now, assigned=0)
        _presence_changed(profile, old, actor, tenant_ids)


def _release_holder(task: Task, now: datetime, actor: Any, profiles: dict[int, AgentProfile]) -> int | None:
    """Take the task away from whoever holds or is offered it; that agent is excluded for this task."""
    holder: int | None = None
    for res in Reservation.objects.select_for_update().filter(task_id=task.pk, status__in=(
            ReservationStatus.PENDING, ReservationStatus.ACCEPTED)):
        holder = res.agent_id
        was_pending = res.status == ReservationStatus.PENDING
        res.status = ReservationStatus.RESCINDED if was_pending else ReservationStatus.COMPLETED
        res.save(update_fields=["status"])
        if was_pending:
            _offer_cancelled(res, "moved")
        else:
            realtime.publish(realtime.agent_group(res.agent_id), {"kind": "task_ended", "task_id": task.pk})
    was_assigned = task.status == TaskStatus.ASSIGNED
    if holder is not None and holder not in task.excluded_agents:
        task.excluded_agents = [*task.excluded_agents, holder]
    task.status, task.assigned_to_id = TaskStatus.QUEUED, None
    if was_assigned and holder is not None:
        task.save(update_fields=["status", "assigned_to"])  # the holder's load drops before the check
        _after_release(profiles.get(holder) or _profile_for_update(holder), now, actor)
    return holder


def _free_for(profile: AgentProfile, channel: str) -> bool:
    """The engine's rule for one agent and channel (routable, no pending offer on it, capacity, blocks)."""
    if profile.presence not in ROUTABLE or profile.not_responding:
        return False
    assigned = Counter(Task.objects.filter(assigned_to_id=profile.user_id, status=TaskStatus.ASSIGNED)
                       .values_list("channel", flat=True))
    pending = Counter(Reservation.objects.filter(agent_id=profile.user_id, status=ReservationStatus.PENDING)
                      .values_list("task__channel", flat=True))
    if pending[channel]:
        return False
    working = {c for c in CHANNELS if assigned[c] or pending[c]}
    if any(channel in DEFAULT_BLOCKS.get(c, frozenset()) for c in working):
        return False
    return assigned[channel] < profile.capacity_for(channel)


def _offer_directly(task: Task, profile: AgentProfile, now: datetime, actor: Any) -> Reservation:
    res = Reservation.objects.create(
        tenant_id=task.tenant_id, task=task, agent_id=profile.user_id, offered_at=now,
        expires_at=now + timedelta(seconds=task.queue.offer_timeout_seconds))
    task.status = TaskStatus.RESERVED
    profile.last_offer_at = now
    profile.save(update_fields=["last_offer_at"])
    task_event(task, "task.offered", actor, reservation_id=res.pk, agent_id=profile.user_id, direct=True)
    publish_offer(res, task)
    return res


def publish_offer(res: Reservation, task: Task) -> None:
    realtime.publish(realtime.agent_group(res.agent_id), {
        "kind": "offer", "reservation_id": res.pk, "task": task_brief(task),
        "expires_at": res.expires_at.isoformat()})


def _target_agent(tenant_id: int, to_agent: User | int) -> int:
    agent_id = to_agent if isinstance(to_agent, int) else to_agent.pk
    if agent_id not in set(Membership.objects.filter(tenant_id=tenant_id, role__in=ROUTING_ROLES)
                           .values_list("user_id", flat=True)):
        raise ActionError("invalid_agent", "No such agent in this tenant.", {"to_agent": ["unknown agent"]})
    return agent_id


def transfer_task(actor: Any, task_id: int, *, to_queue: Queue | int | str | None = None,
                  to_agent: User | int | None = None, tenant: Tenant | int | None = None,
                  now: datetime | None = None, _kind: str = "task.transferred",
                  _attributes: dict[str, Any] | None = None) -> Task:
    """Blind transfer to a queue (keeps the FIFO position) or to one agent (an offer, capacity respected)."""
    if (to_queue is None) == (to_agent is None):
        raise ActionError("invalid_target", "Give exactly one of to_queue and to_agent.",
                          {"to_queue": ["or to_agent"]})
    found = _task_for(actor, task_id, tenant)
    target_queue = _resolve_queue(found.tenant_id, to_queue) if to_queue is not None else None
    target_agent = _target_agent(found.tenant_id, to_agent) if to_agent is not None else None
    now = now or timezone.now()
    with transaction.atomic():
        holders = list(Reservation.objects.filter(task_id=task_id, status__in=(
            ReservationStatus.PENDING, ReservationStatus.ACCEPTED)).values_list("agent_id", flat=True))
        task, profiles = _locked_task(task_id, found.tenant_id, [*holders, *([target_agent] if target_agent else [])])
        if task.status not in OPEN_TASK:
            raise Conflict("invalid_state", f"A {task.status} task cannot be moved.")
        if target_queue is not None and task.channel not in (target_queue.channels or []):
            raise ActionError("invalid_queue", f"Queue {target_queue.code} does not serve {task.channel}.",
                              {"to_queue": ["does not serve this channel"]})
        from_queue, from_agent = task.queue, _release_holder(task, now, actor, profiles)
        if target_agent is not None and target_agent == from_agent:
            raise ActionError("invalid_agent", "The task is already with this agent.", {"to_agent": ["same agent"]})
        if target_queue is not None:
            task.queue, task.stage_started_at = target_queue, now
        if _attributes:
            task.attributes = {**task.attributes, **_attributes}
        if target_agent is not None:
            profile = profiles.get(target_agent) or _profile_for_update(target_agent)
            if not _free_for(profile, task.channel):
                raise Conflict("agent_unavailable", "That agent is not available for this channel now.")
            task.excluded_agents = [a for a in task.excluded_agents if a != target_agent]
            _offer_directly(task, profile, now, actor)
        task.save()
        task_event(task, _kind, actor, from_queue_id=from_queue.pk, to_queue_id=task.queue_id,
                   from_agent_id=from_agent, to_agent_id=target_agent, **(_attributes or {}))
        _queue_stats_soon(task.tenant_id)
    return task


def _escalation_queue(task: Task) -> Queue:
    queue = task.queue
    if queue.escalation_queue_id is not None:
        target = Queue.objects.filter(pk=queue.escalation_queue_id, is_active=True).first()
        if target is not None:
            return target
    for candidate in Queue.objects.filter(tenant_id=task.tenant_id, is_active=True, tier__gt=queue.tier).order_by(
            "tier", "-priority", "code"):
        if task.channel in (candidate.channels or []):
            return candidate
    raise ActionError("no_escalation_queue", "There is no second-line queue for this channel.")


def escalate_task(actor: Any, task_id: int, note: str = "", *, tenant: Tenant | int | None = None,
                  now: datetime | None = None) -> Task:
    """To the second line: the tier-2 queue gets the task with its context (note, from queue, by whom)."""
    if len(note or "") > 2000:
        raise ActionError("invalid_value", "The note is too long.", {"note": ["at most 2000 characters"]})
    found = _task_for(actor, task_id, tenant)
    task = Task.objects.select_related("queue").get(pk=found.pk)
    target = _escalation_queue(task)
    context = {"context": note or "", "escalated_from": task.queue.code,
               "escalated_by": getattr(actor, "pk", None), "escalated_at": (now or timezone.now()).isoformat()}
    return transfer_task(actor, task_id, to_queue=target, tenant=tenant, now=now, _kind="task.escalated",
                         _attributes=context)


def abandon_task(actor: Any, task_id: int, reason: str = "", *, tenant: Tenant | int | None = None,
                 now: datetime | None = None) -> Task:
    """The customer hung up or left before an agent accepted."""
    found = _task_for(actor, task_id, tenant, holder_only=False)
    now = now or timezone.now()
    with transaction.atomic():
        holders = list(Reservation.objects.filter(task_id=task_id, status=ReservationStatus.PENDING)
                       .values_list("agent_id", flat=True))
        task, _profiles = _locked_task(task_id, found.tenant_id, holders)
        if task.status not in (TaskStatus.QUEUED, TaskStatus.RESERVED):
            raise Conflict("invalid_state", f"Only a waiting task can be abandoned (this one is {task.status}).")
        for res in Reservation.objects.filter(task_id=task.pk, status=ReservationStatus.PENDING):
            res.status = ReservationStatus.RESCINDED
            res.save(update_fields=["status"])
            _offer_cancelled(res, "abandoned")
        task.status, task.ended_at = TaskStatus.ABANDONED, now
        task.attributes = {**task.attributes, "abandon_reason": (reason or "")[:200]}
        task.save(update_fields=["status", "ended_at", "attributes"])
        task_event(task, "task.abandoned", actor, reason=(reason or "")[:200],
                   waited_seconds=round((now - task.queued_at).total_seconds(), 3))
        _queue_stats_soon(task.tenant_id)
    return task


# --- the dispatcher (dispatcher.py) is an action too: the entry points are here with the others ---------

def dispatch(tenant: Tenant | int, *, now: datetime | None = None) -> list[Reservation]:
    """Run the engine for the tenant and persist its offers (serialised per tenant)."""
    from linia.routing import dispatcher

    return dispatcher.dispatch(tenant, now=now)


def dispatch_after_change(tenant_ids: Iterable[int]) -> None:
    """Offer at once after a change that may free an agent or add a task (REST, websocket, PBX).

    The change itself is already committed (unless the caller is inside a transaction: then the dispatch runs
    in it, on its own, as only this connection sees the change); if a dispatch fails, the periodic tick
    retries it.
    """
    from linia.routing import dispatcher

    for tenant_id in tenant_ids:
        try:
            if transaction.get_connection().in_atomic_block:
                dispatch(tenant_id)
            else:
                dispatcher.dispatch_after_commit(tenant_id)
        except Exception:
            log.exception("dispatch after a change failed (tenant %s)", tenant_id)


def expire_reservations(now: datetime | None = None) -> int:
    """Ring-no-answer for all tenants (also at start-up, after a crash); returns how many expired."""
    from linia.routing import dispatcher

    return dispatcher.expire_reservations(now)
