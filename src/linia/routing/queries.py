"""Read paths: the agent's own routing state and the supervisor's live picture (GLOSSARY definitions)."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from linia.core import fastsql
from linia.core.models import Membership, Tenant, User
from linia.directory.hours import HoursError, OpeningHours, opening_hours
from linia.routing.actions import FIRST_RESPONSE_CHANNELS, ROUTING_ROLES
from linia.routing.models import (
    OPEN_TASK,
    AgentProfile,
    BreakReason,
    Disposition,
    PresenceState,
    Queue,
    Reservation,
    ReservationStatus,
    Task,
    TaskStatus,
)
from linia.routing.serialize import iso, queue_stats_payload, task_brief

SHORT_ABANDON_SECONDS = 5  # GLOSSARY: S, excluded in variant B
SNAPSHOT_CACHE_SECONDS = 2
WAITING = (TaskStatus.QUEUED, TaskStatus.RESERVED)

log = logging.getLogger(__name__)


# --- opening hours -----------------------------------------------------------------------------------

_HOURS_CACHE: dict[str, OpeningHours] = {}


def _tenant_zone(queue: Queue) -> str:
    if Queue.tenant.is_cached(queue):
        return queue.tenant.time_zone or "UTC"
    return Tenant.objects.filter(pk=queue.tenant_id).values_list("time_zone", flat=True).first() or "UTC"


def queue_hours(queue: Queue) -> OpeningHours | None:
    """The queue's opening hours (linia.directory.hours, the Store format) in the queue's time zone, or
    the tenant's when the queue has none. None: always open (no weekly hours and no exceptions; with
    exceptions only, the queue is open 24/7 except on those dates). Raises HoursError when broken."""
    weekly: Any = queue.opening_hours or {}
    exceptions: Any = queue.hours_exceptions or {}
    if not weekly and not exceptions:
        return None
    if not isinstance(exceptions, dict):
        raise HoursError('exceptions must be an object such as {"2026-12-25": []}')
    tz = queue.time_zone or _tenant_zone(queue)
    key = repr((weekly, exceptions, tz))
    hours = _HOURS_CACHE.get(key)
    if hours is None:
        hours = opening_hours(weekly or {"always": True}, exceptions, tz)
        if len(_HOURS_CACHE) > 1024:
            _HOURS_CACHE.clear()
        _HOURS_CACHE[key] = hours
    return hours


def safe_queue_hours(queue: Queue) -> OpeningHours | None:
    try:
        return queue_hours(queue)
    except HoursError as exc:  # the admin refuses these; a broken row must not strand the queue's tasks
        log.warning("queue %s: opening hours ignored (%s)", queue.pk, exc)
        return None


def queue_is_open(queue: Queue, at: datetime | None = None) -> bool:
    """Whether the queue takes contacts at ``at`` (default now); broken hours count as always open."""
    hours = safe_queue_hours(queue)
    return hours is None or hours.is_open(at or timezone.now())


def next_opening(queue: Queue, at: datetime | None = None) -> datetime | None:
    """The first instant at or after ``at`` when the queue is open: ``at`` itself when it is open, None
    when it does not open within 14 days (e.g. closed for a long holiday)."""
    at = at or timezone.now()
    hours = safe_queue_hours(queue)
    if hours is None or hours.is_open(at):
        return at
    return hours.next_opening(at)


def queue_open_status(queue: Queue, at: datetime | None = None) -> dict[str, Any]:
    """For the chat widget's offline mode and the voice route answer: open now, next opening (when
    closed), next closing (when open; None for 24/7), and what happens to contacts while closed."""
    at = at or timezone.now()
    hours = safe_queue_hours(queue)
    if hours is None:
        return {"open": True, "next_opening": None, "closes_at": None, "closed_action": queue.closed_action}
    status = hours.status(at)
    return {"open": status.is_open, "next_opening": None if status.is_open else iso(status.changes_at),
            "closes_at": iso(status.changes_at) if status.is_open else None, "closed_action": queue.closed_action}


def _seconds(since: datetime | None, now: datetime) -> float:
    return round((now - since).total_seconds(), 1) if since else 0.0


# The agent's own rows in plain SQL: the desk reads them after every op of every agent.

def _agent_profile(user: User) -> AgentProfile:
    sql = f"SELECT {fastsql.cols(AgentProfile, 'p')} FROM {fastsql.table(AgentProfile)} p WHERE p.user_id = %s"  # noqa: S608
    row = fastsql.fetch_one(sql, [user.pk])
    return fastsql.load(AgentProfile, row) if row is not None else AgentProfile(user=user)


def _tenant_filter(alias: str, tenant: Tenant | None) -> tuple[str, list[Any]]:
    return ("", []) if tenant is None else (f" AND {alias}.tenant_id = %s", [tenant.pk])


def _agent_offers(user_id: int, now: datetime, tenant: Tenant | None) -> list[Reservation]:
    """Ringing offers (with task and queue), oldest first."""
    where, extra = _tenant_filter("r", tenant)
    sql = (f"SELECT {fastsql.cols(Reservation, 'r')}, {fastsql.cols(Task, 't')}, {fastsql.cols(Queue, 'q')} "  # noqa: S608
           f"FROM {fastsql.table(Reservation)} r JOIN {fastsql.table(Task)} t ON t.id = r.task_id "
           f"JOIN {fastsql.table(Queue)} q ON q.id = t.queue_id "
           f"WHERE r.agent_id = %s AND r.status = {fastsql.literals(ReservationStatus.PENDING)} "
           f"AND r.expires_at > %s{where} ORDER BY r.offered_at, r.id")
    offers = []
    for row in fastsql.fetch(sql, [user_id, fastsql.dt(now), *extra]):
        res = fastsql.load(Reservation, row)
        task = fastsql.load(Task, row, fastsql.width(Reservation))
        fastsql.attach(task, "queue", fastsql.load(Queue, row, fastsql.width(Reservation) + fastsql.width(Task)))
        fastsql.attach(res, "task", task)
        offers.append(res)
    return offers


def _agent_tasks(user_id: int, tenant: Tenant | None) -> list[Task]:
    """Tasks on hand (assigned or in wrap-up, with queue), oldest first."""
    where, extra = _tenant_filter("t", tenant)
    sql = (f"SELECT {fastsql.cols(Task, 't')}, {fastsql.cols(Queue, 'q')} FROM {fastsql.table(Task)} t "  # noqa: S608
           f"JOIN {fastsql.table(Queue)} q ON q.id = t.queue_id "
           f"WHERE t.assigned_to_id = %s AND t.status IN ({fastsql.literals(TaskStatus.ASSIGNED, TaskStatus.WRAP_UP)})"
           f"{where} ORDER BY t.queued_at, t.id")
    tasks = []
    for row in fastsql.fetch(sql, [user_id, *extra]):
        task = fastsql.load(Task, row)
        fastsql.attach(task, "queue", fastsql.load(Queue, row, fastsql.width(Task)))
        tasks.append(task)
    return tasks


def agent_snapshot(user: User, tenant: Tenant | None = None) -> dict[str, Any]:
    """Presence, capacity and load, ringing offers, tasks on hand and the wrap-up end (for one tenant if given)."""
    now = timezone.now()
    profile = _agent_profile(user)
    offers = _agent_offers(user.pk, now, tenant)
    on_hand = _agent_tasks(user.pk, tenant)
    if tenant is not None:
        load = Counter(Task.objects.filter(assigned_to=user, status=TaskStatus.ASSIGNED)
                       .values_list("channel", flat=True).order_by())
    else:  # the load counts every tenant's assigned tasks: here those are among the tasks shown
        load = Counter(t.channel for t in on_hand if t.status == TaskStatus.ASSIGNED)
    snapshot: dict[str, Any] = {
        "user_id": user.pk, "presence": profile.presence, "reason": profile.presence_reason,
        "since": iso(profile.presence_since), "seconds_in_state": _seconds(profile.presence_since, now),
        "not_responding": profile.not_responding, "wrapup_until": iso(profile.wrapup_until),
        "capacity": {c: profile.capacity_for(c) for c in ("call", "chat", "email", "messenger", "ticket")},
        "load": dict(load), "extension": profile.extension,
        "offers": [{"reservation_id": r.pk, "expires_at": iso(r.expires_at), "task": task_brief(r.task)}
                   for r in offers],
        "tasks": [task_brief(t) for t in on_hand],
    }
    if tenant is not None:
        snapshot["break_reasons"] = [{"code": b.code, "name": b.name} for b in
                                     BreakReason.objects.filter(tenant=tenant, is_active=True)]
        snapshot["dispositions"] = [{"code": d.code, "name": d.name} for d in
                                    Disposition.objects.filter(tenant=tenant, is_active=True)]
    return snapshot


def today_start(tenant: Tenant, now: datetime) -> datetime:
    """Midnight today in the tenant's time zone (reports count "today" there)."""
    local = now.astimezone(ZoneInfo(tenant.time_zone or "UTC"))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def service_level(rows: list[dict[str, Any]], target_s: int) -> dict[str, Any]:
    """Offered, answered, abandoned and SL variant B over one queue's tasks that entered it today.

    B = answered within T / (answered + abandoned − short abandoned); None when the denominator is 0.
    """
    answered = [r for r in rows if r["answered_at"] is not None]
    abandoned = [r for r in rows if r["status"] == TaskStatus.ABANDONED and r["answered_at"] is None]
    short = [r for r in abandoned if r["ended_at"] is not None
             and (r["ended_at"] - r["queued_at"]) < timedelta(seconds=SHORT_ABANDON_SECONDS)]
    within = [r for r in answered if (r["answered_at"] - r["queued_at"]) <= timedelta(seconds=target_s)]
    denominator = len(answered) + len(abandoned) - len(short)
    waits = [(r["answered_at"] - r["queued_at"]).total_seconds() for r in answered]
    return {
        "offered": len(rows), "answered": len(answered), "abandoned": len(abandoned),
        "short_abandoned": len(short), "answered_within_t": len(within), "target_answer_seconds": target_s,
        "service_level": round(100.0 * len(within) / denominator, 1) if denominator else None,
        "service_level_variant": "B",
        "asa_seconds": round(sum(waits) / len(waits), 1) if waits else None,
    }


def answered_as_in_glossary(row: dict[str, Any]) -> dict[str, Any]:
    """A chat counts as answered at its first public agent reply, not at the accept (GLOSSARY: "Chats:
    the same over first response time"); other channels at the accept. Used for SL and ASA."""
    if row["channel"] in FIRST_RESPONSE_CHANNELS:
        row["answered_at"] = row["first_response_at"]
    return row


def _agents(tenant: Tenant, now: datetime) -> list[dict[str, Any]]:
    members = (Membership.objects.filter(tenant=tenant, role__in=ROUTING_ROLES)
               .select_related("user", "user__agent_profile").order_by("user__username"))
    on_hand: dict[int, Counter[str]] = defaultdict(Counter)
    for agent_id, channel in Task.objects.filter(
            tenant=tenant, status=TaskStatus.ASSIGNED).values_list("assigned_to_id", "channel"):
        on_hand[agent_id][channel] += 1
    agents = []
    for m in members:
        profile = getattr(m.user, "agent_profile", None)
        if profile is None:
            continue
        agents.append({"user_id": m.user_id, "name": m.user.display_name, "role": m.role,
                       "state": profile.presence, "reason": profile.presence_reason,
                       "since": iso(profile.presence_since),
                       "seconds_in_state": _seconds(profile.presence_since, now),
                       "not_responding": profile.not_responding, "tasks": dict(on_hand[m.user_id])})
    return agents


def supervisor_snapshot(tenant: Tenant, *, use_cache: bool = True) -> dict[str, Any]:
    """Agents by state with time in state; queues with waiting, longest wait and today's figures."""
    key = f"routing:supervisor:{tenant.pk}"
    if use_cache and (hit := cache.get(key)) is not None:
        return dict(hit)
    now = timezone.now()
    agents = _agents(tenant, now)
    live = {q["id"]: q for q in queue_stats_payload(tenant.pk)["queues"]}
    start = today_start(tenant, now)
    today: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in Task.objects.filter(Q(tenant=tenant) & Q(queued_at__gte=start)).values(
            "queue_id", "channel", "status", "queued_at", "answered_at", "first_response_at", "ended_at"):
        today[row["queue_id"]].append(answered_as_in_glossary(dict(row)))
    queues = []
    for q in Queue.objects.filter(tenant=tenant, is_active=True).select_related("tenant"):
        stats = live.get(q.pk, {"waiting": 0, "longest_wait_seconds": 0.0})
        queues.append({"id": q.pk, "code": q.code, "name": q.name, "tier": q.tier, "channels": q.channels,
                       "open": queue_is_open(q, now),
                       "waiting": stats["waiting"], "longest_wait_seconds": stats["longest_wait_seconds"],
                       **service_level(today[q.pk], q.target_answer_seconds)})
    by_state = Counter(a["state"] for a in agents)
    snapshot = {"tenant_id": tenant.pk, "at": iso(now), "today_from": iso(start), "agents": agents,
                "agents_by_state": {s: by_state.get(s, 0) for s in PresenceState.values}, "queues": queues}
    cache.set(key, snapshot, SNAPSHOT_CACHE_SECONDS)
    return snapshot


def open_tasks(tenant: Tenant, limit: int) -> list[dict[str, Any]]:
    """Waiting and in-progress contacts of the tenant, oldest first (the supervisor's "move to queue" list)."""
    tasks = (Task.objects.filter(tenant=tenant, status__in=OPEN_TASK).select_related("queue", "assigned_to")
             .order_by("queued_at", "id")[:limit])
    return [{**task_brief(t), "agent_id": t.assigned_to_id,
             "agent_name": t.assigned_to.display_name if t.assigned_to else ""}
            for t in tasks]
