"""Two tenants with a supervisor and an API token each; fast retry settings; a pump for the delivery loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from linia.core.actions import create_api_token
from linia.core.models import Role, Tenant, User
from linia.dispatch import actions, webhooks
from linia.dispatch.models import WebhookSubscription
from linia.tickets import actions as tickets
from linia.tickets.models import Ticket
from tests import factories as f
from tests.api.conftest import Api


@dataclass
class Side:
    tenant: Tenant
    boss: User
    api: Api


def make_side(slug: str, prefix: str) -> Side:
    tenant = f.tenant(slug, ticket_prefix=prefix)
    boss = f.user(f"{slug}-boss", tenant=tenant, role=Role.SUPERVISOR)
    raw, _token = create_api_token(None, tenant, boss, name="tests")
    return Side(tenant, boss, Api(raw))


@pytest.fixture(autouse=True)
def _fast_webhooks(settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.4
    settings.WEBHOOKS_BACKOFF_BASE_SECONDS = 0.05
    settings.WEBHOOKS_BACKOFF_CAP_SECONDS = 0.4
    settings.WEBHOOKS_MAX_ATTEMPTS = 6


@pytest.fixture
def sides(db: None) -> tuple[Side, Side]:
    return make_side("alfa", "ALF"), make_side("beta", "BET")


def subscribe(side: Side, url: str, event_types: list[str] | None = None) -> tuple[WebhookSubscription, str]:
    created = actions.create_subscription(side.boss, side.tenant,
                                          {"url": url, "event_types": event_types or ["ticket.*"]})
    return created.subscription, created.secret


def new_ticket(side: Side, subject: str = "Sour milk") -> Ticket:
    return tickets.create_ticket(side.boss, side.tenant, subject=subject, channel="call", body="body")


def pump(done: Callable[[], bool], *, timeout: float = 20.0, step: float = 0.02) -> None:
    """Run the worker's tick until `done()` (fails the test after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "webhook deliveries did not finish in time"
        webhooks.tick()
        time.sleep(step)
