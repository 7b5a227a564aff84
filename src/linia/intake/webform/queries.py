"""Read paths of web forms: the active form for a key, the tenant's stores for the store picker."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from linia.core.models import Tenant
from linia.directory.hours import HoursError, OpeningHours, OpenStatus, WeeklySchedule
from linia.directory.models import Store
from linia.directory.queries import search_stores, store_hours, store_statuses
from linia.intake.webform.definition import spans_text
from linia.intake.webform.models import WebForm

_ORIGIN_RE = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")


def active_form(key: str) -> WebForm | None:
    if "\x00" in key:  # no key has one, and PostgreSQL refuses NUL in a text parameter (a 500, not a 404)
        return None
    return WebForm.objects.filter(public_key=key, is_active=True, tenant__is_active=True).select_related(
        "tenant").first()


def valid_origin(value: object) -> bool:
    return isinstance(value, str) and bool(_ORIGIN_RE.match(value))


def frame_ancestors(form: WebForm) -> str:
    """The CSP directive: this site and the form's allowed origins (malformed entries are left out)."""
    origins = [o for o in (form.allowed_origins or []) if valid_origin(o)]
    return " ".join(["frame-ancestors", "'self'", *origins])


# Defence in depth for pages that echo what strangers type: only our own script, no plugins, posts only here.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "object-src 'none'; base-uri 'none'; form-action 'self'")


def content_security_policy(form: WebForm) -> str:
    return f"{PAGE_POLICY}; {frame_ancestors(form)}"


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
    spans = spans_text(status.today, _("open 24 hours"))
    return _("today %(hours)s") % {"hours": spans} if spans else _("closed today")


def _options(tenant: Tenant, stores: list[Store], at: datetime | None) -> list[StoreOption]:
    return [StoreOption(s.code, s.name, s.city, s.address, s.time_zone, _today(status),
                        s.time_zone != tenant.time_zone)
            for s, status in store_statuses(tenant, stores, at or timezone.now())]


def large_chain(tenant: Tenant) -> bool:
    """Too many stores for one list (a 2,600-store chain): the picker lists what the visitor searched for."""
    limit = int(getattr(settings, "LINIA_WEBFORM_LIST_ALL_STORES_UP_TO", 200))
    return Store.objects.filter(tenant=tenant, is_active=True).count() > limit


def _grouped(options: list[StoreOption]) -> list[tuple[str, list[StoreOption]]]:
    groups: dict[str, list[StoreOption]] = {}
    for option in options:
        groups.setdefault(option.city, []).append(option)
    return sorted(groups.items())


def store_options(tenant: Tenant, at: datetime | None = None) -> list[tuple[str, list[StoreOption]]]:
    """The tenant's active stores grouped by city (for the picker's <optgroup>s), with today's hours."""
    stores = list(Store.objects.filter(tenant=tenant, is_active=True).order_by("city", "name", "code"))
    return _grouped(_options(tenant, stores, at))


def searched_store_options(tenant: Tenant, q: str, chosen: str = "") -> list[tuple[str, list[StoreOption]]]:
    """A large chain's picker: the stores matching the search (typo-tolerant) and the chosen one."""
    stores = search_stores(tenant, q[:100], limit=30) if q.strip() else []
    if chosen and all(s.code != chosen for s in stores):
        stores += list(Store.objects.filter(tenant=tenant, is_active=True, code=chosen))
    return _grouped(_options(tenant, stores, None))


@dataclass(frozen=True)
class StoreWeek:
    """The next days' hours of one store (dated exceptions and holidays included), in its time zone."""

    code: str
    name: str
    time_zone: str
    days: list[tuple[str, str, str]]  # (ISO date, "Thu 26.11", "08:00–22:00" or "closed")


def store_week(tenant: Tenant, code: str, *, days: int = 7, at: datetime | None = None) -> StoreWeek | None:
    """For the picker's "opening hours" panel: the chosen store of this tenant, else None."""
    store = Store.objects.filter(tenant=tenant, code=code.replace("\x00", ""), is_active=True).first()
    if store is None:
        return None
    try:
        first = OpeningHours(WeeklySchedule(), {}, store.time_zone).local_date(at or timezone.now())
        hours = store_hours(store, exceptions_from=first - timedelta(days=1))
    except HoursError:
        return None
    rows = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        spans = spans_text(hours.intervals_for_date(day), _("open 24 hours"))
        rows.append((day.isoformat(), date_format(day, "D d.m"), spans or _("closed")))
    return StoreWeek(store.code, store.name, store.time_zone, rows)


def find_stores(tenant: Tenant, q: str, limit: int = 20) -> list[StoreOption]:
    """Typo-tolerant store search of one tenant (the picker's search box)."""
    return _options(tenant, search_stores(tenant, q.replace("\x00", "")[:100], limit=limit), None)  # NUL: PostgreSQL
