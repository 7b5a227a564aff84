"""Serialising routing writers: a per-tenant lock row, then agent rows in primary-key order.

PostgreSQL: ``SELECT ... FOR UPDATE`` blocks a second dispatcher of the same tenant until the first
commits, and agent rows locked in one order keep dispatchers of tenants sharing agents consistent.
SQLite: the settings open every transaction with BEGIN IMMEDIATE, so there is one writer at a time and
these statements are plain reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from linia.core.models import Tenant
from linia.routing.models import AgentProfile, RoutingLock


def tenant_id_of(tenant: Tenant | int) -> int:
    return tenant if isinstance(tenant, int) else tenant.pk


def lock_tenant(tenant: Tenant | int) -> None:
    """Call inside a transaction: holds the tenant's routing lock until it ends."""
    tenant_id = tenant_id_of(tenant)
    if connection.vendor == "sqlite":
        return  # already the only writer
    if not list(RoutingLock.objects.select_for_update().filter(pk=tenant_id)):
        RoutingLock.objects.bulk_create([RoutingLock(tenant_id=tenant_id)], ignore_conflicts=True)
        list(RoutingLock.objects.select_for_update().filter(pk=tenant_id))


def lock_agents(user_ids: Iterable[int]) -> dict[int, AgentProfile]:
    """Lock (and load) the agents' profiles in primary-key order; missing profiles are left out."""
    ids = sorted({i for i in user_ids if i})
    if not ids:
        return {}
    rows = AgentProfile.objects.select_for_update().filter(user_id__in=ids).order_by("pk")
    return {p.user_id: p for p in rows}
