"""Shared setup for benchmarks: a fresh SQLite database in a temporary LINIA_HOME, and percentiles."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


def setup_django(prefix: str = "linia-bench-") -> Path:
    """Point Django at a new temporary LINIA_HOME (SQLite), set it up and migrate; returns the folder."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(LINIA_HOME=str(home), DJANGO_SETTINGS_MODULE="linia.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)
    return home


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on SERVER (yields its URL), dropped on the way out, WITH (FORCE): a
    server under test may still hold connections to it."""
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(db: str, prefix: str) -> Iterator[str | None]:
    """A new temporary LINIA_HOME and, for db "postgres", a new database on SERVER as DATABASE_URL (else the
    home's SQLite), dropped on the way out; yields the PostgreSQL database's name (None on SQLite). Django is
    not set up here: the caller does, after this."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(LINIA_HOME=str(home), DJANGO_SETTINGS_MODULE="linia.settings", LINIA_FAST_PASSWORDS="1",
                      REDIS_URL="")
    os.environ.pop("DATABASE_URL", None)
    if db != "postgres":
        yield None
        return
    name = f"{prefix.strip('-').replace('-', '_')}_{os.getpid()}"
    with postgres_database(name) as url:
        os.environ["DATABASE_URL"] = url
        try:
            yield name
        finally:
            from django.db import connections

            connections.close_all()  # this process's own connections, before the database goes


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now (for the benchmark's own server)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty sample."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]
