"""Read paths of voice: the screen pop an agent sees when a call rings, and call lists."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import QuerySet

from linia.core.models import Tenant
from linia.core.permissions import scope_tickets
from linia.directory import queries as directory
from linia.directory.models import Category, Store
from linia.intake.voice.models import Call
from linia.tickets import statuses
from linia.tickets.models import Contact, ContactIdentity, Ticket

RECENT_TICKETS = 5
STORES_SHOWN = 5


def _contact(tenant: Tenant, phone: str) -> Contact | None:
    from linia.intake.voice.actions import e164

    number = e164(phone, tenant)
    if not number.startswith("+"):
        return None
    identity = (ContactIdentity.objects.select_related("contact")
                .filter(tenant=tenant, kind=ContactIdentity.Kind.PHONE, value=number).first())
    return identity.contact if identity else None


def _ticket(t: Ticket) -> dict[str, Any]:
    return {"id": t.pk, "reference": t.reference, "subject": t.subject, "status": t.status,
            "priority": t.priority, "channel": t.channel, "category_id": t.category_id, "store_id": t.store_id,
            "created_at": t.created_at.isoformat(), "updated_at": t.updated_at.isoformat()}


def main_city(tenant: Tenant) -> str:
    """The tenant's main city: settings["main_city"], else the city with the most active stores."""
    configured = (tenant.settings or {}).get("main_city")
    if isinstance(configured, str) and configured.strip():
        return configured.strip()
    cities = Counter(Store.objects.filter(tenant=tenant, is_active=True).values_list("city", flat=True))
    return cities.most_common(1)[0][0] if cities else ""


def _caller_place(tickets: list[Ticket]) -> tuple[Store | None, str, str]:
    """(store named by the newest ticket that names one, its city or a ticket's "city" field, why)."""
    for t in tickets:
        if t.store is not None and t.store.is_active:
            return t.store, t.store.city, "ticket_store"
    for t in tickets:
        city = (t.custom_fields or {}).get("city")
        if isinstance(city, str) and city.strip():
            return None, city.strip(), "ticket_city"
    return None, "", ""


def _store(store: Store, is_open: bool | None) -> dict[str, Any]:
    return {"id": store.pk, "code": store.code, "name": store.name, "city": store.city, "address": store.address,
            "phone": store.phone, "is_open": is_open, "map_url": directory.map_url(store)}


def _stores(tenant: Tenant, named: Store | None, city: str) -> list[dict[str, Any]]:
    """The named store first, then the city's stores (open ones first)."""
    rows = directory.stores_in_city(tenant, city) if city else []
    shown: list[dict[str, Any]] = []
    if named is not None:
        status = next((s for store, s in rows if store.pk == named.pk), None)
        if status is None:
            status = directory.store_statuses(tenant, [named])[0][1]
        shown.append(_store(named, status.is_open))
    shown += [_store(store, status.is_open) for store, status in rows if named is None or store.pk != named.pk]
    return shown[:STORES_SHOWN]


def category_tree(tenant: Tenant, language: str = "") -> list[dict[str, Any]]:
    """Active categories as a tree (for the picker), by localized name."""
    language = language or tenant.default_language
    rows = list(Category.objects.filter(tenant=tenant, is_active=True).order_by("name", "id"))
    children: dict[int | None, list[dict[str, Any]]] = {}
    nodes: dict[int, dict[str, Any]] = {}
    for c in rows:
        nodes[c.pk] = {"id": c.pk, "code": c.code, "name": c.localized_name(language),
                       "children": children.setdefault(c.pk, [])}
    for c in rows:
        # A child of an inactive category hangs at the top, so no active category is unreachable.
        parent = c.parent_id if c.parent_id in nodes else None
        children.setdefault(parent, []).append(nodes[c.pk])
    return children.get(None, [])


def screen_pop(tenant: Tenant, caller: str, *, user: Any = None, language: str = "") -> dict[str, Any]:
    """What an agent sees when a call rings: contact, open and recent tickets, nearest stores, categories.

    With `user`, tickets are limited to those the user may see."""
    contact = _contact(tenant, caller)
    tickets: list[Ticket] = []
    if contact is not None:
        qs: QuerySet[Ticket] = Ticket.objects.filter(tenant=tenant, contact=contact)
        if user is not None:
            qs = scope_tickets(user, tenant, qs)
        tickets = list(qs.select_related("store").order_by("-created_at", "-id")[:50])
    open_tickets = [t for t in tickets if t.status not in {statuses.SOLVED, statuses.CLOSED}]
    named, city, basis = _caller_place(tickets)
    if not city:
        city, basis = main_city(tenant), "main_city"
    return {
        "caller": caller,
        "contact": None if contact is None else {
            "id": contact.pk, "name": contact.name, "language": contact.language, "note": contact.note,
            "phones": [i.value for i in contact.identities.all() if i.kind == ContactIdentity.Kind.PHONE]},
        "open_tickets": [_ticket(t) for t in open_tickets[:RECENT_TICKETS]],
        "recent_tickets": [_ticket(t) for t in tickets[:RECENT_TICKETS]],
        "stores": {"city": city, "basis": basis, "items": _stores(tenant, named, city)},
        "categories": category_tree(tenant, language or (contact.language if contact else "")),
    }


def recent_calls(tenant: Tenant, limit: int = 50) -> QuerySet[Call]:
    return Call.objects.filter(tenant=tenant).select_related("line").order_by("-id")[:limit]
