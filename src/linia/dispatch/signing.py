"""Webhook signatures (pure: no Django). Receivers may copy ``verify_signature`` as it is.

Linia sends ``X-Linia-Timestamp: <unix seconds>`` and
``X-Linia-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>``.
A receiver recomputes the HMAC over the raw request body (before any JSON parsing), compares in
constant time and refuses timestamps too far from its clock (replayed requests).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SCHEME = "sha256"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Linia-Signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def verify_signature(secret: str, timestamp: int | str, body: bytes, header: str, *,
                     tolerance: float | None = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> bool:
    """True when `header` (X-Linia-Signature) signs `body` at `timestamp` (X-Linia-Timestamp) with `secret`.

    `tolerance`: refuse timestamps more than this many seconds away from `now` (None: no check).
    Several signatures separated by commas are accepted (any one matching), for secret rotation.
    """
    try:
        ts = int(str(timestamp).strip())
    except ValueError:
        return False
    if tolerance is not None and abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    expected = signature(secret, ts, body)
    return any(hmac.compare_digest(expected.encode(), part.strip().encode())
               for part in header.split(",") if part.strip())
