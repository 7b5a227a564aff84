"""Two tenants with phone lines, agents with extensions and API clients holding real bearer tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from linia.core.actions import create_api_token
from linia.core.models import Role, Tenant, User
from linia.directory.models import Store
from linia.intake.voice.models import Line
from linia.routing.models import AgentProfile
from linia.tickets import actions as tickets
from tests import factories as f
from tests.api.conftest import Api

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Side:
    tenant: Tenant
    boss: User
    agent: User
    line: Line
    store: Store
    api: Api
    agent_api: Api


def make_side(slug: str, prefix: str, number: str, extension: str, *, city: str) -> Side:
    tenant = f.tenant(slug, ticket_prefix=prefix, default_language="pl")
    boss = f.user(f"{slug}-boss", tenant=tenant, role=Role.SUPERVISOR)
    agent = f.user(f"{slug}-agent", tenant=tenant, role=Role.AGENT)
    AgentProfile.objects.create(user=agent, extension=extension)
    store = f.store(tenant, f"{prefix}-1", name=f"{slug} Centrum", city=city)
    line = Line.objects.create(tenant=tenant, number=number, name="Infolinia", kind="customer_24_7",
                               pbx_queue=f"{slug}-support")
    raw, _ = create_api_token(None, tenant, boss, name="pbx")
    agent_raw, _ = create_api_token(None, tenant, agent, name="desk")
    return Side(tenant=tenant, boss=boss, agent=agent, line=line, store=store, api=Api(raw), agent_api=Api(agent_raw))


@dataclass
class World:
    a: Side
    b: Side


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def world(db: None) -> World:
    return World(a=make_side("alfa", "ALF", "+48221234567", "201", city="Warszawa"),
                 b=make_side("beta", "BET", "+48127654321", "301", city="Kraków"))


def known_caller(side: Side, phone: str = "+48601000001") -> Any:
    contact = tickets.find_or_create_contact(None, side.tenant, name="Jan Kowalski", phones=[phone])
    return contact


def event(call_id: str, sequence: int, kind: str, **kw: Any) -> dict[str, Any]:
    body = {"call_id": call_id, "sequence": sequence, "event": kind, "caller": "+48601000001",
            "dialled": "+48221234567"}
    body.update(kw)
    return body
