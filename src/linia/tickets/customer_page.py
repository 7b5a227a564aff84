"""Wording and presentation choices of the customer's private ticket page (/t/<token>/).

No database access here: the views pass in the ticket they loaded. The page speaks the customer languages
(settings.CUSTOMER_LANGUAGES: en, ru, pl, fr); its strings live in the tickets app's own catalog.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from linia.core import languages
from linia.tickets.models import Status, Ticket

LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "pl": "Polski", "fr": "Français"}  # autonyms: never translated
LANG_COOKIE = "linia_customer_lang"
RATABLE = (Status.SOLVED, Status.CLOSED)
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
DEFAULT_COLOURS = {"primary": "#0b6bcb", "on_primary": "#ffffff"}

# The customer's view of a status: what it means for them, not the desk's workflow name.
STATUS_WORDS = {
    Status.NEW: (gettext_lazy("Received"), gettext_lazy("We have your request and will look at it soon.")),
    Status.OPEN: (gettext_lazy("In progress"), gettext_lazy("We are working on your request.")),
    Status.PENDING_CUSTOMER: (gettext_lazy("Waiting for your reply"),
                              gettext_lazy("We need more information from you: please answer below.")),
    Status.PENDING_CLIENT: (gettext_lazy("In progress"),
                            gettext_lazy("We have asked the store or department concerned and are waiting for "
                                         "their answer.")),
    Status.SOLVED: (pgettext_lazy("customer page status", "Solved"),
                    gettext_lazy("We consider your request solved. If something is still wrong, just reply.")),
    Status.CLOSED: (pgettext_lazy("customer page status", "Closed"),
                    gettext_lazy("This request is closed. To tell us about something new, please contact us "
                                 "again.")),
}


def customer_languages() -> tuple[str, ...]:
    return languages.customer_languages()


def supported_language(code: str | None) -> str | None:
    return languages.supported(code)


def choose_language(*, asked: str | None, cookie: str | None, ticket: Ticket, accept_language: str) -> str:
    """The switcher's choice (query, then cookie), the ticket's or contact's language, the browser's, the
    tenant's, English."""
    contact_language = ticket.contact.language if ticket.contact_id and ticket.contact else None
    return languages.pick(asked, cookie, ticket.language, contact_language, accept_language=accept_language,
                          fallbacks=(ticket.tenant.default_language,))


def browser_language(accept_language: str, asked: str | None = None, cookie: str | None = None) -> str:
    """For pages without a ticket (the not-found page): the switcher's or the browser's language."""
    return languages.pick(asked, cookie, accept_language=accept_language)


def time_zone(ticket: Ticket) -> zoneinfo.ZoneInfo:
    """Dates are shown in the ticket's store's time zone, else the tenant's."""
    store = ticket.store if ticket.store_id else None
    for name in (getattr(store, "time_zone", ""), ticket.tenant.time_zone, "UTC"):
        try:
            if name:
                return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return zoneinfo.ZoneInfo("UTC")


def colours(tenant_settings: Mapping[str, Any] | None) -> dict[str, str]:
    """Tenant.settings["colours"] = {"primary": "#0b6bcb", "on_primary": "#fff"} (the chat widget's shape);
    anything that is not a plain hex colour is ignored, so it can go into a style attribute safely."""
    chosen = dict(DEFAULT_COLOURS)
    raw = (tenant_settings or {}).get("colours") if isinstance(tenant_settings, Mapping) else None
    if isinstance(raw, Mapping):
        for key in chosen:
            value = raw.get(key)
            if isinstance(value, str) and _HEX.match(value.strip()):
                chosen[key] = value.strip()
    return chosen


def status_words(status: str) -> tuple[str, str]:
    label, explanation = STATUS_WORDS.get(status, (gettext_lazy("In progress"), ""))  # type: ignore[call-overload]
    return str(label), str(explanation)


def can_reply(ticket: Ticket) -> bool:
    return ticket.status != Status.CLOSED


def can_rate(ticket: Ticket) -> bool:
    return ticket.status in RATABLE


# --- the desk's timeline ----------------------------------------------------------------------------

def describe_event(kind: str, data: Mapping[str, Any]) -> str | None:
    """Desk timeline wording for the customer page's events; None for other events."""
    if kind == "ticket.rated":
        text = _("The customer rated the service %(score)s/5") % {"score": data.get("score", "?")}
        where = {"ticket_page": _("on the ticket page"), "chat": _("after the chat")}.get(str(data.get("source")))
        return f"{text} ({where})" if where else text
    if kind == "ticket.customer_link_issued":
        return _("Customer link issued")
    if kind == "ticket.customer_links_revoked":
        return _("Customer links revoked: %(count)s") % {"count": data.get("count", "?")}
    if kind == "message.created" and data.get("source") == "ticket_page":
        return _("The customer replied on the ticket page")
    return None
