from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linia.core.models import Tenant
from linia.tickets import search


class Command(BaseCommand):
    help = "Rebuild the ticket full-text search index (all tenants, or one with --tenant SLUG)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="tenant slug; default: every tenant")

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant_id = None
        if opts["tenant"]:
            tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
            if tenant is None:
                raise CommandError(f"no tenant with slug {opts['tenant']!r}", returncode=2)
            tenant_id = tenant.pk
        count = search.rebuild(tenant_id)
        self.stdout.write(f"reindexed {count} tickets")
