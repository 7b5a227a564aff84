"""`linia email parse FILE`: how Linia reads a message, as one JSON object.

Exit code 2 with a one-line reason when the file cannot be read or is not an email at all.
Other email subcommands (ingest, poll, reprocess) are added next to `parse` below.
"""

from __future__ import annotations

import json
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

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "parse":
            self.parse(Path(opts["file"]), compact=opts["compact"])

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
