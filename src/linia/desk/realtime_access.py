"""Who may use the agent desktop and the supervisor view (decided by linia.core.permissions memberships)."""

from __future__ import annotations

from typing import Any

from linia.core.models import Role, Tenant
from linia.core.permissions import is_platform_admin, membership, tenants_for

AGENT_ROLES = (Role.AGENT, Role.SUPERVISOR)


def is_agent(user: Any, tenant_id: int) -> bool:
    member = membership(user, tenant_id)
    return member is not None and member.role in AGENT_ROLES


def is_supervisor(user: Any, tenant_id: int) -> bool:
    if is_platform_admin(user):
        return True
    member = membership(user, tenant_id)
    return member is not None and member.role == Role.SUPERVISOR


def agent_tenants(user: Any) -> list[Tenant]:
    return [t for t in tenants_for(user) if is_agent(user, t.pk)]


def supervised_tenants(user: Any) -> list[Tenant]:
    return [t for t in tenants_for(user) if is_supervisor(user, t.pk)]
