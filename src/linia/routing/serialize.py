"""Payload shapes shared by realtime messages, the API and the snapshots."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min
from django.utils import timezone

from linia.routing.models import Queue, Task, TaskStatus


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def task_brief(task: Task) -> dict[str, Any]:
    """Screen-pop basics: what the desktop shows with an offer or an assigned task."""
    queue = task.queue
    return {
        "id": task.pk, "channel": task.channel, "status": task.status,
        "queue": {"id": queue.pk, "code": queue.code, "name": queue.name, "tier": queue.tier},
        "language": task.language, "priority": task.priority, "external_id": task.external_id,
        "ticket_id": task.ticket_id, "interaction_id": task.interaction_id, "attributes": task.attributes,
        "queued_at": iso(task.queued_at), "answered_at": iso(task.answered_at),
        "first_response_at": iso(task.first_response_at),
        "assigned_to": task.assigned_to_id,
    }


def queue_stats_payload(tenant_id: int) -> dict[str, Any]:
    """Live waiting figures per queue in one grouped query (the full picture: queries.supervisor_snapshot)."""
    now = timezone.now()
    rows = {r["queue_id"]: r for r in Task.objects.filter(
        tenant_id=tenant_id, status__in=(TaskStatus.QUEUED, TaskStatus.RESERVED))
        .values("queue_id").annotate(n=Count("id"), oldest=Min("queued_at")).order_by()}
    queues = []
    for q in Queue.objects.filter(tenant_id=tenant_id, is_active=True).only("code", "name"):
        row = rows.get(q.pk)
        oldest = row["oldest"] if row else None
        queues.append({"id": q.pk, "code": q.code, "name": q.name, "waiting": row["n"] if row else 0,
                       "longest_wait_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0})
    return {"kind": "queue_stats", "queues": queues}
