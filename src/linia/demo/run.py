"""Seeding the whole demo in one transaction: tenants and directory, users, then tickets."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from linia.demo import dyskont, maison, quickdrop, vostok
from linia.demo.canned import seed_canned_responses
from linia.demo.common import TenantSpec
from linia.demo.contact_center import seed_contact_center
from linia.demo.seed import Login, seed_tenant, seed_users, stores_for
from linia.demo.tickets import seed_tickets, split_counts
from linia.demo.webforms import seed_webforms
from linia.directory.models import Store
from linia.intake.chat.demo import seed_chat_channels
from linia.tickets.models import Ticket

FULL_TICKETS = 320
SMALL_TICKETS = 40


@dataclass
class TenantSummary:
    slug: str
    name: str
    time_zone: str
    stores: int
    tickets: int
    tickets_added: int


@dataclass
class DemoReport:
    tenants: list[TenantSummary] = field(default_factory=list)
    logins: list[Login] = field(default_factory=list)
    seconds: float = 0.0


def specs() -> list[TenantSpec]:
    today = timezone.localdate()
    return [vostok.spec(today), dyskont.spec(today), maison.spec(today), quickdrop.spec(today)]


def seed_demo(*, small: bool = False, tickets: int | None = None,
              log: Callable[[str], None] = lambda _m: None) -> DemoReport:
    """Create (or top up) the demo tenants; a second run with the same options adds nothing."""
    started = time.perf_counter()
    all_specs = specs()
    total = tickets if tickets is not None else (SMALL_TICKETS if small else FULL_TICKETS)
    counts = split_counts(total, [s.ticket_share for s in all_specs])
    report = DemoReport()
    with transaction.atomic():
        seeded = {}
        for spec in all_specs:
            log(f"Seeding {spec.slug} ({spec.name})...")
            seeded[spec.slug] = (seed_tenant(spec, small=small), spec)
        report.logins = seed_users(seeded)
        seed_contact_center([tenant for tenant, _spec in seeded.values()])
        seed_chat_channels([tenant for tenant, _spec in seeded.values()])
        seed_webforms([tenant for tenant, _spec in seeded.values()])
        seed_canned_responses([tenant for tenant, _spec in seeded.values()])
        log("Writing tickets...")
        added = seed_tickets([(seeded[s.slug][0], s, stores_for(s, small), n) for s, n in zip(all_specs, counts, strict=True)],
                             log=log)
    for spec in all_specs:
        tenant = seeded[spec.slug][0]
        report.tenants.append(TenantSummary(
            spec.slug, tenant.name, tenant.time_zone, Store.objects.filter(tenant=tenant).count(),
            Ticket.objects.filter(tenant=tenant).count(), added.get(spec.slug, 0)))
    report.seconds = time.perf_counter() - started
    return report
