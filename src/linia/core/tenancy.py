"""Which tenant the current UI request works in (chosen in the session among the user's tenants)."""

from __future__ import annotations

from django.http import HttpRequest

from linia.core.models import Tenant
from linia.core.permissions import tenants_for

SESSION_KEY = "linia_tenant_id"


def current_tenant(request: HttpRequest) -> Tenant | None:
    allowed = tenants_for(request.user)
    tenant_id = request.session.get(SESSION_KEY)
    tenant = allowed.filter(pk=tenant_id).first() if tenant_id else None
    if tenant is None:
        tenant = allowed.order_by("name").first()
        if tenant is not None:
            request.session[SESSION_KEY] = tenant.pk
    return tenant


def switch_tenant(request: HttpRequest, tenant_id: int) -> Tenant | None:
    tenant = tenants_for(request.user).filter(pk=tenant_id).first()
    if tenant is not None:
        request.session[SESSION_KEY] = tenant.pk
    return tenant
