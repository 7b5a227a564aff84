"""Spam checks that do not bother people: a hidden honeypot input, a signed "form shown at" token (too fast a
submit gets a gentle message, never a silent drop) and per-IP rate limits (linia.core.ratelimit)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from linia.core import ratelimit

SALT = "linia.webform.token"
HONEYPOT = "_lf_homepage"
TOKEN = "_lf_token"  # noqa: S105 (the name of a form input)
MAX_AGE_SECONDS = 24 * 3600


def min_seconds() -> float:
    """A person needs longer than this to fill a form; scripts post at once."""
    return float(getattr(settings, "LINIA_WEBFORM_MIN_SECONDS", 3))


def post_limit() -> ratelimit.Limit:
    return ratelimit.Limit(int(getattr(settings, "LINIA_WEBFORM_POSTS_PER_IP", 20)), 600)


def view_limit() -> ratelimit.Limit:
    return ratelimit.Limit(int(getattr(settings, "LINIA_WEBFORM_VIEWS_PER_IP", 240)), 60)


@dataclass(frozen=True)
class Token:
    submission_id: str  # idempotency: one ticket per shown form, however often it is posted
    shown_at: float
    value: str


def issue(key: str, *, submission_id: str | None = None, shown_at: float | None = None) -> Token:
    sid = submission_id or secrets.token_urlsafe(18)
    at = time.time() if shown_at is None else shown_at
    return Token(sid, at, signing.dumps({"k": key, "s": sid, "t": at}, salt=SALT, compress=True))


def read(value: str, key: str) -> Token | None:
    """The token posted with the form, if it is ours, for this form and not older than a day."""
    try:
        data = signing.loads(value or "", salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") != key or not isinstance(data.get("s"), str):
        return None
    return Token(data["s"], float(data.get("t", 0)), value)


def too_fast(token: Token, now: float | None = None) -> bool:
    return ((time.time() if now is None else now) - token.shown_at) < min_seconds()


def allow_post(ip: str) -> bool:
    return ratelimit.allow("webform.post", ip or "-", post_limit())


def allow_view(ip: str) -> bool:
    return ratelimit.allow("webform.view", ip or "-", view_limit())
