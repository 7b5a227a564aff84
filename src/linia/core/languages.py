"""The language of a customer-facing page or API (chat widget, web forms, the customer ticket page): one rule for
all of them, among settings.CUSTOMER_LANGUAGES."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils.translation.trans_real import parse_accept_lang_header


def customer_languages() -> tuple[str, ...]:
    return tuple(getattr(settings, "CUSTOMER_LANGUAGES", ("en", "ru", "pl", "fr")))


def supported(code: object) -> str | None:
    """"pl", "pl-PL" or "PL" → "pl" when customers may have it; anything else (not text, unknown) → None."""
    if not isinstance(code, str):
        return None
    short = code.strip().lower()[:2]
    return short if short in customer_languages() else None


def pick(*chosen: object, accept_language: str = "", fallbacks: Iterable[object] = ()) -> str:
    """The first supported of: what the visitor or the record chose (in the order given: ?lang=, a cookie, the
    ticket's language...), the browser's Accept-Language (by quality), the fallbacks (channel's, form's, tenant's
    language); else English."""
    for code in chosen:
        if found := supported(code):
            return found
    for code, _quality in parse_accept_lang_header(accept_language or "")[:10]:
        if found := supported(code):
            return found
    for code in fallbacks:
        if found := supported(code):
            return found
    return "en"
