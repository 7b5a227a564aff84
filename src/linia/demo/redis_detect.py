"""`linia demo` without REDIS_URL: use a Redis that answers on this machine, else stay in memory.

Read by linia.settings before Django starts (so no Django here). With Redis, the routing offers that the
background worker makes (offer timeouts, overflow, the end of wrap-up) reach the server's websockets at once;
in memory they only show up at the desktop's next snapshot. Each demo gets a key prefix of its own, derived
from its LINIA_HOME, so two demos (or a demo and the test suite) on one Redis never see each other's events.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DEFAULT_URL = "redis://127.0.0.1:6379/0"
ENV = "LINIA_DEMO_REDIS"  # the URL to try; "off" keeps the demo in memory


def prefix_for(home: Path) -> str:
    """A short key prefix unique to one demo data directory, e.g. ``linia-demo-3f2a9c1e:``."""
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:8]
    return f"linia-demo-{digest}:"


def answers(url: str, timeout: float = 0.5) -> bool:
    """True when a Redis server at `url` answers PING (a closed port, a timeout or an auth error: False)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def detect(home: Path, wanted: str | None) -> tuple[str, str]:
    """(REDIS_URL, key prefix) for a demo in `home`, or ("", "") when no Redis answers or `wanted` is "off"."""
    url = (wanted or "").strip() or DEFAULT_URL
    if url.lower() in {"off", "no", "0", "false", "none"}:
        return "", ""
    return (url, prefix_for(home)) if answers(url) else ("", "")
