"""Ticket creation through the service layer against raw SQL inserts of the same rows.

    .venv/bin/python benchmarks/ticket_create.py [--n 2000] [--db sqlite|postgres|both] [--breakdown]

Service: ``linia.tickets.actions.create_ticket(None, tenant, ...)`` — ticket + first message + two events
+ search index, one transaction per ticket. Baseline, same run and same connection: ``cursor.execute`` of
the counter UPDATE ... RETURNING, the ticket, message and two event INSERTs, one transaction per ticket.
Both run in alternating rounds so background load hits them alike. Target: service >= 30% of baseline.
--breakdown adds a third path, create_ticket with search indexing switched off, to show the index's share.

SQLite: a fresh database in a temporary LINIA_HOME. PostgreSQL: database linia_bench_<pid> on
127.0.0.1:5432 (created and dropped here; override the server with BENCH_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

TARGET_RATIO = 0.30
ROUNDS = 4
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import scratch_database  # noqa: E402 (run as a script too)

BODY = ("Dzień dobry, kupiłam wczoraj jogurt w sklepie przy ul. Prostej, termin ważności minął tydzień temu. "
        "Proszę o zwrot pieniędzy. Paragon nr 4711/2026.")


class Bench:
    def __init__(self) -> None:
        from linia.core.models import Tenant
        from linia.directory.models import Category
        from linia.tickets import actions

        self.tenant = Tenant.objects.create(slug="bench", name="Bench", ticket_prefix="BEN",
                                            default_language="pl", time_zone="Europe/Warsaw")
        self.category = Category.objects.create(tenant=self.tenant, code="complaint", name="Reklamacja")
        self.contact = actions.find_or_create_contact(None, self.tenant, name="Anna Nowak",
                                                      phones=["+48 601 234 567"])
        self.i = 0

    def service(self, n: int, index: bool = True) -> float:
        from linia.tickets import search
        from linia.tickets.actions import create_ticket

        real = search.index_ticket
        if not index:
            search.index_ticket = lambda ticket, **kw: None  # diagnostic only (--breakdown)
        try:
            start = time.perf_counter()
            for _ in range(n):
                self.i += 1
                create_ticket(None, self.tenant, subject=f"Przeterminowany jogurt {self.i}", channel="call",
                              body=BODY, contact=self.contact, category=self.category)
            return time.perf_counter() - start
        finally:
            search.index_ticket = real

    def baseline(self, n: int) -> float:
        from django.db import connection, transaction
        from django.utils import timezone

        tenant_id, contact_id, category_id = self.tenant.pk, self.contact.pk, self.category.pk
        empty = json.dumps({})
        start = time.perf_counter()
        for _ in range(n):
            self.i += 1
            now = timezone.now()
            with transaction.atomic(), connection.cursor() as c:
                c.execute("UPDATE tickets_ticketcounter SET last_number = last_number + 1 "
                          "WHERE tenant_id = %s RETURNING last_number", [tenant_id])
                number = c.fetchone()[0]
                c.execute(
                    "INSERT INTO tickets_ticket (tenant_id, number, reference, subject, channel, status, priority, "
                    "category_id, contact_id, queue, language, custom_fields, created_at, updated_at) "
                    "VALUES (%s, %s, %s, %s, 'call', 'new', 'normal', %s, %s, '', 'pl', %s, %s, %s) RETURNING id",
                    [tenant_id, number, f"BEN-{number:06d}", f"Przeterminowany jogurt {self.i}", category_id,
                     contact_id, empty, now, now])
                ticket_id = c.fetchone()[0]
                c.execute("INSERT INTO tickets_event (tenant_id, kind, ticket_id, data, created_at) "
                          "VALUES (%s, 'ticket.created', %s, %s, %s)", [tenant_id, ticket_id, empty, now])
                c.execute("INSERT INTO tickets_message (tenant_id, ticket_id, kind, direction, channel, "
                          "author_contact_id, body_text, body_html, created_at) "
                          "VALUES (%s, %s, 'public', 'inbound', 'call', %s, %s, '', %s) RETURNING id",
                          [tenant_id, ticket_id, contact_id, BODY, now])
                message_id = c.fetchone()[0]
                c.execute("INSERT INTO tickets_event (tenant_id, kind, ticket_id, data, created_at) "
                          "VALUES (%s, 'message.created', %s, %s, %s)",
                          [tenant_id, ticket_id, json.dumps({"message_id": message_id}), now])
        return time.perf_counter() - start


def run(db: str, n: int, breakdown: bool) -> float:
    with scratch_database(db, "linia-bench-tickets-"):
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0, skip_checks=True)

        bench = Bench()
        bench.service(20)  # warm caches and code paths
        bench.baseline(20)
        per_round = max(1, n // ROUNDS)
        spent = {"service": 0.0, "baseline": 0.0, "unindexed": 0.0}
        for _ in range(ROUNDS):
            spent["baseline"] += bench.baseline(per_round)
            spent["service"] += bench.service(per_round)
            if breakdown:
                spent["unindexed"] += bench.service(per_round, index=False)
        total = per_round * ROUNDS
        service, baseline = total / spent["service"], total / spent["baseline"]
        ratio = service / baseline
        print(f"[{db} {connection.vendor}] {total} tickets each, {ROUNDS} alternating rounds")
        print(f"  raw SQL baseline : {baseline:9.1f} tickets/s")
        print(f"  create_ticket    : {service:9.1f} tickets/s")
        if breakdown:
            share = 1 - spent["unindexed"] / spent["service"]
            print(f"  without search   : {total / spent['unindexed']:9.1f} tickets/s "
                  f"(search indexing is {share:.0%} of create_ticket's time)")
        print(f"  ratio            : {ratio:9.2f}  (target >= {TARGET_RATIO:.2f}) "
              f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}")
        sys.stdout.flush()
        return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="tickets per path (default 2000)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--breakdown", action="store_true", help="also time create_ticket without search indexing")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be at least 1")
    if args.db == "both":  # each database needs its own Django settings, so its own process
        extra = ["--breakdown"] if args.breakdown else []
        codes = [subprocess.call([sys.executable, __file__, "--n", str(args.n), "--db", db, *extra])
                 for db in ("sqlite", "postgres")]
        return max(codes)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    return 0 if run(args.db, args.n, args.breakdown) >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
