"""Read paths for tickets and contacts, shared by the desk UI and the REST API (always permission-scoped)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from linia.core.errors import ActionError, NotFound
from linia.core.models import Tenant
from linia.core.permissions import Perm, has_perm, scope_tickets
from linia.directory.models import Category
from linia.tickets.actions import get_ticket_for
from linia.tickets.contacts import REGION_BY_LANGUAGE, normalize_phone
from linia.tickets.models import (
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    CustomerLink,
    Event,
    Message,
    Priority,
    Rating,
    Status,
    Tag,
    Ticket,
)
from linia.tickets.search import search_ticket_ids

Params = Mapping[str, Any]  # a dict of str | list[str], or a Django QueryDict

ORDERS = ("-created", "created", "-updated", "updated", "priority", "number", "relevance")
DEFAULT_ORDER = "-created"
CLOSED_STATUSES = (Status.SOLVED, Status.CLOSED)
MAX_ID = 2**63 - 1
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
SEARCH_LIMIT = 500  # a text search lists at most this many best matches
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}
_PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}
_LIST_COLUMNS = ("contact", "category", "store", "department", "assignee")


# --- the filter -----------------------------------------------------------------------------------

@dataclass
class TicketFilter:
    q: str = ""
    status: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    category_id: int | None = None  # includes its subcategories
    store_id: int | None = None
    department_id: int | None = None
    assignee: str = ""  # "" any, "me", "none", or a user id as str
    tag: str = ""
    contact_id: int | None = None
    created_from: date | None = None  # inclusive, a day in the tenant's time zone
    created_to: date | None = None  # inclusive
    open_only: bool = False  # not solved/closed
    order: str = DEFAULT_ORDER  # one of ORDERS; "relevance" ranks text matches (else as -created)

    @classmethod
    def from_params(cls, params: Params) -> TicketFilter:
        """Parse query parameters (lists as repeated keys or comma-separated); unknown keys are ignored."""
        errors: dict[str, list[str]] = {}
        flt = cls(
            q=_one(params, "q")[:1000],
            status=_choices(params, "status", Status.values, errors),
            priority=_choices(params, "priority", Priority.values, errors),
            channel=_choices(params, "channel", Channel.values, errors),
            category_id=_int(params, "category_id", errors),
            store_id=_int(params, "store_id", errors),
            department_id=_int(params, "department_id", errors),
            assignee=_assignee(params, errors),
            tag=_one(params, "tag")[:60],
            contact_id=_int(params, "contact_id", errors),
            created_from=_date(params, "created_from", errors),
            created_to=_date(params, "created_to", errors),
            open_only=_bool(params, "open_only", errors),
            order=_one(params, "order") or DEFAULT_ORDER,
        )
        if flt.order not in ORDERS:
            errors["order"] = [f"one of: {', '.join(ORDERS)}"]
        if flt.created_from and flt.created_to and flt.created_from > flt.created_to:
            errors["created_to"] = ["must not be before created_from"]
        if errors:
            raise ActionError("invalid_filter", "Some filter values are not valid.", errors)
        return flt

    def to_params(self) -> dict[str, str | list[str]]:
        """Only the non-default values, in the form from_params reads back (saved filters, links)."""
        out: dict[str, str | list[str]] = {}
        default = TicketFilter()
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if isinstance(value, list):
                out[f.name] = [str(v) for v in value]
            elif isinstance(value, bool):
                out[f.name] = "1"
            elif isinstance(value, date):
                out[f.name] = value.isoformat()
            else:
                out[f.name] = str(value)
        return out


def _raw(params: Params, key: str) -> list[str]:
    if hasattr(params, "getlist"):
        values = params.getlist(key)
    else:
        value = params.get(key)
        values = value if isinstance(value, list | tuple) else ([] if value is None else [value])
    return [str(v) for v in values]


def _one(params: Params, key: str) -> str:
    values = _raw(params, key)
    return values[-1].strip() if values else ""


def _choices(params: Params, key: str, allowed: list[str], errors: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    for item in _raw(params, key):
        for part in (p.strip() for p in item.split(",")):
            if part and part not in out:
                out.append(part)
    bad = [v for v in out if v not in allowed]
    if bad:
        errors[key] = [f"unknown value {bad[0][:40]!r}; one of: {', '.join(allowed)}"]
    return out


def _int(params: Params, key: str, errors: dict[str, list[str]]) -> int | None:
    text = _one(params, key)
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        errors[key] = ["must be a positive whole number (an id)"]
        return None
    return int(text)


def _assignee(params: Params, errors: dict[str, list[str]]) -> str:
    text = _one(params, "assignee")
    if text in ("", "me", "none"):
        return text
    if _int(params, "assignee", errors) is None:
        errors["assignee"] = ["'me', 'none' or a user id"]
        return ""
    return str(int(text))


def _date(params: Params, key: str, errors: dict[str, list[str]]) -> date | None:
    text = _one(params, key)
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[key] = ["a date as YYYY-MM-DD"]
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors[key] = [f"between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"]
        return None
    return day


def _bool(params: Params, key: str, errors: dict[str, list[str]]) -> bool:
    text = _one(params, key).lower()
    if text not in _TRUE | _FALSE:
        errors[key] = ["1 or 0"]
    return text in _TRUE


# --- tickets --------------------------------------------------------------------------------------

def _scoped(user: Any, tenant: Tenant, qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    # user None is the system (intake, imports): the whole tenant.
    return qs.filter(tenant_id=tenant.pk) if user is None else scope_tickets(user, tenant, qs)


def ticket_list(user: Any, tenant: Tenant, flt: TicketFilter) -> QuerySet[Ticket]:
    """The tickets the user may see in tenant, filtered and ordered, with the list columns joined."""
    qs = _scoped(user, tenant, Ticket.objects.select_related(*_LIST_COLUMNS).prefetch_related("tags"))
    for name in ("status", "priority", "channel"):
        if getattr(flt, name):
            qs = qs.filter(**{f"{name}__in": getattr(flt, name)})
    for name in ("store_id", "department_id", "contact_id"):
        if getattr(flt, name) is not None:
            qs = qs.filter(**{name: getattr(flt, name)})
    if flt.category_id is not None:
        qs = qs.filter(category_id__in=_category_with_children(tenant, flt.category_id))
    if flt.assignee:
        qs = _filter_assignee(qs, user, flt.assignee)
    if flt.tag:
        tags = Tag.objects.filter(tenant_id=tenant.pk).filter(Q(name=flt.tag) | Q(name__iexact=flt.tag))
        qs = qs.filter(tags__in=tags)
    qs = _filter_created(qs, tenant, flt.created_from, flt.created_to)
    if flt.open_only:
        qs = qs.exclude(status__in=CLOSED_STATUSES)
    ranked: list[int] = []
    if flt.q.strip():
        ranked = search_ticket_ids(tenant.pk, flt.q, SEARCH_LIMIT)
        qs = qs.filter(pk__in=ranked)
    return _order(qs, flt.order, ranked)


def _category_with_children(tenant: Tenant, category_id: int) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent in Category.objects.filter(tenant_id=tenant.pk).values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, todo = [], [category_id]
    while todo:
        pk = todo.pop()
        if pk not in found:
            found.append(pk)
            todo.extend(children.get(pk, []))
    return found


def _filter_assignee(qs: QuerySet[Ticket], user: Any, assignee: str) -> QuerySet[Ticket]:
    if assignee == "none":
        return qs.filter(assignee__isnull=True)
    if assignee == "me":
        return qs.filter(assignee_id=user.pk) if getattr(user, "is_authenticated", False) else qs.none()
    return qs.filter(assignee_id=int(assignee)) if assignee.isdigit() else qs.none()


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(min(max(day, FIRST_DAY), LAST_DAY), time.min, tzinfo=tz)


def _filter_created(qs: QuerySet[Ticket], tenant: Tenant, first: date | None, last: date | None) -> QuerySet[Ticket]:
    tz = ZoneInfo(tenant.time_zone or "UTC")
    if first is not None:
        qs = qs.filter(created_at__gte=_day_start(first, tz))
    if last is not None and last < LAST_DAY:
        qs = qs.filter(created_at__lt=_day_start(last + timedelta(days=1), tz))
    return qs


def _order(qs: QuerySet[Ticket], order: str, ranked: list[int]) -> QuerySet[Ticket]:
    if order == "relevance" and ranked:
        rank = Case(*[When(pk=pk, then=Value(i)) for i, pk in enumerate(ranked)], output_field=IntegerField())
        return qs.annotate(search_rank=rank).order_by("search_rank")
    if order == "priority":
        rank = Case(*[When(priority=p, then=Value(r)) for p, r in _PRIORITY_RANK.items()],
                    default=Value(9), output_field=IntegerField())
        return qs.annotate(priority_rank=rank).order_by("priority_rank", "-created_at", "-id")
    by = {"created": ("created_at", "id"), "-updated": ("-updated_at", "-id"), "updated": ("updated_at", "id"),
          "number": ("number",)}
    return qs.order_by(*by.get(order, ("-created_at", "-id")))


def ticket_detail(user: Any, tenant: Tenant, ticket_id: Any) -> Ticket:
    """The ticket with its related rows, or NotFound when it does not exist or is not visible."""
    try:
        pk = int(ticket_id)
    except (TypeError, ValueError):
        raise NotFound("ticket") from None
    if not 0 < pk <= MAX_ID:
        raise NotFound("ticket")
    ticket = get_ticket_for(user, tenant, pk)
    return Ticket.objects.select_related(*_LIST_COLUMNS, "merged_into", "created_by").get(pk=ticket.pk)


def ticket_history(ticket: Ticket) -> list[Event]:
    """The ticket's events, oldest first."""
    return list(Event.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk)
                .select_related("actor").order_by("id"))


# --- contacts -------------------------------------------------------------------------------------

_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]{5,}")


def contact_search(user: Any, tenant: Tenant, q: str) -> QuerySet[Contact]:
    """Contacts whose name has every word of q, or whose phone or email matches; empty q finds none."""
    qs = Contact.objects.filter(tenant_id=tenant.pk).prefetch_related("identities").order_by("name", "id")
    q = (q or "").strip()[:200]
    if not q or (user is not None and not has_perm(user, Perm.CONTACTS_VIEW, tenant)):
        return qs.none()
    name = Q()
    for word in q.split():
        name &= Q(name__iregex=re.escape(word))  # Unicode-aware on SQLite, unlike icontains
    identities = ContactIdentity.objects.filter(tenant_id=tenant.pk)
    match = _identity_match(tenant, q)
    if match is None:
        return qs.filter(name)
    return qs.filter(name | Q(pk__in=identities.filter(match).values("contact_id")))


def _identity_match(tenant: Tenant, q: str) -> Q | None:
    digits = re.sub(r"\D", "", q)
    if _PHONE_LIKE.fullmatch(q) and len(digits) >= 5:
        match = Q(kind=ContactIdentity.Kind.PHONE, value__contains=digits)
        try:
            region = REGION_BY_LANGUAGE.get(tenant.default_language, "RU")
            match |= Q(kind=ContactIdentity.Kind.PHONE, value=normalize_phone(q, region))
        except ValueError:
            pass
        return match
    if " " not in q:
        return Q(kind=ContactIdentity.Kind.EMAIL, value__contains=q.lower())
    return None


def ticket_for_customer_token(token: str) -> Ticket | None:
    """The ticket a customer's private link opens, or None when the token is unknown, revoked or expired."""
    link = customer_link_for_token(token)
    return customer_ticket(link) if link else None


def customer_link_for_token(token: str) -> CustomerLink | None:
    """The valid link with this token. Unknown, revoked and expired tokens cost the same single indexed
    query and all read as None, so a caller cannot tell them apart."""
    from django.utils import timezone

    from linia.tickets.models import CustomerLink

    if not token or len(token) > 100:
        return None
    return (CustomerLink.objects.select_related("ticket", "ticket__tenant", "ticket__store", "ticket__contact")
            .filter(token_hash=customer_token_hash(token), revoked_at__isnull=True,
                    expires_at__gt=timezone.now()).first())


def active_customer_links(ticket: Ticket) -> int:
    """How many private links of the ticket still open it (for the desk's "revoke" button)."""
    from django.utils import timezone

    return CustomerLink.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, revoked_at__isnull=True,
                                       expires_at__gt=timezone.now()).count()


def customer_ticket(link: CustomerLink) -> Ticket:
    """The link's ticket; a merged ticket's link follows it to the ticket its messages went to."""
    ticket = link.ticket
    for _hop in range(5):  # merge chains are short; a loop (bad data) must not hang the page
        if ticket.merged_into_id is None:
            break
        target = (Ticket.objects.select_related("tenant", "store", "contact")
                  .filter(pk=ticket.merged_into_id, tenant_id=link.tenant_id).first())
        if target is None:
            break
        ticket = target
    return ticket


def customer_messages(ticket: Ticket) -> QuerySet[Message]:
    """What the customer may read: public messages only (never internal notes or a department's replies)."""
    return (Message.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, kind=Message.Kind.PUBLIC)
            .exclude(direction=Message.Direction.INTERNAL).prefetch_related("attachments").order_by("id"))


def customer_attachment(ticket: Ticket, attachment_id: int) -> Attachment | None:
    """A file of one of the ticket's public messages, else None (another ticket's file reads as unknown)."""
    return (Attachment.objects.filter(pk=attachment_id, tenant_id=ticket.tenant_id, message__ticket_id=ticket.pk,
                                      message__kind=Message.Kind.PUBLIC)
            .exclude(message__direction=Message.Direction.INTERNAL).first())


def ticket_ratings(ticket: Ticket) -> QuerySet[Rating]:
    """The customer's ratings of this ticket (ticket page, chat, survey), newest first, for the desk."""
    return Rating.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk).order_by("-updated_at", "-id")


def page_rating(ticket: Ticket) -> Rating | None:
    """The rating given on the ticket page (the customer may change it)."""
    return Rating.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk,
                                 source=Rating.Source.TICKET_PAGE, interaction__isnull=True).first()


def customer_token_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()
