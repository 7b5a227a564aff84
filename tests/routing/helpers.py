"""Builders for routing tests: queues and agents as real rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from linia.core.models import Role, Tenant, User
from linia.routing import actions
from linia.routing.models import AgentProfile, Queue, Reservation, ReservationStatus, Task, TaskStatus
from tests import factories


def queue(t: Tenant, code: str = "support", **kw: Any) -> Queue:
    defaults: dict[str, Any] = {"name": code.title(), "channels": ["call", "chat", "email"]}
    defaults.update(kw)
    return Queue.objects.create(tenant=t, code=code, **defaults)


def agent(t: Tenant, *, presence: str = "available", idle_minutes: float = 0.0, role: str = Role.AGENT,
          username: str | None = None, now: datetime | None = None, **kw: Any) -> User:
    u = factories.user(username, tenant=t, role=role)
    idle = (now or timezone.now()) - timedelta(minutes=idle_minutes)
    AgentProfile.objects.create(user=u, presence=presence, presence_since=idle, idle_since=idle, **kw)
    return u


def pending_for(u: User) -> list[Reservation]:
    return list(Reservation.objects.filter(agent=u, status=ReservationStatus.PENDING))


def offered_to(t: Tenant, now: datetime | None = None) -> dict[int, int]:
    """task id -> agent id of the offers one dispatch made."""
    return {r.task_id: r.agent_id for r in actions.dispatch(t, now=now)}


def profile(u: User) -> AgentProfile:
    return AgentProfile.objects.get(user=u)


def task(t: Tenant, q: Queue, channel: str = "call", **kw: Any) -> Task:
    return actions.create_task(None, t, channel=channel, queue=q, **kw)


def refresh(task_: Task) -> Task:
    task_.refresh_from_db()
    return task_


def status(task_: Task) -> str:
    return refresh(task_).status


__all__ = ["TaskStatus", "agent", "offered_to", "pending_for", "profile", "queue", "refresh", "status", "task"]
