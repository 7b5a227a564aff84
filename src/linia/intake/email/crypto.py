"""Secrets at rest for mailboxes (IMAP passwords): Fernet with a key from LINIA_FERNET_KEY or SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _key() -> bytes:
    """LINIA_FERNET_KEY (a Fernet key) when set, else one derived from SECRET_KEY.

    Changing SECRET_KEY without setting LINIA_FERNET_KEY to the old derived key makes stored
    passwords unreadable: they must be entered again (decrypt() answers "").
    """
    configured = getattr(settings, "LINIA_FERNET_KEY", "") or os.environ.get("LINIA_FERNET_KEY", "")
    if configured:
        return configured.encode()
    digest = hashlib.sha256(b"linia.intake.email.crypto:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def encrypt(plain: str) -> str:
    if not plain:
        return ""
    return Fernet(_key()).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """The plain text, or "" when there is none or the key changed (the admin shows "not set")."""
    if not token:
        return ""
    try:
        return Fernet(_key()).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return ""
