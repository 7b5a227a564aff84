"""Normalising phones (E.164 with `phonenumbers`) and emails, used for contact de-duplication."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

REGION_BY_LANGUAGE = {"ru": "RU", "pl": "PL", "fr": "FR", "en": "GB"}


def normalize_phone(raw: str, default_region: str = "RU") -> str:
    """Return E.164 or raise ValueError with a message a person can act on."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    value = raw.strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValueError(f"not an email address: {raw!r}") from exc
    return value
