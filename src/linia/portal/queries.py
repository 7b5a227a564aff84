"""Read paths of the portal: whose portal it is, the tickets a member sees (with due times), the dashboard."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet

from linia.core.models import Membership, Role
from linia.core.permissions import scope_tickets
from linia.portal.deadlines import DONE, due_at, due_hours, is_overdue, overdue_q, zone_of
from linia.tickets.models import Attachment, Message, Priority, Status, Ticket
from linia.tickets.queries import TicketFilter, ticket_list

PORTAL_ROLES = (Role.STORE_STAFF, Role.CLIENT_STAFF)


def portal_member(user: Any) -> Membership | None:
    """The user's store or client staff membership in an active tenant (they belong to exactly one)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    member = (Membership.objects.select_related("tenant", "store", "department")
              .filter(user=user, role__in=PORTAL_ROLES, tenant__is_active=True).order_by("id").first())
    if member is not None and member.role == Role.STORE_STAFF and member.store_id is None:
        return None  # a store employee without a store has no portal (the membership form forbids it)
    return member


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    due: datetime
    overdue: bool
    zone: ZoneInfo


def rows(tickets: Iterable[Ticket], hours: Mapping[str, float], now: datetime) -> list[Row]:
    return [Row(t, due_at(t, hours), is_overdue(t, hours, now), zone_of(t)) for t in tickets]


def member_tickets(user: Any, member: Membership, flt: TicketFilter, *, overdue_only: bool = False,
                   now: datetime | None = None) -> QuerySet[Ticket]:
    """The member's tickets (store: its store, department: its own; scope_tickets decides), filtered."""
    qs = ticket_list(user, member.tenant, flt).select_related("tenant", "store", "department", "category")
    if overdue_only and now is not None:
        qs = qs.filter(overdue_q(due_hours(member.tenant.settings), now))
    return qs


def dashboard(user: Any, member: Membership, now: datetime, *, limit: int = 10) -> dict[str, Any]:
    """Counts of open and overdue tickets, open by status and priority, and short lists of each."""
    tenant = member.tenant
    hours = due_hours(tenant.settings)
    scoped = scope_tickets(user, tenant, Ticket.objects.all())
    open_qs = scoped.exclude(status__in=DONE)
    overdue = open_qs.filter(overdue_q(hours, now))
    by_status = dict(open_qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    by_priority = dict(open_qs.values_list("priority").annotate(n=Count("id")).values_list("priority", "n"))
    related = ("tenant", "store", "department", "category")
    peak = max([*by_status.values(), 1])
    return {
        "open_count": open_qs.count(),
        "overdue_count": overdue.count(),
        "solved_waiting": scoped.filter(status=Status.SOLVED).count(),
        "by_status": [(value, label, by_status.get(value, 0), round(100 * by_status.get(value, 0) / peak))
                      for value, label in Status.choices if value not in DONE],
        "by_priority": [(value, label, by_priority.get(value, 0)) for value, label in reversed(Priority.choices)],
        "overdue_rows": rows(overdue.select_related(*related).order_by("created_at")[:limit], hours, now),
        "recent_rows": rows(open_qs.select_related(*related).order_by("-updated_at", "-id")[:limit], hours, now),
    }


def visible_messages(member: Membership, ticket: Ticket) -> QuerySet[Message]:
    """Store staff see the public thread; client staff also the client's replies (inbound notes). Agents'
    internal notes stay internal."""
    qs = ticket.messages.select_related("author_user").prefetch_related("attachments")
    if member.role == Role.CLIENT_STAFF:
        return qs.filter(Q(kind=Message.Kind.PUBLIC) | Q(kind=Message.Kind.NOTE, direction=Message.Direction.INBOUND))
    return qs.filter(kind=Message.Kind.PUBLIC)


def visible_attachment(member: Membership, ticket: Ticket, attachment_id: int) -> Attachment | None:
    messages = visible_messages(member, ticket).values("pk")
    return Attachment.objects.filter(tenant_id=ticket.tenant_id, pk=attachment_id, message__in=messages).first()


def asset_suggestions(member: Membership, limit: int = 50) -> list[str]:
    """Assets for the report form's list: tenant settings portal.assets, then those of the store's earlier
    tickets (most recent first)."""
    from linia.portal.deadlines import portal_settings

    conf = portal_settings(member.tenant.settings).get("assets")
    found: list[str] = [str(a)[:200] for a in conf if isinstance(a, str | int)] if isinstance(conf, list) else []
    field_map = portal_settings(member.tenant.settings).get("field_map")
    keys = ["asset"] + ([str(field_map["asset"])] if isinstance(field_map, dict) and field_map.get("asset") else [])
    if member.store_id is None:
        return found[:limit]
    recent = (Ticket.objects.filter(tenant_id=member.tenant_id, store_id=member.store_id)
              .order_by("-id").values_list("custom_fields", flat=True)[:300])
    for values in recent:
        for key in keys:
            value = values.get(key) if isinstance(values, dict) else None
            if isinstance(value, str) and value.strip() and value.strip() not in found:
                found.append(value.strip()[:200])
    return found[:limit]


def asset_hint(member: Membership, language: str) -> str:
    """The tenant's hint under the asset field (settings portal.asset_hint: text, or text by language)."""
    from linia.portal.deadlines import portal_settings

    hint = portal_settings(member.tenant.settings).get("asset_hint")
    if isinstance(hint, dict):
        hint = hint.get(language) or hint.get(member.tenant.default_language) or ""
    return str(hint)[:300] if isinstance(hint, str) else ""
