"""The REST API under /api/v1/ (django-ninja): routers per domain, one error format."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, URLResolver, re_path
from ninja import NinjaAPI
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from linia.api import errors
from linia.api.auth import TokenAuth


class UnicodeJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # readable UTF-8 instead of \uXXXX escapes


class StrictJSONParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        return errors.parse_json(request.body)


def _not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return errors.error_response(404, "not_found", f"No API endpoint at {request.path}; see /api/v1/docs.")


_not_found.csrf_exempt = True  # type: ignore[attr-defined]


def _index(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return JsonResponse({"name": "Linia API", "version": "1", "docs": f"{request.path}docs",
                         "openapi": f"{request.path}openapi.json"})


_index.csrf_exempt = True  # type: ignore[attr-defined]


def _guard(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps every API view: NUL bytes in the query string and wrong methods get the JSON error format."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if "%00" in request.META.get("QUERY_STRING", ""):
            return errors.error_response(400, "invalid_value", "NUL characters are not allowed in the query.")
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = errors.error_response(405, "method_not_allowed", f"Use one of: {allowed}.")
            response["Allow"] = allowed
        return response

    return wrapped


class LiniaAPI(NinjaAPI):
    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                # ninja's root view is a bare Http404 page; answer with a small JSON index instead.
                pattern.callback = _index if pattern.name == "api-root" else _guard(pattern.callback)
        # Anything else under /api/v1/ answers with the JSON error format, not Django's HTML 404.
        patterns.append(re_path(r"^.*$", _not_found))
        return patterns


api = LiniaAPI(
    title="Linia API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    parser=StrictJSONParser(),
    renderer=UnicodeJSONRenderer(),
    description="Tenant-scoped REST API of Linia. Send `Authorization: Bearer <token>`; "
                "errors are `{\"error\": {\"code\", \"message\", \"fields\"}}`. Guide: docs/api.md.",
)
errors.install(api)


def _add_routers() -> None:
    from linia.api.routers import contacts, directory, events, routing, tickets, voice, webhooks

    api.add_router("/", directory.router)
    api.add_router("/contacts", contacts.router)
    api.add_router("/", tickets.router)
    api.add_router("/", events.router)
    api.add_router("/", voice.router)
    api.add_router("/", routing.router)
    api.add_router("/", webhooks.router)


_add_routers()
