"""The `linia` command: a thin front to Django management commands with Linia's names.

linia serve [--host --port]   ASGI server (uvicorn)      linia worker      background jobs (Huey)
linia migrate                 create/upgrade the schema  linia demo [--no-serve] [--no-simulate] [--small] [--speed X]
linia createadmin             platform administrator     linia token create --tenant SLUG --user NAME
linia import stores|products|stock FILE --tenant SLUG [--skip-invalid]
linia reindex [--tenant SLUG]  rebuild the ticket search index
linia voice import-queue-log FILE --tenant SLUG     linia voice ami --host H --port P ... (Asterisk)
linia simulate --tenant SLUG --calls-per-hour N --chats-per-hour M --agents K --minutes D [--speed X]
linia smtpd [--host H] [--port P] [--lmtp]          inbound mail server (SMTP/LMTP) for an MTA or for tests
linia email parse FILE        how Linia reads a message, as JSON (exit 2: not an email)
linia email ingest < MSG      pipe delivery (exit 0 stored, 67 unknown recipient, 75 retry)
linia email poll [--once]     pull the mailboxes' IMAP folders (IDLE where offered)
linia email reprocess         finish messages a crash left stored but unprocessed
linia webhooks replay [--tenant SLUG] [--subscription ID] [--delivery ID ...]   dead letters again
Any other Django management command works too (linia shell, linia check, ...).
"""

from __future__ import annotations

import os
import sys

ALIASES = {"import": "import_data", "worker": "run_huey"}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linia.settings")
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return
    try:
        _run(args)
    except Exception as exc:  # a missing table means migrations have not run: say what to do, not a traceback
        from django.core.exceptions import ImproperlyConfigured

        if isinstance(exc, ImproperlyConfigured):  # a setting from the environment is wrong: it says which
            print(f"linia: {exc}", file=sys.stderr)
            sys.exit(2)
        if not _is_missing_table(exc):
            raise
        print(f"linia: the database at {_database_name()} is not set up ({exc}); run `linia migrate` first.",
              file=sys.stderr)
        sys.exit(2)


def _run(args: list[str]) -> None:
    if args[0] in ALIASES:  # run the Django command under its short name, so its usage says "linia import"
        import django
        from django.core.management import ManagementUtility

        django.setup()
        ManagementUtility(["linia", *args]).fetch_command(ALIASES[args[0]]).run_from_argv(["linia", *args])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["linia", *args])


def _is_missing_table(exc: BaseException) -> bool:
    from django.db.utils import OperationalError, ProgrammingError

    text = str(exc)
    return isinstance(exc, OperationalError | ProgrammingError) and (
        "no such table" in text or ("relation" in text and "does not exist" in text))


def _database_name() -> str:
    from django.conf import settings

    return str(settings.DATABASES["default"].get("NAME", "?"))

if __name__ == "__main__":
    main()
