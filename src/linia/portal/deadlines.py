"""Due times of tickets shown in the portal, until an SLA module exists: created + hours by priority.

The hours come from Tenant.settings["portal"]["due_hours"] (e.g. {"urgent": 4, "high": 24}) with the
defaults below; calendar hours, counted from creation, in UTC (shown in the store's time zone).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from linia.tickets.models import Priority, Status, Ticket

DEFAULT_DUE_HOURS: dict[str, float] = {
    Priority.URGENT: 4, Priority.HIGH: 24, Priority.NORMAL: 72, Priority.LOW: 168,
}
DONE = (Status.SOLVED, Status.CLOSED)


def portal_settings(tenant_settings: Mapping[str, Any]) -> Mapping[str, Any]:
    value = tenant_settings.get("portal") if isinstance(tenant_settings, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def due_hours(tenant_settings: Mapping[str, Any]) -> dict[str, float]:
    """Hours to a fix per priority: the tenant's positive numbers over the defaults (bad values ignored)."""
    hours = dict(DEFAULT_DUE_HOURS)
    custom = portal_settings(tenant_settings).get("due_hours")
    if isinstance(custom, Mapping):
        for key, value in custom.items():
            if key in hours and isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 100000:
                hours[key] = float(value)
    return hours


def due_at(ticket: Ticket, hours: Mapping[str, float]) -> datetime:
    return ticket.created_at + timedelta(hours=hours.get(ticket.priority, DEFAULT_DUE_HOURS[Priority.NORMAL]))


def is_overdue(ticket: Ticket, hours: Mapping[str, float], now: datetime) -> bool:
    return ticket.status not in DONE and due_at(ticket, hours) < now


def overdue_q(hours: Mapping[str, float], now: datetime) -> Q:
    """Database filter for open tickets past their due time (one created_at bound per priority)."""
    by_priority = Q()
    for priority, value in hours.items():
        by_priority |= Q(priority=priority, created_at__lt=now - timedelta(hours=value))
    return by_priority & ~Q(status__in=DONE)


def zone_of(ticket: Ticket) -> zoneinfo.ZoneInfo:
    """The store's time zone, else the tenant's (deadlines are read where the fault is)."""
    name = (ticket.store.time_zone if ticket.store_id and ticket.store else "") or ticket.tenant.time_zone
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")
