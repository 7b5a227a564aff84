"""Template helpers of the realtime desk (agent desktop, supervisor view)."""

from __future__ import annotations

from typing import Any

from django import template

from linia.desk.realtime_access import is_agent, is_supervisor

register = template.Library()


@register.filter
def takes_contacts(user: Any, tenant: Any) -> bool:
    """Shows the agent desktop link to agents and supervisors of the current tenant."""
    return tenant is not None and is_agent(user, tenant.pk)


@register.filter
def supervises(user: Any, tenant: Any) -> bool:
    return tenant is not None and is_supervisor(user, tenant.pk)
