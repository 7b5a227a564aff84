from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test.utils import override_settings


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Tests create many users: hash their passwords cheaply (settings are loaded before any conftest)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rolled-back tests reuse row ids and numbers, so a remembered value could leak into the next test (a
    rollback sends no signal that would forget it)."""
    from django.core.cache import cache

    from linia.intake.voice.lines import forget_lines
    from linia.routing.dispatcher import forget_rules_passes

    cache.clear()
    forget_lines()
    forget_rules_passes()
    yield


@pytest.fixture(autouse=True)
def _default_language_after_each_test() -> Iterator[None]:
    """A request in another language leaves that language active in the thread (LocaleMiddleware activates it
    and nothing switches back): the next test on this worker would see it."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True, scope="session")
def _no_connections_left_at_teardown(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Worker threads of in-process servers (websocket database threads, HTTP pools) keep their own
    PostgreSQL connections; at the end they would keep pytest-django from dropping the test database,
    which then stays on the server after every run. Torn down before the database: end those sessions."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
