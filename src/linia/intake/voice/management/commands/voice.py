"""`linia voice import-queue-log FILE --tenant SLUG` and `linia voice ami --host ... --tenant SLUG`.

import-queue-log exits 0 when every line was imported, 1 when some lines were unreadable or refused
(listed with their line numbers), 2 when the file cannot be used at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from linia.core.models import Tenant
from linia.intake.voice import actions, queue_log
from linia.intake.voice.ami import AmiAuthError, AmiClient
from linia.intake.voice.cti import CtiInput

MAX_FILE = 512 * 1024 * 1024
ISSUES_SHOWN = 50
log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Voice adapters: import Asterisk's queue_log, or follow Asterisk's AMI events."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import-queue-log", help="import an Asterisk queue_log file (safe to repeat)")
        imp.add_argument("file")
        imp.add_argument("--tenant", required=True, help="tenant slug")
        ami = sub.add_parser("ami", help="connect to Asterisk's manager interface and record queue calls")
        ami.add_argument("--host", default="127.0.0.1")
        ami.add_argument("--port", type=int, default=5038)
        ami.add_argument("--username", required=True)
        ami.add_argument("--secret", required=True)
        ami.add_argument("--tenant", required=True, help="tenant slug")

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = Tenant.objects.filter(slug=opts["tenant"], is_active=True).first()
        if tenant is None:
            raise CommandError(f"no active tenant with slug {opts['tenant']!r}", returncode=2)
        if opts["action"] == "import-queue-log":
            self.import_queue_log(tenant, Path(opts["file"]))
        else:
            self.follow_ami(tenant, opts)

    def import_queue_log(self, tenant: Tenant, path: Path) -> None:
        try:
            if path.stat().st_size > MAX_FILE:
                raise CommandError(f"{path}: larger than {MAX_FILE // 2**20} MiB", returncode=2)
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}", returncode=2) from exc
        if b"\x00" in data[:8192]:
            raise CommandError(f"{path}: a binary file, not a queue_log", returncode=2)
        parsed = queue_log.parse(queue_log.read_lines(data))
        if parsed.issues and not parsed.events and parsed.skipped == 0:
            self._issues(parsed.issues)
            raise CommandError(f"{path}: no line is in queue_log format (time|callid|queue|agent|event|...)",
                               returncode=2)
        results: Counter[str] = Counter()
        refused: list[queue_log.Issue] = []
        for record, event in parsed.events:
            outcome = actions.feed(tenant, event, source="queue_log", raw={"line": record.line, "text": record.text})
            results[outcome.split(":")[0]] += 1
            if outcome.startswith("rejected"):
                refused.append(queue_log.Issue(record.line, f"{event.event} refused ({outcome.split(':')[1]})"))
        self._issues(parsed.issues + refused)
        self.stdout.write(f"{path}: {parsed.lines} lines, {results['applied']} events applied, "
                          f"{results['duplicate']} already imported, {results['rejected']} refused, "
                          f"{len(parsed.issues)} unreadable lines, {parsed.skipped} lines without call events")
        if parsed.issues or refused:
            raise CommandError("some lines were not imported (see above)", returncode=1)

    def _issues(self, issues: list[queue_log.Issue]) -> None:
        for issue in sorted(issues, key=lambda i: i.line)[:ISSUES_SHOWN]:
            self.stderr.write(f"line {issue.line}: {issue.message}")
        if len(issues) > ISSUES_SHOWN:
            self.stderr.write(f"... and {len(issues) - ISSUES_SHOWN} more")

    def follow_ami(self, tenant: Tenant, opts: dict[str, Any]) -> None:
        client = AmiClient(opts["host"], opts["port"], opts["username"], opts["secret"])
        self.stdout.write(f"following AMI at {opts['host']}:{opts['port']} for {tenant.slug} (Ctrl-C stops)")
        try:
            asyncio.run(client.run(ami_handler(tenant)))
        except AmiAuthError as exc:
            raise CommandError(f"AMI login refused: {exc}", returncode=2) from exc
        except KeyboardInterrupt:
            pass


def ami_handler(tenant: Tenant) -> Any:
    """An async handler feeding AMI-derived events through the same action path as the HTTP API."""
    @sync_to_async
    def handle(event: CtiInput) -> None:
        try:
            outcome = actions.feed(tenant, event, source="ami", raw={"cti": event.event, **event.extra})
        except DatabaseError:
            # A database hiccup costs this event (logged), not the connection and the calls being followed.
            log.exception("AMI event %s of call %s not stored", event.event, event.call_id)
            close_old_connections()
            return
        if outcome.startswith("rejected"):
            log.warning("AMI event %s of call %s %s", event.event, event.call_id, outcome)

    return handle
