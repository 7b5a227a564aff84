"""Demo tickets: generated per tenant from templates, written through linia.tickets.actions.

Every ticket is a plan of timed steps (create, note, reply, status changes, customer follow-up) spread over
the last 30 days. All steps of all tenants run in time order; afterwards every row a step wrote is back-dated
to the step's planned time, so event ids and event times grow together (the outbox stays in order).
A ticket's first message carries external_id "demo-<slug>-<n>": a second run skips those and only tops up.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Field, Model
from django.utils import timezone

from linia.core.models import AuditLog, Membership, Role, Tenant, User
from linia.demo.common import Reporter, StoreSpec, TenantSpec, TicketContext, TicketTemplate, describe_hours
from linia.directory.models import Category, Department, Store
from linia.tickets import actions
from linia.tickets.models import Contact, Event, Message, Ticket

DAYS_BACK = 30
_INTAKE_CHANNELS = frozenset({"email", "sms", "webform", "messenger"})  # arrive without an agent typing them
_POSTCODE = re.compile(r"^\d{6}, ")  # Russian addresses start with the postcode; texts omit it
_TICKET_TIMES = ("created_at", "updated_at", "first_response_at", "solved_at", "closed_at")


@dataclass
class _Directory:
    """The tenant's seeded rows the plans refer to."""

    stores: dict[str, int]
    categories: dict[str, int]
    departments: dict[str, int]
    agents: list[User]
    store_staff: dict[str, User]  # store code -> user
    products: list[str]


@dataclass
class Plan:
    tenant: Tenant
    spec: TenantSpec
    external_id: str
    template: TicketTemplate
    texts: dict[str, str]
    channel: str
    store: StoreSpec | None
    reporter: Reporter
    fields: dict[str, Any]
    agent: User
    creator: User | None  # None: the system (intake); else the agent or the store employee
    target: str
    directory: _Directory
    ticket: Ticket | None = None
    contact: Contact | None = None


@dataclass(order=True)
class Step:
    at: datetime
    seq: int
    plan: Plan = field(compare=False)
    kind: str = field(compare=False)  # create | note | reply | follow_up | status:<status>


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def split_counts(total: int, shares: list[int]) -> list[int]:
    """Split total by shares with the largest-remainder method (sums exactly to total)."""
    whole = sum(shares) or 1
    raw = [total * s / whole for s in shares]
    counts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)[: total - sum(counts)]:
        counts[i] += 1
    return counts


def seed_tickets(tenants: list[tuple[Tenant, TenantSpec, list[StoreSpec], int]],
                 log: Callable[[str], None] = lambda _m: None) -> dict[str, int]:
    """Create the missing demo tickets of each tenant; returns how many were added per tenant slug."""
    run_start = timezone.now()
    limit = run_start - timedelta(minutes=2)
    queue: list[Step] = []
    added: dict[str, int] = {}
    for tenant, spec, stores, count in tenants:
        directory = _load(tenant, spec, stores)
        done = set(Message.objects.filter(tenant=tenant, external_id__startswith=f"demo-{spec.slug}-")
                   .values_list("external_id", flat=True))
        plans = [_plan(tenant, spec, stores, directory, i, limit) for i in range(count)]
        fresh = [(p, steps) for p, steps in plans if p.external_id not in done]
        added[spec.slug] = len(fresh)
        for _, steps in fresh:
            queue.extend(steps)
    heapq.heapify(queue)
    total = len(queue)
    started: list[datetime] = []  # real clock at the start of each step, ascending
    planned: list[datetime] = []  # the step's planned (past) time
    while queue:
        step = heapq.heappop(queue)
        started.append(timezone.now())
        planned.append(step.at)
        _run(step)
        if len(started) % 500 == 0:
            log(f"  tickets: {len(started)}/{total} steps")
    _backdate(run_start, started, planned)
    return added


def _load(tenant: Tenant, spec: TenantSpec, stores: list[StoreSpec]) -> _Directory:
    members = Membership.objects.filter(tenant=tenant).select_related("user", "store").order_by("user__username")
    return _Directory(
        stores=dict(Store.objects.filter(tenant=tenant).values_list("code", "id")),
        categories=dict(Category.objects.filter(tenant=tenant).values_list("code", "id")),
        departments=dict(Department.objects.filter(tenant=tenant).values_list("code", "id")),
        agents=[m.user for m in members if m.role == Role.AGENT],
        store_staff={m.store.code: m.user for m in members if m.role == Role.STORE_STAFF and m.store is not None},
        products=[p.name for p in spec.products],
    )


def _when(rng: Random, tz: ZoneInfo, limit: datetime) -> tuple[datetime, float]:
    """A creation time in the last 30 days (denser recently), at a busy local hour."""
    age = DAYS_BACK * rng.random() ** 1.4
    local = (limit - timedelta(days=age)).astimezone(tz)
    hour = rng.choices(range(7, 23), weights=[2, 5, 8, 9, 9, 8, 7, 7, 8, 8, 7, 6, 5, 4, 3, 2])[0]
    at = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60)).astimezone(ZoneInfo("UTC"))
    while at >= limit:
        at -= timedelta(days=1)
    return at, (limit - at).total_seconds() / 86400


def _target(rng: Random, age_days: float) -> str:
    if age_days < 0.3:
        options, weights = ["new", "open", "pending_customer", "pending_client"], [50, 30, 10, 10]
    elif age_days < 3:
        options, weights = ["new", "open", "pending_customer", "pending_client", "solved"], [10, 30, 20, 20, 20]
    else:
        options, weights = ["open", "pending_customer", "pending_client", "solved", "closed"], [10, 10, 15, 25, 40]
    return rng.choices(options, weights=weights)[0]


def _plan(tenant: Tenant, spec: TenantSpec, stores: list[StoreSpec], directory: _Directory, index: int,
          limit: datetime) -> tuple[Plan, list[Step]]:
    rng = Random(f"{spec.slug}:{index}")
    template: TicketTemplate = rng.choices(spec.templates, weights=[t.weight for t in spec.templates])[0]
    store = rng.choice(stores) if stores and (template.needs_store or rng.random() < 0.3) else None
    channel = rng.choice(template.channels)
    agent = rng.choice(directory.agents)
    creator: User | None = None if channel in _INTAKE_CHANNELS else agent
    if template.from_store_staff and rng.random() < 0.25:  # some faults come from the store's own login
        own = [s for s in stores if s.code in directory.store_staff]
        if own:
            store = own[0]
            creator, channel = directory.store_staff[store.code], "portal"
    if template.from_store_staff and store is not None:
        reporter = spec.staff_reporter(rng, store)
    else:
        reporter = spec.reporter(rng)
    product = rng.choice(directory.products) if directory.products else ""
    fields = template.fields(TicketContext(store, product, reporter, rng)) if template.fields else {}
    texts = _texts(spec, template, store, product, reporter, fields, rng)
    at, age = _when(rng, ZoneInfo(spec.time_zone), limit)
    plan = Plan(tenant, spec, f"demo-{spec.slug}-{index:05d}", template, texts, channel, store, reporter, fields,
                agent, creator, _target(rng, age), directory)
    return plan, _steps(plan, rng, at, limit)


def _texts(spec: TenantSpec, template: TicketTemplate, store: StoreSpec | None, product: str, reporter: Reporter,
           fields: dict[str, Any], rng: Random) -> dict[str, str]:
    values = _Blank(product=product, name=reporter.name.split(" ")[0], n=str(rng.randrange(1, 7)),
                    store=spec.name, city="", address="", hours="", store_phone="")
    if store is not None:
        values.update(store=store.name, city=store.city, address=_POSTCODE.sub("", store.address),
                      store_phone=store.phone, hours=describe_hours(store.opening_hours, spec.language))
    for key, value in fields.items():
        if isinstance(value, list):
            value = ", ".join(f"{item.get('name')} × {item.get('qty')}" for item in value if isinstance(item, dict))
        values[f"f_{key}"] = str(value)
    return {name: getattr(template, name).format_map(values)
            for name in ("subject", "body", "reply", "note", "follow_up")}


def _steps(plan: Plan, rng: Random, at: datetime, limit: datetime) -> list[Step]:
    kinds = ["create"]
    target, texts = plan.target, plan.texts
    if target != "new":
        kinds.append("status:open")
        if texts["note"] and (target == "pending_client" or rng.random() < 0.6):
            kinds.append("note")
        if texts["reply"] and target in ("pending_customer", "solved", "closed"):
            kinds.append("reply")
        if target in ("pending_customer", "pending_client", "solved", "closed"):
            kinds.append(f"status:{'solved' if target == 'closed' else target}")
        if target == "closed":
            kinds.append("status:closed")
        if target == "pending_customer" and texts["follow_up"] and rng.random() < 0.4:
            kinds.append("follow_up")
    gaps = {"status:open": (60, 1800), "note": (60, 3600), "reply": (300, 4 * 3600), "follow_up": (3600, 86400),
            "status:closed": (2 * 86400, 4 * 86400)}
    steps: list[Step] = []
    for seq, kind in enumerate(kinds):
        if seq:
            low, high = gaps.get(kind, (120, 8 * 3600))
            at = max(at + timedelta(seconds=1), min(at + timedelta(seconds=rng.randrange(low, high)), limit))
        steps.append(Step(at, _seq(), plan, kind))
    return steps


_counter = itertools.count()


def _seq() -> int:
    """Tie-breaker so steps planned for the same second keep their planned order."""
    return next(_counter)


def _run(step: Step) -> None:
    plan, kind = step.plan, step.kind
    if kind == "create":
        _create(plan)
        return
    assert plan.ticket is not None
    if kind == "note":
        actions.add_message(plan.agent, plan.ticket, body=plan.texts["note"], kind=Message.Kind.NOTE)
    elif kind == "reply":
        actions.add_message(plan.agent, plan.ticket, body=plan.texts["reply"])
    elif kind == "follow_up":
        actions.add_message(None, plan.ticket, body=plan.texts["follow_up"], direction=Message.Direction.INBOUND,
                            author_contact=plan.contact)
    else:
        plan.ticket = actions.change_status(plan.agent, plan.ticket, kind.split(":", 1)[1])


def _create(plan: Plan) -> None:
    spec, tenant, directory = plan.spec, plan.tenant, plan.directory
    contact_actor = plan.creator if plan.creator is plan.agent else None  # store staff may not edit contacts
    plan.contact = actions.find_or_create_contact(
        contact_actor, tenant, name=plan.reporter.name, phones=[plan.reporter.phone] if plan.reporter.phone else [],
        emails=[plan.reporter.email] if plan.reporter.email else [], language=spec.language)
    department = ""
    if plan.template.department == "@region" and plan.store is not None:
        department = spec.region_department(plan.store)
    plan.ticket = actions.create_ticket(
        plan.creator, tenant, subject=plan.texts["subject"], channel=plan.channel, body=plan.texts["body"],
        category=directory.categories[plan.template.category],
        store=directory.stores.get(plan.store.code) if plan.store else None,
        department=directory.departments.get(department), contact=plan.contact, priority=plan.template.priority,
        custom_fields=plan.fields, tags=plan.template.tags, language=spec.language,
        assignee=plan.agent if plan.target != "new" else None, external_id=plan.external_id)


_BACKDATED: tuple[tuple[type[Model], tuple[str, ...]], ...] = (
    (Event, ("created_at",)), (Message, ("created_at",)), (AuditLog, ("created_at",)),
    (Contact, ("created_at", "updated_at")), (Ticket, _TICKET_TIMES),
)


def _backdate(since: datetime, started: list[datetime], planned: list[datetime]) -> None:
    """Move every timestamp written during the run from its real time to the planned time of its step.

    A row stamped at real time t was written by the last step that started at or before t. Plain executemany
    UPDATEs: the ORM's bulk_update spends seconds building CASE expressions for a few thousand rows.
    """
    if not started:
        return
    with connection.cursor() as cursor:
        for model, names in _BACKDATED:
            table = connection.ops.quote_name(model._meta.db_table)
            for name in names:
                field = model._meta.get_field(name)
                assert isinstance(field, Field)
                rows = model._default_manager.filter(**{f"{name}__gte": since}).values_list("pk", name)
                params = [(field.get_db_prep_save(planned[max(bisect.bisect_right(started, value) - 1, 0)], connection),
                           pk) for pk, value in rows]
                column = connection.ops.quote_name(str(field.column))
                cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", params)  # noqa: S608 (model metadata)
