"""The event feed for integrations: every state change of the tenant in ascending id order (a cursor)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from linia.api import serializers as out
from linia.api.auth import Principal, principal
from linia.api.pagination import MAX_ID
from linia.api.schemas import ErrorOut, EventFeedOut
from linia.core.permissions import Perm, has_perm, scope_tickets
from linia.tickets.models import Event, Ticket

router = Router(tags=["events"])


class FeedParams(Schema):
    after: int = Field(0, ge=0, le=MAX_ID, description="the last event id you have (0: from the start)")
    limit: int = Field(100, ge=1, le=200)
    kind: str = Field("", max_length=300, description="only these kinds, comma-separated (ticket.created,...)")


def visibility_delay() -> timedelta:
    """Hide the newest events for a moment where ids can commit out of order.

    On PostgreSQL an id is taken at INSERT but becomes visible at COMMIT, so a reader could see id
    101 before 100 commits and skip 100 forever. SQLite serialises writers, so no delay is needed.
    """
    default = 0.0 if connection.vendor == "sqlite" else 2.0
    return timedelta(seconds=float(getattr(settings, "LINIA_EVENT_FEED_DELAY_SECONDS", default)))


def feed(p: Principal, params: FeedParams) -> QuerySet[Event]:
    qs = Event.objects.filter(tenant=p.tenant, id__gt=params.after)
    kinds = [k.strip() for k in params.kind.split(",") if k.strip()]
    if kinds:
        qs = qs.filter(kind__in=kinds)
    delay = visibility_delay()
    if delay:
        qs = qs.filter(created_at__lte=timezone.now() - delay)
    # Events of tickets the caller may not see stay hidden (store staff, department-bound client staff);
    # events without a ticket (contacts, imports) need the matching view permission.
    visible = Q(ticket_id__in=scope_tickets(p.user, p.tenant, Ticket.objects.all()).values("id"))
    if has_perm(p.user, Perm.CONTACTS_VIEW, p.tenant) or has_perm(p.user, Perm.DIRECTORY_MANAGE, p.tenant):
        visible |= Q(ticket_id__isnull=True)
    return qs.filter(visible).order_by("id")


@router.get("/events", response={200: EventFeedOut, 401: ErrorOut, 422: ErrorOut},
            summary="Event feed: pass the last id as `after`; next_cursor is the id to pass next")
def events(request: HttpRequest, params: Query[FeedParams]) -> dict[str, Any]:
    items = list(feed(principal(request), params)[:params.limit])
    return {"items": [out.event(e) for e in items], "next_cursor": items[-1].pk if items else params.after}
