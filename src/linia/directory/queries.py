"""Read paths of the directory: store hours and status, typo-tolerant search, stock, promotions, vacancies.

Every function is scoped to the tenant passed in (or the store's own tenant).

The search index of a tenant's stores lives in process memory and is keyed by a fingerprint read with
one aggregate query per call (count, newest ``updated_at``, highest id), so every process notices an
edit, an import (the importer sets ``updated_at``), a deletion or a new store. Bulk writes that bypass
``updated_at`` (``QuerySet.update``) must call ``invalidate_store_index``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from urllib.parse import quote_plus

from django.db.models import Case, Count, IntegerField, Max, Q, Value, When
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


def _build_hours(store: Store, holidays: Iterable[Holiday], exceptions: Iterable[StoreHoursException]) -> OpeningHours:
    """Store exceptions over the store region's holidays over all-region holidays."""
    region = store.region.strip().casefold()
    dated: dict[date, tuple[Span, ...]] = {}
    for holiday in sorted(holidays, key=lambda h: bool(h.region)):
        if holiday.region and holiday.region.strip().casefold() != region:
            continue
        dated[holiday.date] = _spans(holiday.spans, f"holiday {holiday.date} ({holiday.name})")
    for exc in exceptions:
        dated[exc.date] = _spans(exc.spans, f"store {store.code}, exception {exc.date}")
    try:
        weekly = parse_weekly(store.opening_hours or {})
    except HoursError as err:
        raise HoursError(f"store {store.code}: {err}") from None
    return OpeningHours(weekly, dated, store.time_zone)


def store_hours(store: Store, *, exceptions_from: date | None = None) -> OpeningHours:
    """The store's hours with its exceptions and its tenant's holidays (all of them when
    ``exceptions_from`` is None, else those on or after it). Raises HoursError on bad stored data."""
    exceptions = StoreHoursException.objects.filter(tenant_id=store.tenant_id, store=store)
    holidays = Holiday.objects.filter(tenant_id=store.tenant_id)
    if exceptions_from is not None:
        exceptions = exceptions.filter(date__gte=exceptions_from)
        holidays = holidays.filter(date__gte=exceptions_from)
    return _build_hours(store, holidays, exceptions)


def store_status(store: Store, at: datetime | None = None) -> OpenStatus:
    at = at or timezone.now()
    return store_hours(store, exceptions_from=(at - _WINDOW_BEFORE).date()).status(at)


def _closed_hours(store: Store) -> OpeningHours:
    try:
        return OpeningHours(WeeklySchedule(), {}, store.time_zone)
    except HoursError:
        return OpeningHours(WeeklySchedule(), {}, "UTC")


def _statuses(tenant: Tenant, stores: list[Store], at: datetime) -> list[tuple[Store, OpenStatus]]:
    """Statuses of many stores with two queries for their exceptions and holidays; a store with broken
    hours data shows as closed (and is logged) instead of breaking the whole list."""
    window = ((at - _WINDOW_BEFORE).date(), (at + _WINDOW_AFTER).date())
    holidays = list(Holiday.objects.filter(tenant=tenant, date__range=window))
    by_store: dict[int, list[StoreHoursException]] = {}
    for exc in StoreHoursException.objects.filter(tenant=tenant, store__in=stores, date__range=window):
        by_store.setdefault(exc.store_id, []).append(exc)
    result = []
    for store in stores:
        try:
            hours = _build_hours(store, holidays, by_store.get(store.pk, []))
        except HoursError as err:
            log.warning("opening hours ignored: %s", err)
            hours = _closed_hours(store)
        result.append((store, hours.status(at)))
    return result


# --- search index --------------------------------------------------------------------------------------

_Fingerprint = tuple[int, datetime | None, int | None]
_INDEXES: dict[int, tuple[_Fingerprint, StoreIndex]] = {}
_LOCK = threading.Lock()


def _fingerprint(tenant: Tenant) -> _Fingerprint:
    agg = Store.objects.filter(tenant=tenant).aggregate(n=Count("id"), changed=Max("updated_at"), top=Max("id"))
    return agg["n"], agg["changed"], agg["top"]


def store_index(tenant: Tenant) -> StoreIndex:
    """The tenant's active stores as a fuzzy index, rebuilt when the stores changed."""
    fingerprint = _fingerprint(tenant)
    cached = _INDEXES.get(tenant.pk)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    rows = Store.objects.filter(tenant=tenant, is_active=True).order_by("city", "name", "id").values_list(
        "id", "code", "name", "city", "address", "region")
    index = StoreIndex(StoreRow(*row) for row in rows)
    with _LOCK:
        _INDEXES[tenant.pk] = (fingerprint, index)
    return index


def invalidate_store_index(tenant_id: int) -> None:
    with _LOCK:
        _INDEXES.pop(tenant_id, None)


def _stores_by_ids(tenant: Tenant, ids: list[int]) -> list[Store]:
    found = Store.objects.filter(tenant=tenant, is_active=True).in_bulk(ids)
    return [found[i] for i in ids if i in found]


def search_stores(tenant: Tenant, q: str, *, city: str = "", limit: int = 20) -> list[Store]:
    """Stores by code, name, city, street or region, typo-tolerant, best first (exact code first)."""
    matches = store_index(tenant).search(q, city=city, limit=limit)
    return _stores_by_ids(tenant, [m.id for m in matches])


def stores_in_city(tenant: Tenant, city: str, at: datetime | None = None) -> list[tuple[Store, OpenStatus]]:
    """All active stores of a city (typo-tolerant), open ones first, with their status at ``at``."""
    at = at or timezone.now()
    stores = _stores_by_ids(tenant, store_index(tenant).city_ids(city))
    statuses = _statuses(tenant, stores, at)
    statuses.sort(key=lambda pair: (not pair[1].is_open, pair[0].name))
    return statuses


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
    q = q.strip()
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
