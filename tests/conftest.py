from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test.utils import override_settings


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Tests create many users: hash their passwords cheaply (settings are loaded before any conftest)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
