"""Agent-facing directory: find a store fast, see whether it is open (store's and agent's time), stock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linia.core.models import Tenant
from linia.core.permissions import Perm
from linia.desk import exports
from linia.desk.views.common import desk_view
from linia.directory import queries
from linia.directory.hours import DAYS, HoursError, format_weekly, parse_weekly
from linia.directory.models import Store

RESULT_LIMIT = 50
DAY_NAMES = dict(zip(DAYS, (gettext_lazy("Monday"), gettext_lazy("Tuesday"), gettext_lazy("Wednesday"),
                            gettext_lazy("Thursday"), gettext_lazy("Friday"), gettext_lazy("Saturday"),
                            gettext_lazy("Sunday")), strict=True))


@dataclass
class StoreRow:
    store: Store
    status: Any  # directory.hours.OpenStatus
    store_text: str  # "Open now · closes 22:00" in the store's local time
    agent_text: str  # the same moment on the agent's clock ("" when both clocks agree)
    today: str
    week: list[tuple[str, str, bool]]  # (day name, hours, is today)
    map_url: str


def _clock(moment: datetime, tz: tzinfo, now: datetime) -> str:
    local = moment.astimezone(tz)
    same_day = local.date() == now.astimezone(tz).date()
    return dateformat.format(local, "H:i" if same_day else "D H:i")


def status_texts(store: Store, status: Any, now: datetime | None = None) -> tuple[str, str]:
    now = now or timezone.now()
    store_tz = ZoneInfo(store.time_zone)
    agent_tz = timezone.get_current_timezone()
    if status.changes_at is None:
        text = _("Open 24/7") if status.is_open else _("Closed for the next two weeks")
        return text, ""
    template = _("Open now · closes %(time)s") if status.is_open else _("Closed · opens %(time)s")
    store_text = template % {"time": _clock(status.changes_at, store_tz, now)}
    if status.changes_at.astimezone(store_tz).utcoffset() == status.changes_at.astimezone(agent_tz).utcoffset():
        return store_text, ""
    return store_text, _("%(time)s your time") % {"time": _clock(status.changes_at, agent_tz, now)}


def _span(start: datetime, end: datetime) -> str:
    end_text = "24:00" if end.date() > start.date() and end.strftime("%H:%M") == "00:00" else end.strftime("%H:%M")
    return f"{start:%H:%M}–{end_text}"


def _week(store: Store) -> list[tuple[str, str, bool]]:
    try:
        weekly = format_weekly(parse_weekly(store.opening_hours or {}))
    except HoursError:
        return []
    today = DAYS[timezone.localtime(timezone.now(), ZoneInfo(store.time_zone)).weekday()]
    return [(str(DAY_NAMES[day]), ", ".join(spans).replace("-", "–") or _("closed"), day == today)
            for day, spans in weekly.items()]


def store_row(store: Store, status: Any) -> StoreRow:
    store_text, agent_text = status_texts(store, status)
    today = ", ".join(_span(a, b) for a, b in status.today) or _("closed today")
    return StoreRow(store, status, store_text, agent_text, today, _week(store), queries.map_url(store))


def _params(request: HttpRequest) -> tuple[str, str, bool]:
    return (request.GET.get("q", "").strip()[:200], request.GET.get("city", "").strip()[:120],
            request.GET.get("open_now", "") in ("1", "on", "true"))


def _rows(tenant: Tenant, q: str, city: str, open_now: bool, limit: int | None) -> list[tuple[Store, Any]]:
    if q:
        found = queries.search_stores(tenant, q, city=city, limit=limit or 10_000)
        pairs = queries.store_statuses(tenant, found)  # keeps the best-match order
    elif city:
        pairs = list(queries.stores_in_city(tenant, city))
    elif limit is None:  # export of the whole directory
        pairs = queries.store_statuses(tenant, Store.objects.filter(tenant=tenant, is_active=True))
    else:
        pairs = []
    return [(s, st) for s, st in pairs if st.is_open] if open_now else pairs


@desk_view(Perm.DIRECTORY_VIEW)
def directory(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    q, city, open_now = _params(request)
    rows = [store_row(s, st) for s, st in _rows(tenant, q, city, open_now, RESULT_LIMIT)[:RESULT_LIMIT]]
    cities = (Store.objects.filter(tenant=tenant, is_active=True).values("city").annotate(n=Count("id"))
              .order_by("city"))
    context = {"nav": "directory", "q": q, "city": city, "open_now": open_now, "rows": rows, "cities": cities,
               "searched": bool(q or city), "export_query": request.GET.urlencode()}
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    template = "desk/_store_results.html" if partial else "desk/directory.html"
    return render(request, template, context)


def _export_rows(tenant: Tenant, pairs: list[tuple[Store, Any]]) -> Iterator[list[str]]:
    for store, status in pairs:
        row = store_row(store, status)
        yield [store.code, store.name, store.city, store.address, store.phone, store.time_zone,
               _("yes") if status.is_open else _("no"), row.store_text, row.today,
               "; ".join(f"{day}: {hours}" for day, hours, _today in row.week), row.map_url]


@desk_view(Perm.EXPORT)
def directory_export(request: HttpRequest, tenant: Tenant, fmt: str) -> HttpResponse | StreamingHttpResponse:
    q, city, open_now = _params(request)
    header = [_("Code"), _("Name"), _("City"), _("Address"), _("Phone"), _("Time zone"), _("Open now"),
              _("Status"), _("Today"), _("Weekly hours"), _("Map")]
    pairs = _rows(tenant, q, city, open_now, None)
    return exports.stores_response(header, _export_rows(tenant, pairs), tenant, fmt)


@desk_view(Perm.DIRECTORY_VIEW)
def store_detail(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    store = get_object_or_404(Store, pk=pk, tenant=tenant)
    q = request.GET.get("q", "").strip()[:200]
    stock = queries.product_stock(tenant, store, q)
    if request.headers.get("HX-Request") and request.GET.get("part") == "stock":
        return render(request, "desk/_stock_table.html", {"stock": stock, "q": q, "store": store})
    language = translation.get_language() or "en"
    promotions = [(p, (p.texts or {}).get(language) or (p.texts or {}).get(tenant.default_language) or "")
                  for p in queries.active_promotions(tenant, store)]
    context = {"nav": "directory", "row": store_row(store, queries.store_status(store)), "store": store,
               "stock": stock, "q": q, "promotions": promotions,
               "vacancies": queries.open_vacancies(tenant, store.city)}
    return render(request, "desk/store_detail.html", context)


@desk_view(Perm.DIRECTORY_VIEW)
def store_picker(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """htmx: up to 10 stores for the picker in the new-ticket form and the ticket panel."""
    q = request.GET.get("store_q", "").strip()[:200]
    stores = queries.search_stores(tenant, q, limit=10) if q else []
    return render(request, "desk/_store_picker_results.html", {"stores": stores, "q": q})
