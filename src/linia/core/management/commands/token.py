from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linia.core import actions
from linia.core.errors import ActionError
from linia.core.models import Tenant, User


class Command(BaseCommand):
    help = "API tokens: `linia token create --tenant SLUG --user USERNAME` prints a new bearer token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create"])
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--user", required=True, help="username the token acts as")
        parser.add_argument("--name", default="cli")

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
        if tenant is None:
            raise CommandError(f"no tenant with slug {opts['tenant']!r}; see the admin for slugs", returncode=2)
        user = User.objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"no user {opts['user']!r}", returncode=2)
        try:
            raw, _token = actions.create_api_token(None, tenant, user, name=opts["name"])
        except ActionError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        self.stdout.write(raw)
