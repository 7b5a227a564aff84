"""Sub-minute timers inside Huey's once-a-minute periodic tasks: run a pass every second for most of a minute."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import close_old_connections, connection

log = logging.getLogger(__name__)


def repeat(step: Callable[[], int], *, what: str, run_seconds: float, tick_seconds: float) -> int:
    """Call `step` every tick_seconds until run_seconds have passed; returns the sum of what it returned.
    A failing pass is logged and the next one retries; a long-running worker drops stale connections."""
    total = 0
    deadline = time.monotonic() + run_seconds
    while True:
        try:
            total += step()
        except Exception:  # one bad pass must not stop the timers
            log.exception("%s failed", what)
        finally:
            if not connection.in_atomic_block:
                close_old_connections()
        if time.monotonic() + tick_seconds >= deadline:
            return total
        time.sleep(tick_seconds)
