"""Fixed-window rate limits on the shared cache (Redis at scale, per process when embedded).

Public endpoints (chat widget, web forms, the customer ticket page) call `allow` with a key per visitor
and per IP before doing any work; a refusal is a 429 with a message, never a partial write."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    count: int  # at most this many hits ...
    seconds: int  # ... per window of this length


def allow(scope: str, key: str, limit: Limit, *, now: float | None = None) -> bool:
    """Count one hit for (scope, key); False when the window's allowance is used up."""
    return allow_all([(scope, key, limit)], now=now)


def allow_all(checks: Sequence[tuple[str, str, Limit]], *, now: float | None = None) -> bool:
    """Count one hit for each (scope, key, limit); False when any allowance is used up. On Redis all of them
    are one round trip (a chat message checks two limits on the thread that then stores it)."""
    at = time.time() if now is None else now
    keys = [f"rl:{scope}:{key}:{int(at // limit.seconds)}" for scope, key, limit in checks]
    client = _redis()
    if client is None:
        results = [_count(cache_key, limit) for cache_key, (_s, _k, limit) in zip(keys, checks, strict=True)]
        return all(results)
    pipe = client.pipeline(transaction=False)
    for cache_key, (_s, _k, limit) in zip(keys, checks, strict=True):
        name = cache.make_and_validate_key(cache_key)
        pipe.incr(name)
        pipe.expire(name, limit.seconds + 1)  # the key names its window: renewing the expiry changes nothing
    replies = pipe.execute()
    return all(int(hits) <= limit.count for hits, (_s, _k, limit) in zip(replies[::2], checks, strict=True))


async def allow_all_async(checks: Sequence[tuple[str, str, Limit]], *, now: float | None = None) -> bool:
    """`allow_all` for code on an event loop (websocket consumers): on Redis one awaited round trip of an
    asyncio client, so no database thread waits on the network; other caches count in memory at once."""
    if _redis() is None:
        return allow_all(checks, now=now)
    at = time.time() if now is None else now
    pipe = _async_redis().pipeline(transaction=False)
    for scope, key, limit in checks:
        name = cache.make_and_validate_key(f"rl:{scope}:{key}:{int(at // limit.seconds)}")
        pipe.incr(name)
        pipe.expire(name, limit.seconds + 1)
    replies = await pipe.execute()
    return all(int(hits) <= limit.count for hits, (_s, _k, limit) in zip(replies[::2], checks, strict=True))


_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()


def _async_redis() -> Any:
    """One asyncio Redis client per event loop, on the cache's Redis."""
    import redis.asyncio

    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = redis.asyncio.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    return client


def _count(cache_key: str, limit: Limit) -> bool:
    if cache.add(cache_key, 1, timeout=limit.seconds + 1):
        return limit.count >= 1
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # expired between add and incr: this hit opens a new window
        cache.add(cache_key, 1, timeout=limit.seconds + 1)
        return True
    return hits <= limit.count


def _redis() -> Any:
    """The redis-py client behind Django's Redis cache (None with any other cache backend)."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    return backend._cache.get_client(write=True) if isinstance(backend, RedisCache) else None  # type: ignore[attr-defined]


def client_ip(meta: dict[str, object]) -> str:
    """The caller's address. Behind a proxy, set LINIA_TRUST_X_FORWARDED_FOR=1 (README, settings)."""
    import os

    if os.environ.get("LINIA_TRUST_X_FORWARDED_FOR") == "1":
        forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return str(meta.get("REMOTE_ADDR") or "")
