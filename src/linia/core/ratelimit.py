"""Fixed-window rate limits on the shared cache (Redis at scale, per process when embedded).

Public endpoints (chat widget, web forms, the customer ticket page) call `allow` with a key per visitor
and per IP before doing any work; a refusal is a 429 with a message, never a partial write."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    count: int  # at most this many hits ...
    seconds: int  # ... per window of this length


def allow(scope: str, key: str, limit: Limit, *, now: float | None = None) -> bool:
    """Count one hit for (scope, key); False when the window's allowance is used up."""
    window = int((time.time() if now is None else now) // limit.seconds)
    cache_key = f"rl:{scope}:{key}:{window}"
    if cache.add(cache_key, 1, timeout=limit.seconds + 1):
        return limit.count >= 1
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # expired between add and incr: this hit opens a new window
        cache.add(cache_key, 1, timeout=limit.seconds + 1)
        return True
    return hits <= limit.count


def client_ip(meta: dict[str, object]) -> str:
    """The caller's address. Behind a proxy, set LINIA_TRUST_X_FORWARDED_FOR=1 (README, settings)."""
    import os

    if os.environ.get("LINIA_TRUST_X_FORWARDED_FOR") == "1":
        forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return str(meta.get("REMOTE_ADDR") or "")
