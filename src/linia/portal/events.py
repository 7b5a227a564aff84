"""Wording of the portal's own ticket events for the desk's history timeline (in the portal's catalog)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def describe_portal_event(kind: str) -> str | None:
    texts = {
        "ticket.fix_confirmed": _("The store confirmed the fix (portal)"),
        "ticket.fix_rejected": _("The store says the fault is not fixed and reopened the ticket (portal)"),
    }
    return texts.get(kind)
