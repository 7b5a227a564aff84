"""GET /healthz: 200 when the database (and Redis, when configured) answer; 503 naming what does not."""

from __future__ import annotations

import socket

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def _redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _closed_port() -> int:
    with socket.socket() as s:  # bound, never listening: a connect is refused at once
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthy_without_redis_needs_no_login() -> None:
    with override_settings(REDIS_URL=""):
        resp = Client().get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "checks": {"database": "ok", "redis": "not configured"}}
    assert "no-cache" in resp["Cache-Control"]


@pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_healthy_with_redis() -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:6379/15"):
        resp = Client().get("/healthz")
    assert resp.status_code == 200 and resp.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_an_unreachable_redis_is_a_503_that_says_so() -> None:
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0"):
        resp = Client().get("/healthz")
    assert resp.status_code == 503
    assert resp.json() == {"status": "fail", "checks": {"database": "ok", "redis": "unavailable"}}


def test_only_reads_are_allowed() -> None:
    assert Client().head("/healthz").status_code == 200
    assert Client().post("/healthz").status_code == 405
