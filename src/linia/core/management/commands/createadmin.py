from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linia.core.models import User

NON_INTERACTIVE_HINT = "no password given: pass --password or set LINIA_ADMIN_PASSWORD (or run it in a terminal)"


class Command(BaseCommand):
    help = "Create (or reset the password of) a platform administrator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="default: $LINIA_ADMIN_PASSWORD or asked interactively")

    def handle(self, *args: Any, **opts: Any) -> None:
        password = opts["password"] or os.environ.get("LINIA_ADMIN_PASSWORD")
        if not password:
            # Never block a script or CI run waiting on a prompt nobody will answer.
            if not sys.stdin or not sys.stdin.isatty():
                raise CommandError(NON_INTERACTIVE_HINT, returncode=2)
            try:
                password = getpass.getpass("Password: ")
            except (EOFError, KeyboardInterrupt, OSError) as exc:
                raise CommandError(NON_INTERACTIVE_HINT, returncode=2) from exc
        if not opts["username"].strip():
            raise CommandError("empty --username", returncode=2)
        if len(password) < 8:
            raise CommandError("password too short: use at least 8 characters", returncode=2)
        user, created = User.objects.get_or_create(username=opts["username"], defaults={"email": opts["email"]})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"{'created' if created else 'updated'} platform admin {user.username}")
