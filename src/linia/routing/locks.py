"""Serialising routing writers: a per-tenant lock row, then agent rows in primary-key order.

PostgreSQL: ``SELECT ... FOR UPDATE`` blocks a second dispatcher of the same tenant until the first
commits, and agent rows locked in one order keep dispatchers of tenants sharing agents consistent.
SQLite: the settings open every transaction with BEGIN IMMEDIATE, so there is one writer at a time and
these statements are plain reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from linia.core import fastsql
from linia.core.models import Tenant
from linia.routing.models import AgentProfile, RoutingLock


def tenant_id_of(tenant: Tenant | int) -> int:
    return tenant if isinstance(tenant, int) else tenant.pk


def lock_tenant(tenant: Tenant | int) -> None:
    """Call inside a transaction: holds the tenant's routing lock until it ends."""
    tenant_id = tenant_id_of(tenant)
    if connection.vendor == "sqlite":
        return  # already the only writer
    sql = f"SELECT 1 FROM {fastsql.table(RoutingLock)} WHERE tenant_id = %s FOR UPDATE"  # noqa: S608
    if fastsql.fetch_one(sql, [tenant_id]) is None:
        RoutingLock.objects.bulk_create([RoutingLock(tenant_id=tenant_id)], ignore_conflicts=True)
        fastsql.fetch_one(sql, [tenant_id])


def lock_agents(user_ids: Iterable[int]) -> dict[int, AgentProfile]:
    """Lock (and load) the agents' profiles in primary-key order; missing profiles are left out."""
    ids = sorted({i for i in user_ids if i})
    if not ids:
        return {}
    # Plain SQL: every routing write locks agents.
    sql = (f"SELECT {fastsql.cols(AgentProfile, 'p')} FROM {fastsql.table(AgentProfile)} p "  # noqa: S608
           f"WHERE p.user_id IN ({fastsql.placeholders(len(ids))}) ORDER BY p.id{fastsql.for_update('p')}")
    rows = [fastsql.load(AgentProfile, r) for r in fastsql.fetch(sql, ids)]
    return {p.user_id: p for p in rows}
