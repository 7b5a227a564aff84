"""Background jobs of the dispatch app (Huey; `linia worker`).

Webhooks: a once-a-minute periodic task that, like the routing ticker, runs ``webhooks.tick`` every
WEBHOOK_TICK_SECONDS for just under a minute under a Huey lock, so events leave within about a second.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task
from huey.exceptions import TaskLockedException

from linia.core.ticking import repeat
from linia.dispatch import webhooks
from linia.dispatch.email_tasks import outbox_tick as outbox_tick  # the email outbox's jobs register
from linia.dispatch.email_tasks import send_outbound_email as send_outbound_email  # with Huey here

log = logging.getLogger(__name__)
WEBHOOK_TICK_SECONDS = 1.0
WEBHOOK_RUN_SECONDS = 55.0


def run_webhooks(run_seconds: float = WEBHOOK_RUN_SECONDS, tick_seconds: float = WEBHOOK_TICK_SECONDS) -> int:
    """Enqueue and deliver until run_seconds have passed; returns the number of attempts made."""
    return repeat(lambda: webhooks.tick()[1], what="webhook tick", run_seconds=run_seconds,
                  tick_seconds=tick_seconds)


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def webhook_ticker() -> None:
    try:
        with lock_task("linia-webhook-ticker"):
            try:
                webhooks.purge_delivered()
            except Exception:  # the log is trimmed again next minute
                log.exception("webhook log purge failed")
            run_webhooks()
    except TaskLockedException:
        log.debug("webhook ticker already running")
