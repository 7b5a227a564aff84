"""Template helpers for the desk."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import translation

register = template.Library()


@register.filter
def localized(obj: Any) -> str:
    """A category's name in the agent's language (Category.names), else its own name; '—' for none."""
    if obj is None:
        return "—"
    if hasattr(obj, "localized_name"):
        return str(obj.localized_name(translation.get_language() or "en"))
    return str(obj)
