"""Read paths: the agent's own routing state and the supervisor's live picture (GLOSSARY definitions)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from linia.core.models import Membership, Tenant, User
from linia.routing.actions import ROUTING_ROLES
from linia.routing.models import (
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


def _seconds(since: datetime | None, now: datetime) -> float:
    return round((now - since).total_seconds(), 1) if since else 0.0


def agent_snapshot(user: User, tenant: Tenant | None = None) -> dict[str, Any]:
    """Presence, capacity and load, ringing offers, tasks on hand and the wrap-up end (for one tenant if given)."""
    now = timezone.now()
    profile = AgentProfile.objects.filter(user=user).first() or AgentProfile(user=user)
    offers = Reservation.objects.select_related("task", "task__queue").filter(
        agent=user, status=ReservationStatus.PENDING, expires_at__gt=now)
    tasks = Task.objects.select_related("queue").filter(
        assigned_to=user, status__in=(TaskStatus.ASSIGNED, TaskStatus.WRAP_UP))
    if tenant is not None:
        offers, tasks = offers.filter(tenant=tenant), tasks.filter(tenant=tenant)
    load = Counter(t.channel for t in Task.objects.filter(assigned_to=user, status=TaskStatus.ASSIGNED).only("channel"))
    snapshot: dict[str, Any] = {
        "user_id": user.pk, "presence": profile.presence, "reason": profile.presence_reason,
        "since": iso(profile.presence_since), "seconds_in_state": _seconds(profile.presence_since, now),
        "not_responding": profile.not_responding, "wrapup_until": iso(profile.wrapup_until),
        "capacity": {c: profile.capacity_for(c) for c in ("call", "chat", "email", "messenger", "ticket")},
        "load": dict(load), "extension": profile.extension,
        "offers": [{"reservation_id": r.pk, "expires_at": iso(r.expires_at), "task": task_brief(r.task)}
                   for r in offers],
        "tasks": [task_brief(t) for t in tasks],
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
        agents.append({"user_id": m.user_id, "name": m.user.get_full_name() or m.user.username, "role": m.role,
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
            "queue_id", "status", "queued_at", "answered_at", "ended_at"):
        today[row["queue_id"]].append(dict(row))
    queues = []
    for q in Queue.objects.filter(tenant=tenant, is_active=True):
        stats = live.get(q.pk, {"waiting": 0, "longest_wait_seconds": 0.0})
        queues.append({"id": q.pk, "code": q.code, "name": q.name, "tier": q.tier, "channels": q.channels,
                       "waiting": stats["waiting"], "longest_wait_seconds": stats["longest_wait_seconds"],
                       **service_level(today[q.pk], q.target_answer_seconds)})
    by_state = Counter(a["state"] for a in agents)
    snapshot = {"tenant_id": tenant.pk, "at": iso(now), "today_from": iso(start), "agents": agents,
                "agents_by_state": {s: by_state.get(s, 0) for s in PresenceState.values}, "queues": queues}
    cache.set(key, snapshot, SNAPSHOT_CACHE_SECONDS)
    return snapshot
