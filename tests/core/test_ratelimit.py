from __future__ import annotations

import pytest
from django.core.cache import cache

from linia.core.ratelimit import Limit, allow, client_ip


def test_a_window_allows_its_count_then_refuses_until_the_next_window() -> None:
    cache.clear()
    limit = Limit(count=3, seconds=10)
    assert [allow("t", "ip1", limit, now=100.0) for _ in range(4)] == [True, True, True, False]
    assert allow("t", "ip2", limit, now=100.0)  # keys are counted apart
    assert allow("other", "ip1", limit, now=100.0)  # and scopes
    assert allow("t", "ip1", limit, now=110.0)  # a new window


def test_client_ip_ignores_forwarded_for_unless_trusted(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    meta: dict[str, object] = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.0.0.1"}
    assert client_ip(meta) == "10.0.0.1"
    monkeypatch.setenv("LINIA_TRUST_X_FORWARDED_FOR", "1")
    assert client_ip(meta) == "203.0.113.9"


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis on 127.0.0.1:6379 is needed (CI starts it)")
def test_on_redis_several_limits_count_in_one_round_trip_with_the_same_windows() -> None:
    import os

    import redis
    from django.test import override_settings

    from linia.core.ratelimit import allow_all

    prefix = f"linia-test-rl-{os.getpid()}"
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:6379/0", "KEY_PREFIX": prefix}}
    tight, loose = Limit(count=2, seconds=10), Limit(count=5, seconds=60)
    try:
        with override_settings(CACHES=caches):
            results = [allow_all([("tok", "a", tight), ("ip", "1.2.3.4", loose)], now=100.0) for _ in range(3)]
            assert results == [True, True, False]  # the tight one is used up on the third
            assert allow_all([("tok", "b", tight), ("ip", "1.2.3.4", loose)], now=100.0)  # 4th hit of 5 on the IP
            assert allow_all([("tok", "c", tight), ("ip", "1.2.3.4", loose)], now=100.0)  # the 5th
            assert not allow_all([("tok", "d", tight), ("ip", "1.2.3.4", loose)], now=100.0)  # the IP's 6th
            assert allow("tok", "a", tight, now=110.0)  # a new window
            client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
            ttls = [client.ttl(k) for k in client.scan_iter(match=f"{prefix}*")]
            assert ttls and all(0 < t <= 61 for t in ttls)  # every counter expires by itself
    finally:
        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
