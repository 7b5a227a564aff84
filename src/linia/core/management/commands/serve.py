from __future__ import annotations

import os
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections


class Command(BaseCommand):
    help = "Serve Linia over ASGI (HTTP + websockets) with uvicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["no_migrate"]:
            call_command("migrate", verbosity=0, interactive=False)
        from linia.routing.dispatcher import recover

        released = recover()  # offers that expired while no process ran (crash, kill -9) go back to queues
        if released:
            self.stdout.write(f"Routing recovery: {released} expired offers released.")
        # Request threads are a fixed pool (linia.asgi.PooledASGIHandler): their connections can live on.
        keep = os.environ.setdefault("LINIA_DB_CONN_MAX_AGE", "600")  # for worker processes (--workers)
        for alias in settings.DATABASES:
            settings.DATABASES[alias]["CONN_MAX_AGE"] = int(keep)
        connections.close_all()
        self.stdout.write(f"Linia on http://{opts['host']}:{opts['port']}/")
        # lifespan starts the realtime pump. Desk messages are small JSON: compressing each one cost more CPU
        # than it saved bytes (permessage-deflate off); no access log line per request.
        uvicorn.run("linia.asgi:application", host=opts["host"], port=opts["port"], workers=opts["workers"],
                    log_level="warning", lifespan="on", ws_per_message_deflate=False, access_log=False)
