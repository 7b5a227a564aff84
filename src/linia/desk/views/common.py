"""What every desk view shares: login + current tenant, permission errors as pages, action errors as forms."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from linia.core.permissions import Perm, PermissionDenied, has_perm
from linia.core.tenancy import current_tenant

TenantView = Callable[..., HttpResponseBase]


def desk_view(perm: Perm | None = None) -> Callable[[TenantView], Callable[..., HttpResponseBase]]:
    """Login required; the view receives the current tenant; missing permission renders a 403 page."""

    def decorate(view: TenantView) -> Callable[..., HttpResponseBase]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if _has_nul(request):
                return render(request, "desk/bad_request.html", {}, status=400)
            tenant = current_tenant(request)
            if tenant is None:
                return render(request, "desk/no_tenant.html", {}, status=403)
            if perm is not None and not has_perm(request.user, perm, tenant):
                return forbidden(request)
            try:
                return view(request, tenant, *args, **kwargs)
            except PermissionDenied:
                return forbidden(request)

        return wrapper

    return decorate


def _has_nul(request: HttpRequest) -> bool:
    """NUL never belongs in form text, and PostgreSQL refuses it in text columns."""
    for data in (request.GET, request.POST):
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return True
    return False


def forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "desk/forbidden.html", {}, status=403)

