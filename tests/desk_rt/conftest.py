from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from linia.core.models import Role, Tenant, User
from linia.routing.models import Queue
from tests import factories as f


@dataclass
class Center:
    tenant: Tenant
    other: Tenant
    queue: Queue
    second: Queue
    foreign_queue: Queue
    agent: User
    colleague: User
    supervisor: User
    foreign_agent: User


@pytest.fixture
def center(transactional_db: None) -> Center:
    tenant = f.tenant("spar", name="Spar East", ticket_prefix="SPR", time_zone="Asia/Vladivostok")
    other = f.tenant("bieda", name="Bieda", ticket_prefix="BDR")
    queue = Queue.objects.create(tenant=tenant, code="calls", name="Customer line", channels=["call", "chat"],
                                 offer_timeout_seconds=30)
    second = Queue.objects.create(tenant=tenant, code="tech", name="Technical line", channels=["call"])
    foreign_queue = Queue.objects.create(tenant=other, code="calls", name="Bieda line", channels=["call"])
    return Center(tenant, other, queue, second, foreign_queue,
                  agent=f.user("anna", tenant=tenant, role=Role.AGENT),
                  colleague=f.user("boris", tenant=tenant, role=Role.AGENT),
                  supervisor=f.user("sofia", tenant=tenant, role=Role.SUPERVISOR),
                  foreign_agent=f.user("piotr", tenant=other, role=Role.AGENT))


def session_cookie(user: User | None) -> list[tuple[bytes, bytes]]:
    if user is None:
        return []
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


def communicator(path: str, cookie: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    """A socket on the real ASGI app; `cookie` from session_cookie() (made outside the event loop)."""
    from linia.asgi import application

    return WebsocketCommunicator(application, path, headers=cookie)


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    """Run one async scenario from a sync test (no pytest-asyncio needed)."""
    return async_to_sync(scenario)()


async def receive_kind(comm: WebsocketCommunicator, kind: str, timeout: float = 3) -> dict[str, Any]:
    """The next message of `kind`, skipping others (events and snapshots interleave)."""
    while True:
        message: dict[str, Any] = await comm.receive_json_from(timeout=timeout)
        if message.get("kind") == kind:
            return message
