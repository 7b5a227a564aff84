"""The worker's periodic task: registered with Huey, and its loop delivers within the run."""

from __future__ import annotations

import pytest
from huey.contrib.djhuey import HUEY

from linia.dispatch import tasks
from linia.dispatch.models import DeliveryStatus, WebhookDelivery
from tests.dispatch_webhooks.conftest import Side, new_ticket, subscribe
from tests.dispatch_webhooks.receiver import running

pytestmark = pytest.mark.django_db


def test_the_ticker_is_a_periodic_huey_task() -> None:
    assert "linia.dispatch.tasks.webhook_ticker" in HUEY._registry._registry
    assert tasks.webhook_ticker.task_class.validate_datetime is not None  # periodic: has a schedule


def test_the_ticker_loop_delivers_new_events(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    with running() as rx:
        sub, secret = subscribe(a, rx.url(), ["ticket.created"])
        rx.secrets["/hook"] = secret
        new_ticket(a)
        attempts = tasks.run_webhooks(run_seconds=0.6, tick_seconds=0.05)
    assert attempts == 1 and len(rx.ok()) == 1
    assert WebhookDelivery.objects.get(subscription=sub).status == DeliveryStatus.SUCCEEDED
