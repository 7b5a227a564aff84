"""Read paths of web forms: the active form for a key, the tenant's stores for the store picker."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from linia.core.models import Tenant
from linia.directory.hours import OpenStatus
from linia.directory.models import Store
from linia.directory.queries import search_stores, store_statuses
from linia.intake.webform.models import WebForm

_ORIGIN_RE = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")


def active_form(key: str) -> WebForm | None:
    return WebForm.objects.filter(public_key=key, is_active=True, tenant__is_active=True).select_related(
        "tenant").first()


def valid_origin(value: object) -> bool:
    return isinstance(value, str) and bool(_ORIGIN_RE.match(value))


def frame_ancestors(form: WebForm) -> str:
    """The CSP directive: this site and the form's allowed origins (malformed entries are left out)."""
    origins = [o for o in (form.allowed_origins or []) if valid_origin(o)]
    return " ".join(["frame-ancestors", "'self'", *origins])


@dataclass(frozen=True)
class StoreOption:
    code: str
    name: str
    city: str
    address: str
    time_zone: str
    today: str  # "08:00–22:00" or "closed today", in the store's time zone
    other_zone: bool = False  # the store keeps another time than the tenant: say which

    @property
    def label(self) -> str:
        where = f"{self.name}, {self.address}" if self.address else self.name
        return f"{where} · {self.today}" + (f" ({self.time_zone})" if self.other_zone else "")


def _today(status: OpenStatus) -> str:
    spans = ", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in status.today)
    return _("today %(hours)s") % {"hours": spans} if spans else _("closed today")


def _options(tenant: Tenant, stores: list[Store], at: datetime | None) -> list[StoreOption]:
    return [StoreOption(s.code, s.name, s.city, s.address, s.time_zone, _today(status),
                        s.time_zone != tenant.time_zone)
            for s, status in store_statuses(tenant, stores, at or timezone.now())]


def store_options(tenant: Tenant, at: datetime | None = None) -> list[tuple[str, list[StoreOption]]]:
    """The tenant's active stores grouped by city (for the picker's <optgroup>s), with today's hours."""
    stores = list(Store.objects.filter(tenant=tenant, is_active=True).order_by("city", "name", "code"))
    groups: dict[str, list[StoreOption]] = {}
    for option in _options(tenant, stores, at):
        groups.setdefault(option.city, []).append(option)
    return sorted(groups.items())


def find_stores(tenant: Tenant, q: str, limit: int = 20) -> list[StoreOption]:
    """Typo-tolerant store search of one tenant (the picker's search box)."""
    return _options(tenant, search_stores(tenant, q[:100], limit=limit), None)
