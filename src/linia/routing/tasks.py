"""Background routing timers (Huey): ring-no-answer expiry, automatic wrap-up end, overflow and max wait.

Huey's periodic tasks run at most once a minute, while offers time out after seconds. So the periodic
task is a ticker: once a minute it runs ``dispatcher.tick`` every TICK_SECONDS for just under a
minute, under a Huey lock so two workers never tick at once. Dispatches triggered by API calls make
offers at once; the ticker covers what nobody triggers (timeouts, overflow, wrap-up end).
At worker start the ``on_startup`` hook releases offers that expired while nothing ran (after kill -9).
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task, on_startup
from huey.exceptions import TaskLockedException

from linia.core.ticking import repeat
from linia.routing import dispatcher

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
RUN_SECONDS = 55.0


def run_ticker(run_seconds: float = RUN_SECONDS, tick_seconds: float = TICK_SECONDS) -> int:
    """Tick until run_seconds have passed; returns the number of offers made."""
    return repeat(dispatcher.tick, what="routing tick", run_seconds=run_seconds, tick_seconds=tick_seconds)


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def routing_ticker() -> None:
    try:
        with lock_task("linia-routing-ticker"):
            run_ticker()
    except TaskLockedException:
        log.debug("routing ticker already running")


@on_startup()  # type: ignore[untyped-decorator]
def recover_routing() -> None:
    released = dispatcher.recover()
    if released:
        log.warning("routing recovery: %d expired offers released at start-up", released)
