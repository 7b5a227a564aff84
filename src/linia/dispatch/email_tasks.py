"""Huey jobs of the email outbox: send one row right after its transaction commits, and a once-a-minute
tick that sends whatever is due (retries after backoff, rows whose wake-up was lost, expired claims)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task
from huey.exceptions import TaskLockedException

from linia.dispatch import outbox

log = logging.getLogger(__name__)


@db_task()  # type: ignore[untyped-decorator]
def send_outbound_email(pk: int) -> str | None:
    return outbox.send_one(pk)


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def outbox_tick() -> None:
    try:
        with lock_task("linia-email-outbox"):
            counts = outbox.send_due()
            if counts:
                log.info("email outbox: %s", counts)
    except TaskLockedException:
        log.debug("email outbox tick already running")
