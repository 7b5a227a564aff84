"""linia smtpd [--host H] [--port P] [--lmtp] [--workers N]: receive inbound mail from an MTA."""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linia.intake.email.smtpd import serve


class Command(BaseCommand):
    help = "SMTP (or LMTP) server for inbound mail: unknown recipients get 550, a 250 means stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=2525, help="port (default 2525; 0 picks a free one)")
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP (Postfix/Dovecot-style delivery)")
        parser.add_argument("--workers", type=int, default=4, help="threads storing messages (default 4)")
        parser.add_argument("--hostname", default="", help="name in the greeting (default: this host's)")
        parser.add_argument("--no-recover", action="store_true",
                            help="do not process messages a crash left stored at start-up")

    def handle(self, *args: Any, **options: Any) -> None:
        protocol = "LMTP" if options["lmtp"] else "SMTP"

        def ready(host: str, port: int) -> None:
            self.stdout.write(f"Linia smtpd ({protocol}) listening on {host}:{port}")
            self.stdout.flush()

        asyncio.run(serve(options["host"], options["port"], lmtp=options["lmtp"], workers=options["workers"],
                          hostname=options["hostname"], recover=not options["no_recover"], on_ready=ready))
