"""Directory read paths over 2,600 stores in ~300 cities: "open now in a city" and typo-tolerant search.

    .venv/bin/python benchmarks/directory_search.py [--queries 300] [--seed 7]

A fresh SQLite database in a temporary LINIA_HOME. Measured through linia.directory.queries with its
per-tenant index warm (the one-off build is printed separately). Baselines in the same run:
- city: ``Store.objects.filter(city__iexact=...)`` + ``OpeningHours.is_open`` per store (exact city
  spelling, no holidays or exceptions);
- search: ``name/city/address__icontains`` with the *correctly spelled* query (it finds nothing for a
  typo, so its recall on the typo queries is printed next to ours).
Target: p95 < 20 ms for both read paths.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import percentile, setup_django

TARGET_P95_MS = 20.0
L_OPEN, L_BASE_CITY = "stores_open_now(tenant, city)", "baseline: city__iexact + is_open"
L_SEARCH, L_BASE_SEARCH = "search_stores(tenant, q with typos)", "baseline: icontains, correct spelling"
STORES, CITIES = 2600, 300
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REAL_CITIES = ["Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Szczecin", "Bydgoszcz", "Lublin",
               "Białystok", "Katowice", "Gdynia", "Częstochowa", "Radom", "Toruń", "Sosnowiec", "Rzeszów",
               "Kielce", "Gliwice", "Olsztyn", "Zielona Góra", "Bielsko-Biała", "Bytom", "Zabrze", "Opole",
               "Rybnik", "Tychy", "Elbląg", "Płock", "Wałbrzych", "Włocławek", "Tarnów", "Chorzów", "Koszalin",
               "Kalisz", "Legnica", "Grudziądz", "Jaworzno", "Słupsk", "Jastrzębie-Zdrój", "Nowy Sącz"]
STREETS = ["Prosta", "Długa", "Krótka", "Kościuszki", "Mickiewicza", "Słowackiego", "Piłsudskiego", "Polna",
           "Leśna", "Ogrodowa", "Lipowa", "Kwiatowa", "Szkolna", "Kolejowa", "Sienkiewicza", "Wojska Polskiego",
           "Jana Pawła II", "3 Maja", "Żeromskiego", "Reymonta", "Konopnickiej", "Piotrkowska", "Marszałkowska",
           "Grunwaldzka", "Zwycięstwa", "Rynek", "Dworcowa", "Młyńska", "Górna", "Wiejska", "Źródlana"]
SYLLABLES = ["bo", "rza", "wi", "ce", "ło", "ko", "sza", "dy", "mie", "lin", "gó", "ra", "sta", "now", "brze",
             "pol", "ska", "czy", "wo", "la", "ry", "ki", "trze", "bia", "łe", "ja", "ro", "sław", "zdrój"]


def city_names(rng: random.Random) -> list[str]:
    names = list(REAL_CITIES)
    seen = set(names)
    while len(names) < CITIES:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        if rng.random() < 0.1:
            name += " " + rng.choice(["Wielki", "Mały", "Górny", "Dolny", "Śląski"])
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def opening_hours(rng: random.Random) -> dict[str, object]:
    kind = rng.random()
    if kind < 0.06:
        return {"always": True}
    week: dict[str, object]
    if kind < 0.12:  # late shop open over midnight
        week = {d: ["10:00-02:00"] for d in DAYS[:5]}
        week.update(sat=["10:00-04:00"], sun=["12:00-24:00"])
    elif kind < 0.2:  # lunch break, closed on Sunday
        week = {d: ["08:00-13:00", "14:00-18:00"] for d in DAYS[:5]}
        week.update(sat=["09:00-14:00"])
    else:
        week = {d: ["06:00-22:00"] for d in DAYS[:6]}
        week.update(sun=[] if rng.random() < 0.7 else ["09:00-20:00"])
    return week


def typo(word: str, rng: random.Random) -> str:
    """One random edit (drop, swap, double or replace a letter) inside a word of 5+ letters."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    edit = rng.choice(["drop", "swap", "double", "replace"])
    if edit == "drop":
        return word[:i] + word[i + 1:]
    if edit == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if edit == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiouyrnstkl") + word[i + 1:]


CPU_MS: dict[str, list[float]] = {}


def timed_ms(label: str, fn: Callable[[], object]) -> tuple[float, object]:
    """Wall-clock ms of one call (recording this thread's CPU ms too, to tell a busy machine apart)."""
    cpu, start = time.thread_time(), time.perf_counter()
    result = fn()
    wall = (time.perf_counter() - start) * 1000
    CPU_MS.setdefault(label, []).append((time.thread_time() - cpu) * 1000)
    return wall, result


def report(label: str, samples: list[float]) -> float:
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    cpu95 = percentile(CPU_MS[label], 95)
    print(f"  {label:<40} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  max {max(samples):7.2f} ms  (CPU p95 {cpu95:6.2f})")
    return p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    home = setup_django("linia-bench-search-")

    from django.db.models import Q

    from linia.core.models import Tenant
    from linia.directory import queries
    from linia.directory.hours import OpeningHours, parse_weekly
    from linia.directory.models import Holiday, Store, StoreHoursException

    rng = random.Random(args.seed)
    tenant = Tenant.objects.create(slug="bench", name="Bench", time_zone="Europe/Warsaw", default_language="pl",
                                   ticket_prefix="BEN")
    cities = city_names(rng)
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(cities))]  # a few big cities, a long tail
    stores = []
    for i in range(STORES):
        city = rng.choices(cities, weights)[0]
        street = rng.choice(STREETS)
        stores.append(Store(tenant=tenant, code=f"PL{i:05d}", name=f"Biedronka {city} {street}", city=city,
                            address=f"ul. {street} {rng.randint(1, 200)}", region="PL-" + city[:2].upper(),
                            time_zone="Europe/Warsaw", opening_hours=opening_hours(rng)))
    Store.objects.bulk_create(stores, batch_size=500)
    stores = list(Store.objects.filter(tenant=tenant))
    Holiday.objects.create(tenant=tenant, date=date(2026, 12, 25), name="Boże Narodzenie", spans=[])
    Holiday.objects.create(tenant=tenant, date=date(2026, 12, 24), name="Wigilia", spans=["06:00-14:00"])
    StoreHoursException.objects.bulk_create(
        StoreHoursException(tenant=tenant, store=s, date=date(2026, 12, 24), spans=["07:00-15:00"])
        for s in rng.sample(stores, 200))
    print(f"{STORES} stores in {len({s.city for s in stores})} cities, data in {home}")

    # Random instants over a week (incl. Christmas Eve, when exceptions matter) and random cities,
    # weighted like callers' questions, a third of them misspelled.
    base = datetime(2026, 12, 21, tzinfo=UTC)
    instants = [base + timedelta(minutes=rng.randrange(7 * 24 * 60)) for _ in range(args.queries)]
    asked = [rng.choice(stores).city for _ in range(args.queries)]
    spelled = [typo(c, rng) if rng.random() < 0.33 else c for c in asked]
    targets = rng.sample(stores, args.queries)

    def search_query(store: Store) -> tuple[str, str]:
        """How an agent types a caller's words: street and number, often with the city; typos."""
        street, number = store.address.split()[1], store.address.split()[-1]
        words = [store.city, street, number] if rng.random() < 0.6 else [street, number]
        return " ".join(typo(w, rng) for w in words), " ".join(words)

    pairs = [search_query(s) for s in targets]

    build_ms, _ = timed_ms("build", lambda: queries.store_index(tenant))
    print(f"index build (once per change of the tenant's stores): {build_ms:.1f} ms")

    def baseline_city(city: str, at: datetime) -> list[Store]:
        found = Store.objects.filter(tenant=tenant, city__iexact=city, is_active=True)
        return [s for s in found if OpeningHours(parse_weekly(s.opening_hours), {}, s.time_zone).is_open(at)]

    def baseline_search(q: str) -> list[Store]:
        qs = Store.objects.filter(tenant=tenant, is_active=True)
        for word in q.split():
            qs = qs.filter(Q(name__icontains=word) | Q(city__icontains=word) | Q(address__icontains=word))
        return list(qs[:20])

    open_ms: list[float] = []
    base_city_ms: list[float] = []
    search_ms: list[float] = []
    base_search_ms: list[float] = []
    found_ours = found_base = 0
    for city, at, (typed, correct), target in zip(spelled, instants, pairs, targets, strict=True):
        ms, _ = timed_ms(L_OPEN, partial(queries.stores_open_now, tenant, city, at))
        open_ms.append(ms)
        ms, _ = timed_ms(L_BASE_CITY, partial(baseline_city, city, at))
        base_city_ms.append(ms)
        ms, result = timed_ms(L_SEARCH, partial(queries.search_stores, tenant, typed))
        search_ms.append(ms)
        found_ours += target in result  # type: ignore[operator]
        ms, result = timed_ms(L_BASE_SEARCH, partial(baseline_search, correct))
        base_search_ms.append(ms)
        found_base += target in result  # type: ignore[operator]
    # The baseline cannot find a misspelled city at all; count how many cities our path resolved.
    resolved = sum(bool(queries.store_index(tenant).city_ids(c)) for c in spelled)

    print(f"\n{args.queries} queries each:")
    p95_open = report(L_OPEN, open_ms)
    p95_base_city = report(L_BASE_CITY, base_city_ms)
    p95_search = report(L_SEARCH, search_ms)
    p95_base_search = report(L_BASE_SEARCH, base_search_ms)
    print(f"\nstores_open_now / baseline p95: {p95_open / p95_base_city:.2f}x "
          f"(cities resolved: {resolved}/{args.queries}, {sum(c != a for c, a in zip(spelled, asked, strict=True))} "
          "misspelled; the baseline finds none of those)")
    print(f"search_stores / baseline p95: {p95_search / p95_base_search:.2f}x "
          f"(target store in top 20: ours {found_ours}/{args.queries} with typos, "
          f"baseline {found_base}/{args.queries} spelled correctly)")
    ok = p95_open < TARGET_P95_MS and p95_search < TARGET_P95_MS
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict}: p95 open-now {p95_open:.2f} ms, search {p95_search:.2f} ms (target < {TARGET_P95_MS:.0f} ms); "
          f"total run {time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
