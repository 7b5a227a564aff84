"""Rate limits of the chat's public endpoints (per visitor token and per IP), overridable in settings:
LINIA_CHAT_RATE_LIMITS = {"message_token": (30, 60), ...} (count, seconds)."""

from __future__ import annotations

from django.conf import settings

from linia.core import ratelimit
from linia.core.ratelimit import Limit

DEFAULTS: dict[str, tuple[int, int]] = {
    "config_ip": (120, 60),      # widget loads per IP and minute
    "start_ip": (10, 60),        # new chats per IP and minute ...
    "start_ip_hour": (60, 3600),  # ... and hour
    "message_token": (30, 60),   # messages per visitor and minute
    "message_ip": (120, 60),     # messages per IP and minute (several visitors behind one NAT)
    "typing_token": (120, 60),
    "file_token": (10, 60),
    "transcript_token": (3, 3600),
    "rating_token": (10, 60),
    "connect_ip": (120, 60),     # websocket connects per IP and minute
}


def limit(name: str) -> Limit:
    overrides = getattr(settings, "LINIA_CHAT_RATE_LIMITS", {}) or {}
    count, seconds = overrides.get(name, DEFAULTS[name])
    return Limit(int(count), int(seconds))


def allow(name: str, key: str) -> bool:
    return ratelimit.allow(f"chat:{name}", key, limit(name))


def allow_all(*checks: tuple[str, str]) -> bool:
    """Every (limit name, key) counts one hit; False when any is used up (one round trip on Redis)."""
    return ratelimit.allow_all([(f"chat:{name}", key, limit(name)) for name, key in checks])


async def allow_all_async(*checks: tuple[str, str]) -> bool:
    """`allow_all` from a websocket consumer's event loop (no database thread waits on Redis)."""
    return await ratelimit.allow_all_async([(f"chat:{name}", key, limit(name)) for name, key in checks])
