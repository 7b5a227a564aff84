from __future__ import annotations

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
