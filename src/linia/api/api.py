"""The REST API under /api/v1/ (django-ninja): routers per domain, one error format."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Linia API", version="1", urls_namespace="api")
