"""`linia email parse FILE`: how Linia reads a message, as one JSON object.

Exit code 2 with a one-line reason when the file cannot be read or is not an email at all.
`linia email ingest [--recipient ADDR] < message.eml` (pipe delivery) and `linia email reprocess` ingest;
`linia email poll [--once] [--mailbox ADDRESS]` pulls mail from IMAP mailboxes (linia.intake.email.imap).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linia.intake.email.parse import NotAnEmail, parse_message, to_json

MAX_FILE = 256 * 1024 * 1024


class Command(BaseCommand):
    help = "Email channel: parse a message file (and, with the ingest helpers, ingest and poll mail)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        parse = sub.add_parser("parse", help="print how Linia reads an .eml file, as JSON")
        parse.add_argument("file")
        parse.add_argument("--compact", action="store_true", help="one line of JSON instead of indented")
        ingest = sub.add_parser("ingest", help="ingest one message from stdin (pipe delivery from an MTA); "
                                "exit 0 stored, 67 unknown recipient, 65 refused (too large, not mail), 75 retry")
        ingest.add_argument("--recipient", action="append", default=[],
                            help="envelope recipient (repeatable); default: the message's own To/Cc headers")
        reprocess = sub.add_parser("reprocess", help="process messages a crash left stored but unprocessed")
        reprocess.add_argument("--failed", action="store_true", help="also retry messages whose processing failed")
        poll = sub.add_parser("poll", help="pull mail from the mailboxes' IMAP servers (IDLE where offered)")
        poll.add_argument("--once", action="store_true", help="one pass over the mailboxes; exit 1 if any failed")
        poll.add_argument("--mailbox", metavar="ADDRESS", help="only this mailbox")
        poll.add_argument("--interval", type=float, default=60.0,
                          help="seconds between polls of servers without IDLE (default 60)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "parse":
            self.parse(Path(opts["file"]), compact=opts["compact"])
        elif opts["action"] == "ingest":
            self.ingest(opts["recipient"])
        elif opts["action"] == "reprocess":
            self.reprocess(include_failed=opts["failed"])
        elif opts["action"] == "poll":
            from linia.intake.email.imap import poll_command

            poll_command(self.stdout, once=opts["once"], address=opts["mailbox"], interval=opts["interval"])

    def ingest(self, recipients: list[str]) -> None:
        """Exit codes as an MDA's (sysexits.h), so the MTA bounces or retries the right way."""
        from linia.intake.email.actions import ingest_raw, max_bytes

        raw = sys.stdin.buffer.read(max_bytes() + 1)
        try:
            result = ingest_raw(raw, recipients=recipients, source="pipe")
        except Exception as exc:  # not stored: the MTA keeps the message and tries again
            raise CommandError(f"temporary failure, message not stored: {exc}", returncode=75) from exc
        if result.status == "rejected":
            code = 67 if result.reason == "unknown_recipient" else 65
            raise CommandError(f"{result.reason}: {result.message}", returncode=code)
        self.stdout.write(f"{result.status} inbound={result.inbound_id} ticket={result.ticket_id or '-'}")

    def reprocess(self, *, include_failed: bool) -> None:
        from linia.intake.email.actions import reprocess_stored

        results = reprocess_stored(include_failed=include_failed)
        failed = sum(1 for r in results if r.status == "failed")
        self.stdout.write(f"{len(results)} processed, {failed} failed")

    def parse(self, path: Path, *, compact: bool) -> None:
        try:
            if path.stat().st_size > MAX_FILE:
                raise CommandError(f"{path}: larger than {MAX_FILE // 2**20} MiB", returncode=2)
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}", returncode=2) from exc
        try:
            parsed = parse_message(raw)
        except NotAnEmail as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from exc
        self.stdout.write(json.dumps(to_json(parsed), ensure_ascii=False, indent=None if compact else 2))
