"""Secrets stored encrypted at rest (Fernet): webhook signing secrets.

The key is ``settings.LINIA_FERNET_KEY`` when set (one Fernet key, or several comma-separated: the
first encrypts, all decrypt, so keys can be rotated), else derived from ``SECRET_KEY``.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    configured = str(getattr(settings, "LINIA_FERNET_KEY", "") or "")
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    if not keys:
        digest = hashlib.sha256(b"linia-fernet:" + str(settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The clear text; ValueError when the key changed and the value cannot be read."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt: was LINIA_FERNET_KEY or SECRET_KEY changed?") from None
