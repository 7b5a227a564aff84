"""`linia import stores|products|stock FILE --tenant SLUG`: a thin front to linia.directory.importing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linia.core.errors import ActionError
from linia.core.models import Tenant
from linia.directory.importing import KINDS, import_file

HELP = """Import stores, products or stock of one tenant from a CSV or XLSX file (upsert).

Files: .csv (UTF-8, UTF-8 with BOM or Windows-1251; comma, semicolon or tab separated) or .xlsx
(first sheet). The first row is the header; column names are case-insensitive, extra columns are
ignored (products: kept as attributes).

  stores    code*, name*, city*, address, region, latitude, longitude, phone, time_zone (IANA name,
            default the tenant's), hours ("mon-fri 08:00-22:00; sat 09:00-21:00; sun closed", "24/7",
            "pn-pt 06:00-22:00", "пн-вс 08:00-23:00", or JSON), is_active (1/0, yes/no)
  products  sku*, name*; every other column goes into the product's attributes
  stock     store_code*, sku*, quantity* (0 or more, up to 3 decimals, "3.5" or "3,5"), updated_at
            (ISO 8601, e.g. 2026-11-25T14:30:00+01:00; without an offset: the store's local time;
            empty: now, if the quantity changed). Stores and products must exist first.
  (* required) Rows are matched by code / sku / (store_code, sku): new ones are created, others updated.
  Only the columns in the file are changed; an empty cell clears that value (hours: no hours known).

Any invalid row rejects the whole file: nothing is written, the report (row, column, what to fix) goes
to stderr and the exit code is 2. With --skip-invalid the valid rows are imported, invalid ones
reported, exit code 0.
"""


class Command(BaseCommand):
    help = HELP
    requires_system_checks: list[str] = []  # a data import needs no URL/admin checks (and starts faster)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS, help="what the file holds")
        parser.add_argument("file", type=Path, help="the .csv or .xlsx file")
        parser.add_argument("--tenant", required=True, metavar="SLUG", help="the tenant to import into")
        parser.add_argument("--skip-invalid", action="store_true", help="import the valid rows, report the rest")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
        if tenant is None:
            known = ", ".join(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:20]) or "none yet"
            raise CommandError(f"unknown tenant {opts['tenant']!r}: use one of {known}", returncode=2)
        try:
            result = import_file(None, tenant, opts["kind"], opts["file"], skip_invalid=opts["skip_invalid"],
                                 dry_run=opts["dry_run"], progress=True)
        except ActionError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        for line in result.report():
            self.stderr.write(line)
        if not result.ok:
            raise CommandError(f"{result.summary()}; nothing was written. Fix the rows above or use "
                               "--skip-invalid.", returncode=2)
        self.stdout.write(result.summary())
