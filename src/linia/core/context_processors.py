from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from linia.core.permissions import tenants_for
from linia.core.tenancy import current_tenant


def linia(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"LANGUAGES": settings.LANGUAGES}
    return {
        "LANGUAGES": settings.LANGUAGES,
        "current_tenant": current_tenant(request),
        "my_tenants": list(tenants_for(request.user)),
    }
