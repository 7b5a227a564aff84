"""Directory import: 2,600 stores and 1,000,000 stock rows from CSV through `import_file`, on SQLite.

    .venv/bin/python benchmarks/directory_import.py [--stock-rows 1000000] [--reimport]

A fresh SQLite database in a temporary LINIA_HOME. Baseline, measured in the same run: raw sqlite3
`executemany` INSERT of the same stock rows (ids already resolved) into an identical fresh table
(same columns, indexes and pragmas) in one transaction. Target: stores + stock under 60 s.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import setup_django

TARGET_SECONDS = 60.0
STORES, PRODUCTS = 2600, 400
CITIES = ["Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Szczecin", "Lublin", "Katowice"]


def write_files(folder: Path, stock_rows: int) -> tuple[Path, Path, Path]:
    rng = random.Random(7)
    stores, products, stock = folder / "stores.csv", folder / "products.csv", folder / "stock.csv"
    with stores.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["code", "name", "address", "city", "region", "latitude", "longitude", "phone", "hours"])
        for i in range(STORES):
            city = CITIES[i % len(CITIES)]
            hours = "24/7" if i % 50 == 0 else "pn-sb 06:00-22:00; nd 09:00-20:00"
            w.writerow([f"PL{i:05d}", f"Sklep {i}", f"ul. Prosta {i}", city, "PL", f"{50 + rng.random():.5f}",
                        f"{19 + rng.random():.5f}", f"+48 22 {100 + i % 900} {10 + i % 90} {10 + i % 89}", hours])
    with products.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["sku", "name", "brand", "unit"])
        for j in range(PRODUCTS):
            w.writerow([f"SKU{j:06d}", f"Product {j}", f"Brand {j % 17}", "pcs"])
    with stock.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["store_code", "sku", "quantity", "updated_at"])
        for n in range(stock_rows):
            i, j = divmod(n, PRODUCTS)
            w.writerow([f"PL{i % STORES:05d}", f"SKU{j:06d}", rng.randint(0, 500), "2026-11-25T06:00:00+01:00"])
    return stores, products, stock


def timed(label: str, fn: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:8.2f} s  {getattr(result, 'summary', lambda: '')()}", flush=True)
    return seconds, result


def baseline(db: Path, stock_csv: Path) -> tuple[float, int]:
    """Raw executemany of the same rows into a copy of the stock table (same DDL and indexes)."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    stores = dict(con.execute("SELECT code, id FROM directory_store"))
    products = dict(con.execute("SELECT sku, id FROM directory_product"))
    tenant_id = con.execute("SELECT id FROM core_tenant WHERE slug = 'bench'").fetchone()[0]
    with stock_csv.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = [(tenant_id, stores[s], products[p], q, "2026-11-25 05:00:00") for s, p, q, _ in reader]
    for (sql,) in con.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'directory_stock' AND sql IS NOT NULL"):
        con.execute(sql.replace('"directory_stock"', '"bench_stock"').replace("directory_stock_", "bench_stock_")
                    .replace("stock_store_product", "bench_stock_store_product"))
    start = time.perf_counter()
    con.execute("BEGIN")
    con.executemany('INSERT INTO "bench_stock" (tenant_id, store_id, product_id, quantity, updated_at) '
                    "VALUES (?, ?, ?, ?, ?)", rows)
    con.execute("COMMIT")
    seconds = time.perf_counter() - start
    count = con.execute('SELECT count(*) FROM "bench_stock"').fetchone()[0]
    con.close()
    return seconds, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stock-rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary LINIA_HOME")
    parser.add_argument("--reimport", action="store_true", help="also time importing the same stock file again")
    args = parser.parse_args()
    home = setup_django("linia-bench-import-")
    from django.db import connection

    from linia.core.models import Tenant
    from linia.directory.importing import import_file
    from linia.directory.models import Stock

    tenant = Tenant.objects.create(slug="bench", name="Bench", time_zone="Europe/Warsaw", default_language="pl",
                                   ticket_prefix="BEN")
    print(f"SQLite {sqlite3.sqlite_version}, data in {home}; generating files ...", flush=True)
    stores_csv, products_csv, stock_csv = write_files(home, args.stock_rows)

    t_stores, _ = timed(f"import {STORES} stores", lambda: import_file(None, tenant, "stores", stores_csv))
    t_products, _ = timed(f"import {PRODUCTS} products", lambda: import_file(None, tenant, "products", products_csv))
    t_stock, result = timed(f"import {args.stock_rows:,} stock rows",
                            lambda: import_file(None, tenant, "stock", stock_csv))
    assert Stock.objects.filter(tenant=tenant).count() == args.stock_rows, result
    if args.reimport:
        timed("re-import the same stock file", lambda: import_file(None, tenant, "stock", stock_csv))
    connection.close()

    t_base, count = baseline(Path(connection.settings_dict["NAME"]), stock_csv)
    assert count == args.stock_rows
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    print(f"{'baseline: raw executemany of stock':<34} {t_base:8.2f} s")
    total = t_stores + t_stock
    print(f"stock import / raw baseline: {t_stock / t_base:.2f}x "
          f"({args.stock_rows / t_stock:,.0f} vs {args.stock_rows / t_base:,.0f} rows/s)")
    verdict = "PASS" if total < TARGET_SECONDS else "FAIL"
    print(f"stores + stock: {total:.2f} s (products {t_products:.2f} s) -> {verdict} (under {TARGET_SECONDS:.0f} s)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
