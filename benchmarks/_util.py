"""Shared setup for benchmarks: a fresh SQLite database in a temporary LINIA_HOME, and percentiles."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path


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
