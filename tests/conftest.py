from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test.utils import override_settings


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Tests create many users: hash their passwords cheaply (settings are loaded before any conftest)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rolled-back tests reuse row ids, so a cached value keyed by id could leak into the next test."""
    from django.core.cache import cache

    cache.clear()
    yield
