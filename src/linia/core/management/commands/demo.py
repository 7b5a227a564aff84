"""`linia demo`: migrate, seed the demo tenants (idempotent), print the logins, then serve."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linia.demo import background
from linia.demo.run import DemoReport, seed_demo


class Command(BaseCommand):
    help = "Seed demo tenants, users and tickets (safe to run again), print the demo logins and serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="exit after seeding")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--tickets", type=int, default=None,
                            help="tickets to have across the demo tenants (default 320, 40 with --small)")
        parser.add_argument("--small", action="store_true", help="fewer stores and tickets (for tests)")
        parser.add_argument("--no-simulate", action="store_true",
                            help="serve without the background traffic simulators (the worker still runs)")
        parser.add_argument("--smtp-port", type=int, default=2525,
                            help="port of the demo's inbound SMTP server (0: none)")
        parser.add_argument("--speed", type=float, default=1.0,
                            help="time compression of the simulated traffic (10 = ten times more calls and chats, "
                                 "each ten times shorter)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["tickets"] is not None and not 0 <= opts["tickets"] <= 100_000:
            raise CommandError("--tickets must be between 0 and 100000.", returncode=2)
        if not 1 <= opts["port"] <= 65535:
            raise CommandError("--port must be between 1 and 65535.", returncode=2)
        if not 0 <= opts["smtp_port"] <= 65535 or opts["smtp_port"] == opts["port"]:
            raise CommandError("--smtp-port must be between 0 and 65535 and differ from --port.", returncode=2)
        if not 0.1 <= opts["speed"] <= 100:
            raise CommandError("--speed must be between 0.1 and 100.", returncode=2)
        self.stdout.write(background.describe_realtime())
        call_command("migrate", verbosity=0, interactive=False)
        report = seed_demo(small=opts["small"], tickets=opts["tickets"], log=self.stdout.write)
        self._print(report, f"http://{opts['host']}:{opts['port']}/")
        if opts["no_serve"]:
            return
        host = "127.0.0.1" if opts["host"] in {"0.0.0.0", "::", ""} else opts["host"]  # noqa: S104 (a local client)
        background.use_public_url(f"http://{host}:{opts['port']}")
        background.relax_chat_limits_for_local_visitors()
        procs = background.start(f"http://{host}:{opts['port']}", simulate=not opts["no_simulate"],
                                 log=self.stdout.write, speed=opts["speed"], smtp_port=opts["smtp_port"])
        try:
            call_command("serve", host=opts["host"], port=opts["port"], no_migrate=True)
        finally:
            background.stop(procs)

    def _print(self, report: DemoReport, url: str) -> None:
        out = self.stdout.write
        out(f"\nDemo data ready in {report.seconds:.1f} s.")
        for t in report.tenants:
            out(f"  {t.slug:<15} {t.name:<15} {t.time_zone:<18} stores {t.stores:>5}   "
                f"tickets {t.tickets:>4} (+{t.tickets_added} this run)")
        out("\nDemo logins (demo passwords, change them before real use):")
        out(f"  {'username':<16} {'password':<11} {'role':<15} tenant(s)")
        for login in report.logins:
            tenants = ", ".join(login.tenants) or "all (platform)"
            note = f"  — {login.note}" if login.note else ""
            out(f"  {login.username:<16} {login.password:<11} {login.role:<15} {tenants}{note}")
        out(f"\nOpen {url} and log in with one of the users above.")
        out(f"Demo shops with the chat widget and web forms (the customer's side): {url}shop/")
        out(f"Store and client staff (dp-store, dp-serwis-maz, mm-store ...) land in the portal: {url}portal/")
