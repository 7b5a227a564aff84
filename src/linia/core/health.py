"""GET /healthz: is this server process able to serve? For load balancers, process supervisors and probes.

No login and no tenant data: the answer says only which dependency failed. The database must answer a
``SELECT 1``; Redis (when REDIS_URL is set: channel layer, cache and task queue) must answer PING within a
second. 200 with ``{"status": "ok"}``, else 503 with ``{"status": "fail"}``; ``checks`` names each part.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)
OK, FAILED, NOT_USED = "ok", "unavailable", "not configured"
REDIS_TIMEOUT_SECONDS = 1.0


def database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        log.warning("health check: database unavailable", exc_info=True)
        return FAILED
    return OK


def redis_server() -> str:
    if not settings.REDIS_URL:
        return NOT_USED
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                  socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        log.warning("health check: redis unavailable", exc_info=True)
        return FAILED
    finally:
        client.close()
    return OK


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database(), "redis": redis_server()}
    healthy = FAILED not in checks.values()
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)
