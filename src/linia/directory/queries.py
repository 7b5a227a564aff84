"""Read paths of the directory: store hours and status, typo-tolerant search, stock, promotions, vacancies.

Every function is scoped to the tenant passed in (or the store's own tenant).

A tenant's active stores and their search index live in process memory, keyed by a fingerprint read
with one aggregate query per call (count, newest ``updated_at``, highest id), so every process notices
an edit, an import (the importer sets ``updated_at``), a deletion or a new store. Bulk writes that
bypass ``updated_at`` (``QuerySet.update``) must call ``invalidate_store_index``. Callers get copies
of the cached stores.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote_plus

from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.base import ModelState
from django.utils import timezone

from linia.core.errors import NotFound
from linia.core.models import Tenant
from linia.directory.fuzzy import StoreIndex, StoreRow, city_matches
from linia.directory.hours import (
    HoursError,
    OpeningHours,
    OpenStatus,
    Span,
    WeeklySchedule,
    parse_spans,
    parse_weekly,
)
from linia.directory.models import Holiday, Promotion, Stock, Store, StoreHoursException, Vacancy

log = logging.getLogger(__name__)

# Exceptions further from "now" than this cannot change today's status or the 14-day look-ahead.
_WINDOW_BEFORE = timedelta(days=2)
_WINDOW_AFTER = timedelta(days=17)

# --- opening hours -----------------------------------------------------------------------------------


def _spans(raw: object, where: str) -> tuple[Span, ...]:
    try:
        return parse_spans(raw)  # type: ignore[arg-type]  # validated inside
    except HoursError as exc:
        raise HoursError(f"{where}: {exc}") from None


_WEEKLY_CACHE: dict[str, WeeklySchedule] = {}


def _weekly(store: Store) -> WeeklySchedule:
    """The parsed weekly schedule. Chains share a few schedules, so parsing is cached by content
    (the repr of JSON data is unambiguous and cheap to take)."""
    data = store.opening_hours or {}
    key = repr(data)
    weekly = _WEEKLY_CACHE.get(key)
    if weekly is None:
        try:
            weekly = parse_weekly(data)
        except HoursError as err:
            raise HoursError(f"store {store.code}: {err}") from None
        if len(_WEEKLY_CACHE) > 4096:
            _WEEKLY_CACHE.clear()
        _WEEKLY_CACHE[key] = weekly
    return weekly


_Holidays = list[tuple[date, str, tuple[Span, ...]]]  # (date, case-folded region or "", spans)


def _parse_holidays(holidays: Iterable[Holiday]) -> _Holidays:
    # All-region holidays first, so a region's own entry for the same date replaces them.
    return [(h.date, h.region.strip().casefold(), _spans(h.spans, f"holiday {h.date} ({h.name})"))
            for h in sorted(holidays, key=lambda h: bool(h.region.strip()))]


def _build_hours(store: Store, holidays: _Holidays, exceptions: Iterable[StoreHoursException],
                 weekly: WeeklySchedule | None = None) -> OpeningHours:
    """Store exceptions over the store region's holidays over all-region holidays."""
    region = store.region.strip().casefold()
    dated = {day: spans for day, where, spans in holidays if not where or where == region}
    for exc in exceptions:
        dated[exc.date] = _spans(exc.spans, f"store {store.code}, exception {exc.date}")
    return OpeningHours(weekly or _weekly(store), dated, store.time_zone)


def store_hours(store: Store, *, exceptions_from: date | None = None) -> OpeningHours:
    """The store's hours with its exceptions and its tenant's holidays (all of them when
    ``exceptions_from`` is None, else those on or after it). Raises HoursError on bad stored data."""
    exceptions = StoreHoursException.objects.filter(tenant_id=store.tenant_id, store=store)
    holidays = Holiday.objects.filter(tenant_id=store.tenant_id)
    if exceptions_from is not None:
        exceptions = exceptions.filter(date__gte=exceptions_from)
        holidays = holidays.filter(date__gte=exceptions_from)
    return _build_hours(store, _parse_holidays(holidays), exceptions)


def store_status(store: Store, at: datetime | None = None) -> OpenStatus:
    at = at or timezone.now()
    return store_hours(store, exceptions_from=(at - _WINDOW_BEFORE).date()).status(at)


def _closed_hours(store: Store) -> OpeningHours:
    try:
        return OpeningHours(WeeklySchedule(), {}, store.time_zone)
    except HoursError:
        return OpeningHours(WeeklySchedule(), {}, "UTC")


def _statuses(tenant: Tenant, stores: list[Store], at: datetime, of_stores: Q,
              weekly: Mapping[int, WeeklySchedule | HoursError]) -> list[tuple[Store, OpenStatus]]:
    """Statuses of many stores with two queries for exceptions and holidays (``of_stores`` selects the
    stores' exceptions). Stores with the same hours share one computation (and one read-only
    OpenStatus object). A store with broken hours data shows as closed (and is logged) instead of
    breaking the whole list."""
    window = ((at - _WINDOW_BEFORE).date(), (at + _WINDOW_AFTER).date())
    try:
        holidays = _parse_holidays(Holiday.objects.filter(tenant=tenant, date__range=window))
    except HoursError as err:
        log.warning("holidays ignored: %s", err)
        holidays = []
    by_store: dict[int, list[StoreHoursException]] = {}
    for exc in StoreHoursException.objects.filter(of_stores, tenant=tenant, date__range=window):
        by_store.setdefault(exc.store_id, []).append(exc)
    memo: dict[Hashable, OpenStatus] = {}
    result = []
    alive = []  # keeps parsed schedules alive so that their ids stay unique within this call
    for store in stores:
        parsed = weekly.get(store.id) or _try_weekly(store)
        alive.append(parsed)
        own = by_store.get(store.id, [])
        # Same schedule, zone, region and own exceptions: same status; compute it once. Equal schedules
        # are one object (parsing is cached by content), so the id is a cheap key.
        own_key = tuple((e.date, repr(e.spans)) for e in own) if own else ()
        key = (id(parsed), store.time_zone, store.region, own_key)
        status = memo.get(key)
        if status is None:
            status = memo[key] = _status_or_closed(store, parsed, holidays, own, at)
        result.append((store, status))
    return result


def _status_or_closed(store: Store, parsed: WeeklySchedule | HoursError, holidays: _Holidays,
                      own: list[StoreHoursException], at: datetime) -> OpenStatus:
    try:
        if isinstance(parsed, HoursError):
            raise parsed
        hours = _build_hours(store, holidays, own, parsed)
    except HoursError as err:
        log.warning("opening hours ignored: %s", err)
        hours = _closed_hours(store)
    return hours.status(at)


# --- search index and the tenant's stores in memory ---------------------------------------------------

_Fingerprint = tuple[int, datetime | None, int | None]


@dataclass(frozen=True)
class _TenantStores:
    fingerprint: _Fingerprint
    index: StoreIndex
    stores: dict[int, Store]  # active stores by id; callers get copies
    weekly: dict[int, WeeklySchedule | HoursError]  # parsed once per rebuild


_CACHE: dict[int, _TenantStores] = {}
_LOCK = threading.Lock()


# Three scalar subqueries: each one is answered from an index alone (one aggregate per query lets
# SQLite seek straight to a MAX instead of scanning).
_FINGERPRINT_SQL = ("SELECT (SELECT COUNT(*) FROM {table} WHERE tenant_id = %s), "
                    "(SELECT MAX(updated_at) FROM {table} WHERE tenant_id = %s), "
                    "(SELECT MAX(id) FROM {table} WHERE tenant_id = %s)")


def _fingerprint(tenant: Tenant) -> _Fingerprint:
    # Raw SQL: this runs on every directory read, and the ORM would cost more than the query itself,
    # which reads only the (tenant, updated_at) index. The table name comes from the model, not input.
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT_SQL.format(table=connection.ops.quote_name(Store._meta.db_table)),
                       [tenant.pk] * 3)
        count, changed, top = cursor.fetchone()
    return count, changed, top


def _tenant_stores(tenant: Tenant) -> _TenantStores:
    fingerprint = _fingerprint(tenant)
    cached = _CACHE.get(tenant.pk)
    if cached is not None and cached.fingerprint == fingerprint:
        return cached
    stores = list(Store.objects.filter(tenant=tenant, is_active=True).order_by("city", "name", "id"))
    index = StoreIndex(StoreRow(s.pk, s.code, s.name, s.city, s.address, s.region) for s in stores)
    entry = _TenantStores(fingerprint, index, {s.pk: s for s in stores}, {s.pk: _try_weekly(s) for s in stores})
    with _LOCK:
        _CACHE[tenant.pk] = entry
    return entry


def _try_weekly(store: Store) -> WeeklySchedule | HoursError:
    try:
        return _weekly(store)
    except HoursError as err:
        return err


def store_index(tenant: Tenant) -> StoreIndex:
    """The tenant's active stores as a fuzzy index, rebuilt when the stores changed."""
    return _tenant_stores(tenant).index


def invalidate_store_index(tenant_id: int) -> None:
    with _LOCK:
        _CACHE.pop(tenant_id, None)


def _copy(store: Store) -> Store:
    # A shallow copy without pickling machinery: same field values, a fresh state (no related cache).
    clone = Store.__new__(Store)
    clone.__dict__.update(store.__dict__)
    clone._state = ModelState()
    clone._state.db, clone._state.adding = store._state.db, False
    return clone


def _copies(entry: _TenantStores, ids: Iterable[int]) -> list[Store]:
    # Copies, so that a caller changing a store cannot change what other requests see.
    return [_copy(entry.stores[i]) for i in ids if i in entry.stores]


def search_stores(tenant: Tenant, q: str, *, city: str = "", limit: int = 20) -> list[Store]:
    """Stores by code, name, city, street or region, typo-tolerant, best first (exact code first)."""
    entry = _tenant_stores(tenant)
    return _copies(entry, (m.id for m in entry.index.search(q, city=city, limit=limit)))


def stores_in_city(tenant: Tenant, city: str, at: datetime | None = None) -> list[tuple[Store, OpenStatus]]:
    """All active stores of a city (typo-tolerant), open ones first, with their status at ``at``."""
    at = at or timezone.now()
    entry = _tenant_stores(tenant)
    spellings = entry.index.city_spellings(city)
    if not spellings:
        return []
    stores = _copies(entry, entry.index.city_ids(city))
    statuses = _statuses(tenant, stores, at, Q(store__city__in=spellings, store__is_active=True), entry.weekly)
    statuses.sort(key=lambda pair: (not pair[1].is_open, pair[0].name))
    return statuses


def store_statuses(tenant: Tenant, stores: Iterable[Store], at: datetime | None = None
                   ) -> list[tuple[Store, OpenStatus]]:
    """Statuses of many stores of the tenant at once (three queries in all, not two per store); stores
    of other tenants are left out."""
    at = at or timezone.now()
    entry = _tenant_stores(tenant)
    mine = [s for s in stores if s.tenant_id == tenant.pk]
    return _statuses(tenant, mine, at, Q(store__in=[s.pk for s in mine]), entry.weekly)


def stores_open_now(tenant: Tenant, city: str, at: datetime | None = None) -> list[tuple[Store, OpenStatus]]:
    return [pair for pair in stores_in_city(tenant, city, at) if pair[1].is_open]


# --- stock, promotions, vacancies, maps ---------------------------------------------------------------


def _check_store(tenant: Tenant, store: Store) -> None:
    if store.tenant_id != tenant.pk:
        raise NotFound("store")


def product_stock(tenant: Tenant, store: Store, q: str = "", limit: int = 50) -> list[Stock]:
    """Stock of a store, by SKU or product name (every word must appear); an exact SKU comes first."""
    _check_store(tenant, store)
    qs = Stock.objects.filter(tenant=tenant, store=store).select_related("product")
    q = q.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    for word in q.split():
        qs = qs.filter(Q(product__sku__icontains=word) | Q(product__name__icontains=word))
    qs = qs.annotate(exact=Case(When(product__sku__iexact=q, then=Value(0)), default=Value(1),
                                output_field=IntegerField()))
    return list(qs.order_by("exact", "product__name", "product__sku")[:limit])


def active_promotions(tenant: Tenant, store: Store | None = None, on: date | None = None) -> list[Promotion]:
    """Promotions running on ``on`` (default: today where the store, else the tenant, is); with a store,
    those for that store or for all stores."""
    if on is None:
        zone = store.time_zone if store is not None else tenant.time_zone
        on = _today(zone)
    qs = Promotion.objects.filter(tenant=tenant, starts_on__lte=on, ends_on__gte=on)
    if store is not None:
        _check_store(tenant, store)
        qs = qs.filter(Q(stores=store) | Q(stores__isnull=True)).distinct()
    return list(qs.order_by("-starts_on", "title"))


def _today(zone: str) -> date:
    try:
        return OpeningHours(WeeklySchedule(), {}, zone).local_date(timezone.now())
    except HoursError:
        return timezone.now().date()


def open_vacancies(tenant: Tenant, city: str = "") -> list[Vacancy]:
    """Open vacancies, optionally in a city (typo-tolerant; a vacancy's city or its store's city)."""
    vacancies = list(Vacancy.objects.filter(tenant=tenant, is_open=True).select_related("store"))
    if not city.strip():
        return vacancies
    return [v for v in vacancies if city_matches(city, v.city or (v.store.city if v.store else ""))]


def map_url(store: Store) -> str:
    """An OpenStreetMap link: the pin when coordinates are known, else a search for the address."""
    if store.latitude is not None and store.longitude is not None:
        lat, lon = f"{store.latitude:.6f}", f"{store.longitude:.6f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
    where = ", ".join(part for part in (store.address, store.city) if part.strip())
    return f"https://www.openstreetmap.org/search?query={quote_plus(where)}"
