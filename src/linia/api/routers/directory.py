"""Directory: stores (with open status), departments, categories, products, stock, promotions, vacancies."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from linia.api.auth import Principal, principal
from linia.api.pagination import MAX_ID, PageParams, paginate
from linia.api.schemas import (
    ERRORS,
    CategoryDetailOut,
    CategoryNode,
    CategoryPage,
    DepartmentOut,
    DepartmentPage,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
    PromotionPage,
    StockBulkIn,
    StockBulkOut,
    StockPage,
    StoreDetailOut,
    StoreIn,
    StorePage,
    StorePatch,
    VacancyPage,
)
from linia.core.errors import ActionError, NotFound
from linia.core.permissions import Perm
from linia.directory import actions, queries
from linia.directory.hours import HoursError, OpenStatus
from linia.directory.importing import upsert_stock
from linia.directory.models import Category, Department, Product, Promotion, Stock, Store, Vacancy

router = Router(tags=["directory"])
SEARCH_CAP = 500  # a typo-tolerant search ranks at most this many stores


def _get(model: Any, p: Principal, pk: int, what: str) -> Any:
    """The tenant's row or 404 (other tenants' ids look exactly like missing ones), then the view permission."""
    obj = model.objects.filter(tenant=p.tenant, pk=pk).first() if 0 < pk <= MAX_ID else None
    if obj is None:
        raise NotFound(what)
    p.require(Perm.DIRECTORY_VIEW)
    return obj


def _view(request: HttpRequest) -> Principal:
    p = principal(request)
    p.require(Perm.DIRECTORY_VIEW)
    return p


# --- stores ---------------------------------------------------------------------------------------

def status_out(store: Store, status: OpenStatus, now: datetime) -> dict[str, Any]:
    try:
        local_now = now.astimezone(ZoneInfo(store.time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        local_now = now.astimezone(UTC)
    changes = status.changes_at
    return {
        "is_open": status.is_open, "label": _label(status, local_now), "changes_at": changes,
        "changes_at_utc": changes.astimezone(UTC) if changes else None, "local_time": local_now,
        "today": [f"{s:%H:%M}-{e:%H:%M}" for s, e in status.today],
    }


def _label(status: OpenStatus, local_now: datetime) -> str:
    at = status.changes_at
    if at is None:
        return "open 24/7" if status.is_open else "closed (no opening within 14 days)"
    when = f"{at:%H:%M}" if at.date() == local_now.date() else f"{at:%H:%M} ({at:%a %d %b})"
    return f"open now, closes at {when}" if status.is_open else f"closed, opens at {when}"


def store_out(store: Store, status: OpenStatus | None = None, now: datetime | None = None) -> dict[str, Any]:
    data = {f: getattr(store, f) for f in ("id", "code", "name", "address", "city", "region", "latitude",
                                           "longitude", "phone", "time_zone", "opening_hours", "is_active",
                                           "updated_at")}
    data["status"] = status_out(store, status, now or timezone.now()) if status is not None else None
    return data


class StoreQuery(Schema):
    q: str = Field("", max_length=200, description="code, name, street, city (typo-tolerant)")
    city: str = Field("", max_length=120, description="stores of this city (typo-tolerant)")
    open_now: bool = Field(False, description="only stores open now (needs city); items carry their status")


@router.get("/stores", response={200: StorePage, **ERRORS}, summary="List or search stores")
def list_stores(request: HttpRequest, filters: Query[StoreQuery], page: Query[PageParams]) -> dict[str, Any]:
    p = _view(request)
    now = timezone.now()
    if filters.city.strip() and (filters.open_now or not filters.q.strip()):
        pairs = (queries.stores_open_now if filters.open_now else queries.stores_in_city)(p.tenant, filters.city, now)
        if filters.q.strip():
            wanted = {s.pk for s in queries.search_stores(p.tenant, filters.q, city=filters.city, limit=SEARCH_CAP)}
            pairs = [(s, st) for s, st in pairs if s.pk in wanted]
        return paginate(pairs, page, lambda pair: store_out(pair[0], pair[1], now))
    if filters.open_now:
        raise ActionError("invalid_filter", "open_now needs a city.", {"city": ["required with open_now"]})
    if filters.q.strip():
        found = queries.search_stores(p.tenant, filters.q, city=filters.city, limit=SEARCH_CAP)
        return paginate(found, page, store_out)
    return paginate(Store.objects.filter(tenant=p.tenant).order_by("city", "name", "id"), page, store_out)


@router.get("/stores/{store_id}", response={200: StoreDetailOut, **ERRORS},
            summary="A store with its open status in its own time zone")
def get_store(request: HttpRequest, store_id: int) -> dict[str, Any]:
    store = _get(Store, principal(request), store_id, "store")
    now = timezone.now()
    try:
        status: OpenStatus | None = queries.store_status(store, now)
    except HoursError:
        status = None  # broken stored hours must not break reading the store
    return store_out(store, status, now)


@router.post("/stores", response={201: StoreDetailOut, **ERRORS})
def create_store(request: HttpRequest, payload: StoreIn) -> Status[dict[str, Any]]:
    p = principal(request)
    store = actions.save_store(p.user, p.tenant, payload.model_dump(exclude_unset=True))
    return Status(201, get_store(request, store.pk))


@router.patch("/stores/{store_id}", response={200: StoreDetailOut, **ERRORS})
def update_store(request: HttpRequest, payload: StorePatch, store_id: int) -> dict[str, Any]:
    p = principal(request)
    store = _get(Store, p, store_id, "store")
    actions.save_store(p.user, p.tenant, payload.model_dump(exclude_unset=True), store=store)
    return get_store(request, store_id)


@router.delete("/stores/{store_id}", response={204: None, **ERRORS})
def delete_store(request: HttpRequest, store_id: int) -> Status[None]:
    p = principal(request)
    actions.delete_store(p.user, _get(Store, p, store_id, "store"))
    return Status(204, None)


# --- departments and categories -------------------------------------------------------------------

def department_out(d: Department) -> dict[str, Any]:
    return {f: getattr(d, f) for f in ("id", "code", "name", "kind", "email", "region", "is_active")}


@router.get("/departments", response={200: DepartmentPage, **ERRORS})
def list_departments(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    p = _view(request)
    return paginate(Department.objects.filter(tenant=p.tenant).order_by("name", "id"), page, department_out)


@router.get("/departments/{department_id}", response={200: DepartmentOut, **ERRORS})
def get_department(request: HttpRequest, department_id: int) -> dict[str, Any]:
    return department_out(_get(Department, principal(request), department_id, "department"))


def category_out(c: Category) -> dict[str, Any]:
    return {f: getattr(c, f) for f in ("id", "parent_id", "code", "name", "names", "default_department_id",
                                       "is_active")}


@router.get("/categories", response={200: CategoryPage, **ERRORS}, summary="Categories, flat (with parent_id)")
def list_categories(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    p = _view(request)
    return paginate(Category.objects.filter(tenant=p.tenant).order_by("name", "id"), page, category_out)


@router.get("/categories/tree", response={200: list[CategoryNode], **ERRORS}, summary="Categories as a tree")
def category_tree(request: HttpRequest) -> list[dict[str, Any]]:
    p = _view(request)
    nodes = {c.pk: category_out(c) | {"children": []}
             for c in Category.objects.filter(tenant=p.tenant).order_by("name", "id")}
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"])
        (parent["children"] if parent is not None else roots).append(node)
    return roots


@router.get("/categories/{category_id}", response={200: CategoryDetailOut, **ERRORS},
            summary="A category with the JSON Schema of its tickets' custom fields")
def get_category(request: HttpRequest, category_id: int) -> dict[str, Any]:
    category = _get(Category, principal(request), category_id, "category")
    return category_out(category) | {"field_schema": category.field_schema or {}}


# --- products and stock ---------------------------------------------------------------------------

def product_out(pr: Product) -> dict[str, Any]:
    return {"id": pr.pk, "sku": pr.sku, "name": pr.name, "attributes": pr.attributes or {},
            "updated_at": pr.updated_at}


def _words(qs: QuerySet[Any], q: str, *fields: str) -> QuerySet[Any]:
    for word in q.split()[:10]:
        match = Q()
        for f in fields:
            match |= Q(**{f"{f}__iregex": re.escape(word)})  # Unicode-aware on SQLite, unlike icontains
        qs = qs.filter(match)
    return qs


@router.get("/products", response={200: ProductPage, **ERRORS})
def list_products(request: HttpRequest, page: Query[PageParams], q: str = "") -> dict[str, Any]:
    p = _view(request)
    qs = _words(Product.objects.filter(tenant=p.tenant), q[:200], "sku", "name").order_by("name", "id")
    return paginate(qs, page, product_out)


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS})
def get_product(request: HttpRequest, product_id: int) -> dict[str, Any]:
    return product_out(_get(Product, principal(request), product_id, "product"))


@router.post("/products", response={201: ProductOut, **ERRORS})
def create_product(request: HttpRequest, payload: ProductIn) -> Status[dict[str, Any]]:
    p = principal(request)
    return Status(201, product_out(actions.save_product(p.user, p.tenant, payload.model_dump(exclude_unset=True))))


@router.patch("/products/{product_id}", response={200: ProductOut, **ERRORS})
def update_product(request: HttpRequest, payload: ProductPatch, product_id: int) -> dict[str, Any]:
    p = principal(request)
    product = _get(Product, p, product_id, "product")
    saved = actions.save_product(p.user, p.tenant, payload.model_dump(exclude_unset=True), product=product)
    return product_out(saved)


@router.delete("/products/{product_id}", response={204: None, **ERRORS})
def delete_product(request: HttpRequest, product_id: int) -> Status[None]:
    p = principal(request)
    actions.delete_product(p.user, _get(Product, p, product_id, "product"))
    return Status(204, None)


def stock_out(s: Stock) -> dict[str, Any]:
    return {"store_id": s.store_id, "store_code": s.store.code, "product_id": s.product_id, "sku": s.product.sku,
            "product_name": s.product.name, "quantity": float(s.quantity), "updated_at": s.updated_at}


class StockQuery(Schema):
    store_id: int | None = Field(None, ge=1, le=MAX_ID, description="stock of this store (or give sku)")
    sku: str = Field("", max_length=64, description="this product in every store")
    q: str = Field("", max_length=200, description="with store_id: SKU or product name words")


@router.get("/stock", response={200: StockPage, **ERRORS},
            summary="Stock of one store (store_id, optional q) or of one SKU across stores")
def list_stock(request: HttpRequest, filters: Query[StockQuery], page: Query[PageParams]) -> dict[str, Any]:
    p = _view(request)
    if filters.store_id is not None:
        store = _get(Store, p, filters.store_id, "store")
        rows = queries.product_stock(p.tenant, store, filters.q, limit=page.offset + page.limit + 1)
    elif filters.sku.strip():
        qs = Stock.objects.filter(tenant=p.tenant, product__sku=filters.sku.strip()).select_related("store", "product")
        rows = list(qs.order_by("store__code", "id")[:page.offset + page.limit + 1])
    else:
        raise ActionError("invalid_filter", "Give store_id or sku.", {"store_id": ["store_id or sku is required"]})
    more = len(rows) > page.offset + page.limit
    return {"items": [stock_out(s) for s in rows[page.offset:page.offset + page.limit]],
            "next_offset": page.offset + page.limit if more else None}


@router.post("/stock/bulk", response={200: StockBulkOut, **ERRORS},
             summary="Bulk upsert of stock rows (ERP push); idempotent; 422 with row errors unless skip_invalid")
def stock_bulk(request: HttpRequest, payload: StockBulkIn) -> Any:
    p = principal(request)
    result = upsert_stock(p.user, p.tenant, [_flat_row(r) for r in payload.rows], skip_invalid=payload.skip_invalid)
    errors = [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors]
    if not result.ok:
        fields: dict[str, list[str]] = {}
        for e in result.errors[:200]:
            fields.setdefault(f"rows.{e.row}.{e.column or 'row'}", []).append(e.message)
        raise _RowsRejected(len(errors), fields)
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
            "skipped": result.skipped, "errors": errors}


def _flat_row(row: Any) -> Any:
    """Nested JSON values cannot be a code, SKU or number: pass them on as text so the row reports them."""
    if not isinstance(row, dict):
        return row
    return {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in row.items()}


class _RowsRejected(ActionError):
    status = 422

    def __init__(self, count: int, fields: dict[str, list[str]]) -> None:
        super().__init__("invalid_rows", f"{count} row problem(s); nothing was written. Fix them or send "
                                         "skip_invalid=true to apply the valid rows.", fields)


# --- promotions and vacancies ---------------------------------------------------------------------

def promotion_out(pr: Promotion) -> dict[str, Any]:
    return {"id": pr.pk, "title": pr.title, "starts_on": pr.starts_on, "ends_on": pr.ends_on,
            "store_ids": sorted(s.pk for s in pr.stores.all()), "texts": pr.texts or {}}


class PromotionQuery(Schema):
    store_id: int | None = Field(None, ge=1, le=MAX_ID, description="those for this store (or all stores)")
    on: date | None = Field(None, description="running on this day (default: today in the store's/tenant's zone)")
    all: bool = Field(False, description="every promotion, past and future")


@router.get("/promotions", response={200: PromotionPage, **ERRORS}, summary="Promotions running now (or all)")
def list_promotions(request: HttpRequest, filters: Query[PromotionQuery], page: Query[PageParams]) -> dict[str, Any]:
    p = _view(request)
    store = _get(Store, p, filters.store_id, "store") if filters.store_id else None
    if filters.all:
        qs = Promotion.objects.filter(tenant=p.tenant)
        if store is not None:
            qs = qs.filter(Q(stores=store) | Q(stores__isnull=True)).distinct()
        return paginate(qs.prefetch_related("stores").order_by("-starts_on", "id"), page, promotion_out)
    return paginate(queries.active_promotions(p.tenant, store, filters.on), page, promotion_out)


def vacancy_out(v: Vacancy) -> dict[str, Any]:
    return {"id": v.pk, "position": v.position, "store_id": v.store_id, "city": v.city or (v.store.city if v.store else ""),
            "text": v.text, "is_open": v.is_open}


@router.get("/vacancies", response={200: VacancyPage, **ERRORS}, summary="Open vacancies (optionally in a city)")
def list_vacancies(request: HttpRequest, page: Query[PageParams], city: str = "") -> dict[str, Any]:
    p = _view(request)
    return paginate(queries.open_vacancies(p.tenant, city[:120]), page, vacancy_out)

