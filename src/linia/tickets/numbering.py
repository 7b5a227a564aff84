"""Human ticket references such as SPR-000123."""

from __future__ import annotations


def format_reference(prefix: str, number: int) -> str:
    return f"{prefix}-{number:06d}"


def parse_reference(text: str) -> tuple[str, int] | None:
    prefix, sep, digits = text.strip().upper().rpartition("-")
    if not sep or not prefix or not digits.isdigit():
        return None
    return prefix, int(digits)
