"""Importing stores, products and stock from CSV/XLSX files, and stock pushes from an ERP over REST.

One import = one transaction: rows are validated and upserted as they stream in; when any row is
invalid (and skip_invalid is off) or on a dry run, the transaction is rolled back, so nothing is
written. One audit row and one "directory.imported" event per import, never one per row.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from tqdm import tqdm

from linia.core import audit
from linia.core.errors import ActionError
from linia.core.models import Tenant
from linia.core.permissions import Perm, require
from linia.directory.import_rows import (
    FileProblem,
    RowError,
    Table,
    clean_product,
    clean_store,
    open_table,
    parse_datetime,
    parse_decimal,
    text,
)
from linia.directory.models import Product, Stock, Store
from linia.tickets.contacts import REGION_BY_LANGUAGE
from linia.tickets.events import emit

KINDS = ("stores", "products", "stock")
REQUIRED = {"stores": ("code", "name", "city"), "products": ("sku", "name"), "stock": ("store_code", "sku", "quantity")}
STORE_COLUMNS = ("code", "name", "address", "city", "region", "latitude", "longitude", "phone", "time_zone",
                 "hours", "is_active")
STOCK_COLUMNS = ("store_code", "sku", "quantity", "updated_at")
BATCH = 2000
REPORT_LINES = 50
KEPT_ERRORS = 1000  # a file of a million bad rows must not hold a million messages

__all__ = ["KINDS", "ImportResult", "RowError", "import_file", "upsert_stock"]


@dataclass
class ImportResult:
    """Counts and the validation report of one import.

    `ok` is False when the input was rejected and nothing was written; with skip_invalid the
    import is ok and `errors` lists the problems of the skipped rows (the first KEPT_ERRORS of
    `error_count`).
    """

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    rejected: bool = False
    error_count: int = 0
    _last_error_row: int = field(default=-1, repr=False)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def add_error(self, row: int, column: str, message: str) -> None:
        """Rows arrive in order, so a new row number means one more skipped row."""
        self.error_count += 1
        if row != self._last_error_row:
            self._last_error_row = row
            self.skipped += 1
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(RowError(row, column, message))

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "skipped": self.skipped, "errors": self.error_count}

    def summary(self) -> str:
        verb = "rejected" if self.rejected else ("checked (dry run)" if self.dry_run else "imported")
        c = self.counts()
        return (f"{self.kind} {verb}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged, "
                f"{c['skipped']} skipped, {c['errors']} errors")

    def report(self, limit: int = REPORT_LINES) -> list[str]:
        lines = [str(e) for e in self.errors[:limit]]
        if self.error_count > len(lines):
            lines.append(f"... and {self.error_count - len(lines)} more errors ({self.error_count} in all)")
        return lines


class _Rollback(Exception):
    """Leaves the import's transaction without writing anything."""


# --- public API ------------------------------------------------------------------------------------

def import_file(actor: Any, tenant: Tenant, kind: str, path: Path, *, skip_invalid: bool = False,
                dry_run: bool = False, progress: bool = False) -> ImportResult:
    """Import a CSV/XLSX file of `kind` (stores|products|stock) into `tenant`.

    Raises ActionError for an unknown kind or an unreadable file, PermissionDenied without
    Perm.DIRECTORY_MANAGE; row problems are returned in the result's report.
    """
    if kind not in KINDS:
        raise ActionError("unknown_kind", f"unknown import kind {kind!r}: use one of {', '.join(KINDS)}")
    _check_perm(actor, tenant)
    try:
        table = open_table(Path(path))
    except (FileProblem, OSError) as exc:
        raise ActionError("bad_file", str(exc)) from exc
    result = ImportResult(kind=kind, dry_run=dry_run)
    with table:
        missing = [c for c in REQUIRED[kind] if c not in table.columns]
        if missing:
            result.errors = [RowError(1, c, f"missing column {c!r}: add it to the header row") for c in missing]
            result.error_count, result.rejected = len(missing), True
            return result
        bar = _Progress(f"{kind}: {Path(path).name}", table.total, enabled=progress)
        try:
            _run(actor, tenant, result, lambda: _IMPORTERS[kind](tenant, table, result, bar, skip_invalid),
                 skip_invalid=skip_invalid, source=Path(path).name)
        except FileProblem as exc:
            raise ActionError("bad_file", str(exc)) from exc
        finally:
            bar.close()
    return result


def upsert_stock(actor: Any, tenant: Tenant, rows: Sequence[Mapping[str, object]], *,
                 skip_invalid: bool = False) -> ImportResult:
    """Stock rows {"store_code", "sku", "quantity", "updated_at"?} from an ERP push; row numbers are 1-based.

    Idempotent: the same payload again changes nothing and reports the rows as unchanged.
    """
    _check_perm(actor, tenant)
    result = ImportResult(kind="stock")
    table = Table(list(STOCK_COLUMNS), _payload_rows(rows, result), total=len(rows))
    _run(actor, tenant, result, lambda: _import_stock(tenant, table, result, _Progress("", None), skip_invalid),
         skip_invalid=skip_invalid, source="api")
    return result


def _payload_rows(rows: Sequence[object], result: ImportResult) -> Iterator[tuple[int, dict[str, object]]]:
    for number, row in enumerate(rows, start=1):
        if isinstance(row, Mapping):
            yield number, dict(row)
        else:
            result.add_error(number, "", "each row must be an object with store_code, sku, quantity")


# --- the transaction around every import -----------------------------------------------------------

def _check_perm(actor: Any, tenant: Tenant) -> None:
    if actor is not None:  # None = the system (CLI, scheduled ERP sync)
        require(actor, Perm.DIRECTORY_MANAGE, tenant)


def _run(actor: Any, tenant: Tenant, result: ImportResult, body: Callable[[], None], *,
         skip_invalid: bool, source: str) -> None:
    try:
        with transaction.atomic():
            body()
            if result.error_count and not skip_invalid:
                result.rejected = True
                raise _Rollback
            if result.dry_run:
                raise _Rollback
            data = {"kind": result.kind, "source": source, **result.counts()}
            audit.record(actor, f"import.{result.kind}", tenant, tenant=tenant, changes=data)
            emit(tenant.pk, "directory.imported", actor=actor, data=data)
    except _Rollback:
        pass
    if result.rejected:
        # Nothing was written: say so instead of reporting counts that were rolled back.
        result.created = result.updated = result.unchanged = 0


# --- stores and products: small tables, compared with what is stored to count unchanged rows ------

def _import_stores(tenant: Tenant, table: Table, result: ImportResult, bar: _Progress, skip_invalid: bool) -> None:
    present = [c for c in STORE_COLUMNS if c in table.columns]
    fields = ["opening_hours" if c == "hours" else c for c in present]
    existing = {s["code"]: s for s in Store.objects.filter(tenant=tenant).values(*fields)}
    region = REGION_BY_LANGUAGE.get(tenant.default_language, "RU")
    writer = _Upserter(Store, ["tenant", "code"], [f for f in fields if f != "code"] + ["updated_at"])
    seen: dict[str, int] = {}
    for number, row in table.rows:
        bar.update()
        values = {f: row.get(c) for c, f in zip(present, fields, strict=True)}
        clean, errors = clean_store(values, default_time_zone=tenant.time_zone, phone_region=region)
        for name, message in errors.items():
            result.add_error(number, "hours" if name == "opening_hours" else name, message)
        if not errors and not _duplicate(seen, clean["code"], number, "code", result):
            _count_and_queue(result, writer, existing.get(clean["code"]), clean,
                             lambda c: Store(tenant=tenant, **{"time_zone": tenant.time_zone, **c}))
        if result.error_count and not skip_invalid:
            writer.discard()  # the file will be rejected: keep validating, stop writing
    writer.flush()


def _import_products(tenant: Tenant, table: Table, result: ImportResult, bar: _Progress, skip_invalid: bool) -> None:
    attribute_columns = [c for c in table.columns if c and c not in {"sku", "name"}]
    fields = ["sku", "name"] + (["attributes"] if attribute_columns else [])
    existing = {p["sku"]: p for p in Product.objects.filter(tenant=tenant).values(*fields)}
    writer = _Upserter(Product, ["tenant", "sku"], [*fields[1:], "updated_at"])
    seen: dict[str, int] = {}
    for number, row in table.rows:
        bar.update()
        clean, errors = clean_product(row, attribute_columns if attribute_columns else None)
        for name, message in errors.items():
            result.add_error(number, name, message)
        if not errors and not _duplicate(seen, clean["sku"], number, "sku", result):
            _count_and_queue(result, writer, existing.get(clean["sku"]), clean,
                             lambda c: Product(tenant=tenant, **c))
        if result.error_count and not skip_invalid:
            writer.discard()
    writer.flush()


def _duplicate(seen: dict[Any, int], key: Any, number: int, column: str, result: ImportResult) -> bool:
    first = seen.setdefault(key, number)
    if first != number:
        result.add_error(number, column, f"{key} is already on row {first}: keep one of the rows")
        return True
    return False


def _count_and_queue(result: ImportResult, writer: _Upserter, before: dict[str, Any] | None,
                     clean: dict[str, Any], build: Callable[[dict[str, Any]], Model]) -> None:
    if before is None:
        result.created += 1
    elif all(before.get(k) == v for k, v in clean.items()):
        result.unchanged += 1
        return
    else:
        result.updated += 1
    writer.add(build(clean))


class _Upserter:
    """bulk_create(update_conflicts=True) in batches: an upsert on SQLite and PostgreSQL alike."""

    def __init__(self, model: type[Model], unique: list[str], update: list[str]) -> None:
        self.model, self.unique, self.update = model, unique, update
        self.pending: list[Model] = []

    def add(self, obj: Model) -> None:
        self.pending.append(obj)
        if len(self.pending) >= BATCH:
            self.flush()

    def discard(self) -> None:
        self.pending.clear()

    def flush(self) -> None:
        if self.pending:
            self.model._default_manager.bulk_create(self.pending, update_conflicts=True,
                                                    unique_fields=self.unique, update_fields=self.update)
            self.pending.clear()


# --- stock: up to millions of rows, streamed straight into an INSERT ... ON CONFLICT ---------------

def _import_stock(tenant: Tenant, table: Table, result: ImportResult, bar: _Progress, skip_invalid: bool) -> None:
    stores = {code: (pk, ZoneInfo(tz)) for code, pk, tz in
              Store.objects.filter(tenant=tenant).values_list("code", "pk", "time_zone")}
    products = dict(Product.objects.filter(tenant=tenant).values_list("sku", "pk"))
    before = Stock.objects.filter(tenant=tenant).count()
    writer = _StockWriter(tenant.pk)
    seen: dict[int, int] = {}
    timestamps: dict[tuple[object, ZoneInfo], object] = {}
    with _large_page_cache():
        for number, row in table.rows:
            bar.update()
            parsed = _stock_row(number, row, stores, products, timestamps, result)
            if parsed is not None:
                store_id, product_id, quantity, updated_at = parsed
                first = seen.setdefault(store_id << 64 | product_id, number)
                if first == number:
                    writer.add(store_id, product_id, quantity, updated_at)
                else:
                    result.add_error(number, "sku", f"store {text(row.get('store_code'))} and SKU "
                                     f"{text(row.get('sku'))} are already on row {first}: keep one row")
            if result.error_count and not skip_invalid:
                writer.discard()
        writer.flush()
    created = Stock.objects.filter(tenant=tenant).count() - before
    result.created, result.updated = created, writer.written - created
    result.unchanged = writer.sent - writer.written


@contextmanager
def _large_page_cache() -> Iterator[None]:
    """SQLite's default 2 MB page cache thrashes on a million index inserts; 64 MB saves ~15%."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size = -65536")
    try:
        yield
    finally:
        if not connection.needs_rollback:  # a failed transaction refuses queries; the cache size is harmless
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _stock_row(number: int, row: Mapping[str, object], stores: dict[str, tuple[int, ZoneInfo]],
               products: dict[str, int], timestamps: dict[tuple[object, ZoneInfo], object],
               result: ImportResult) -> tuple[int, int, Decimal, object] | None:
    count = result.error_count
    code = text(row.get("store_code"))
    store = stores.get(code)
    if store is None:
        result.add_error(number, "store_code", f"unknown store code {code!r}: import the store first"
                         if code else "store_code is empty; fill it in")
    sku = text(row.get("sku"))
    product_id = products.get(sku)
    if product_id is None:
        result.add_error(number, "sku", f"unknown SKU {sku!r}: import the product first"
                         if sku else "sku is empty; fill it in")
    try:
        quantity = parse_decimal(row.get("quantity"))
        if quantity < 0:
            result.add_error(number, "quantity", f"{quantity} is negative; stock is 0 or more")
    except ValueError as exc:
        result.add_error(number, "quantity", str(exc))
    updated_at: object = None
    raw_time = row.get("updated_at")
    if store is not None and raw_time not in (None, ""):
        key = (raw_time, store[1])
        updated_at = timestamps.get(key)
        if updated_at is None:
            try:
                updated_at = _remember(timestamps, key, _db_datetime(parse_datetime(raw_time, store[1])))
            except ValueError as exc:
                result.add_error(number, "updated_at", str(exc))
    if result.error_count > count or store is None or product_id is None:
        return None
    return store[0], product_id, quantity, updated_at


def _remember(cache: dict[Any, object], key: Any, value: object) -> object:
    if len(cache) > 10_000:  # ERP files repeat a few timestamps; do not grow without bound
        cache.clear()
    cache[key] = value
    return value


def _db_datetime(value: dt.datetime) -> object:
    return connection.ops.adapt_datetimefield_value(value)


_UPSERT = (
    "INSERT INTO {table} (tenant_id, store_id, product_id, quantity, updated_at) VALUES {values} "
    "ON CONFLICT (store_id, product_id) DO UPDATE SET quantity = excluded.quantity, "
    "updated_at = excluded.updated_at WHERE {changed}"
)


class _StockWriter:
    """Raw multi-row INSERT ... ON CONFLICT DO UPDATE WHERE changed, on SQLite and PostgreSQL.

    The WHERE leaves equal rows untouched, so the row count tells updated from unchanged. Many rows
    per statement: executemany sends one round trip per row to PostgreSQL. Rows without updated_at
    get the import time, but only when their quantity changes, so a repeated push is a no-op.
    """

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        self.now = _db_datetime(timezone.now())
        self.timed: list[tuple[Any, ...]] = []
        self.untimed: list[tuple[Any, ...]] = []
        self.sent = self.written = 0
        self.per_statement = min(1000, (connection.features.max_query_params or 5000) // 5)
        self.table = connection.ops.quote_name(Stock._meta.db_table)  # a model constant, not input
        self._sql: dict[tuple[bool, int], str] = {}

    def add(self, store_id: int, product_id: int, quantity: Decimal, updated_at: object) -> None:
        if updated_at is None:
            self.untimed.append((self.tenant_id, store_id, product_id, quantity, self.now))
        else:
            self.timed.append((self.tenant_id, store_id, product_id, quantity, updated_at))
        if len(self.timed) + len(self.untimed) >= BATCH * 5:
            self.flush()

    def discard(self) -> None:
        self.timed.clear()
        self.untimed.clear()

    def flush(self) -> None:
        with connection.cursor() as cursor:
            for timed, rows in ((True, self.timed), (False, self.untimed)):
                for start in range(0, len(rows), self.per_statement):
                    chunk = rows[start:start + self.per_statement]
                    cursor.execute(self._statement(timed, len(chunk)), [v for row in chunk for v in row])
                    self.sent += len(chunk)
                    self.written += max(cursor.rowcount, 0)
                rows.clear()

    def _statement(self, timed: bool, rows: int) -> str:
        key = (timed, rows)
        if key not in self._sql:
            changed = f"{self.table}.quantity <> excluded.quantity"
            if timed:
                changed += f" OR {self.table}.updated_at <> excluded.updated_at"
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * rows)
            self._sql[key] = _UPSERT.format(table=self.table, values=values, changed=changed)
        return self._sql[key]


_IMPORTERS = {"stores": _import_stores, "products": _import_products, "stock": _import_stock}


# --- progress --------------------------------------------------------------------------------------

class _Progress:
    """tqdm on a terminal; elsewhere (logs, cron) a plain line every 10 s so long imports show life."""

    EVERY = 1000

    def __init__(self, label: str, total: int | None, *, enabled: bool = False,
                 stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled, self.label, self.total = enabled, label, total
        self.count = self._pending = 0
        self.bar: tqdm[Any] | None = None
        self.last_line = time.monotonic()
        if enabled and self.stream.isatty():
            self.bar = tqdm(total=total, desc=label, unit=" rows", file=self.stream, mininterval=0.5)

    def update(self) -> None:
        self._pending += 1
        if self._pending >= self.EVERY:
            self._flush()

    def _flush(self) -> None:
        self.count += self._pending
        if self.bar is not None:
            self.bar.update(self._pending)
        elif self.enabled and time.monotonic() - self.last_line >= 10:
            self.last_line = time.monotonic()
            self.stream.write(f"{self.label}: {self.count} rows{self._of_total()}\n")
            self.stream.flush()
        self._pending = 0

    def _of_total(self) -> str:
        return f" of ~{self.total} ({100 * self.count // self.total}%)" if self.total else ""

    def close(self) -> None:
        self._flush()
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            self.stream.write(f"{self.label}: {self.count} rows read\n")

