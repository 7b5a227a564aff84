from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from linia.core.models import Role, Tenant, User
from linia.intake.chat.models import ChatChannel
from linia.routing import actions as routing
from linia.routing.models import PresenceState, Queue, Reservation, ReservationStatus, Task
from tests import factories as f

SHOP = "https://shop.example"
TOPICS = [{"code": "order", "labels": {"en": "My order", "ru": "Мой заказ", "pl": "Moje zamówienie",
                                        "fr": "Ma commande"}, "category": "orders"},
          {"code": "other", "labels": {"en": "Something else"}}]


@dataclass
class Chat:
    tenant: Tenant
    other: Tenant
    queue: Queue
    channel: ChatChannel
    foreign_channel: ChatChannel
    agent: User
    colleague: User
    supervisor: User
    foreign_agent: User


@pytest.fixture
def chat(db: None) -> Chat:
    tenant = f.tenant("spar", name="Spar East", ticket_prefix="SPR", time_zone="Asia/Vladivostok",
                      default_language="ru")
    other = f.tenant("bieda", name="Bieda", ticket_prefix="BDR")
    f.category(tenant, "orders", name="Orders")
    queue = Queue.objects.create(tenant=tenant, code="chats", name="Chat", channels=["chat"], offer_timeout_seconds=60)
    foreign_queue = Queue.objects.create(tenant=other, code="chats", name="Czat", channels=["chat"])
    channel = ChatChannel.objects.create(tenant=tenant, public_key="pk_spar", name="Spar chat", queue=queue,
                                         allowed_origins=[SHOP, "https://*.spar.example"], topics=TOPICS,
                                         greeting={"en": "Hello!", "ru": "Здравствуйте!"}, default_language="ru")
    foreign = ChatChannel.objects.create(tenant=other, public_key="pk_bieda", name="Bieda chat", queue=foreign_queue,
                                         allowed_origins=["https://bieda.example"], default_language="pl")
    return Chat(tenant, other, queue, channel, foreign,
                agent=f.user("anna", tenant=tenant, role=Role.AGENT),
                colleague=f.user("boris", tenant=tenant, role=Role.AGENT),
                supervisor=f.user("sofia", tenant=tenant, role=Role.SUPERVISOR),
                foreign_agent=f.user("piotr", tenant=other, role=Role.AGENT))


FORM = {"name": "Ivan", "email": "ivan@example.com", "topic": "order", "consent": True, "language": "en",
        "page_url": "https://shop.example/cart"}


def start(client: Client, key: str = "pk_spar", origin: str = SHOP, **data: Any) -> Any:
    body = {**FORM, **data}
    return client.post(f"/chat/api/{key}/sessions", body, content_type="application/json", HTTP_ORIGIN=origin)


def take(chat: Chat, task_id: int, agent: User | None = None) -> Task:
    """The agent becomes available, gets the chat offered and accepts it."""
    from linia.intake.chat import actions as chat_actions

    agent = agent or chat.agent
    routing.set_presence(agent, agent, PresenceState.AVAILABLE)
    routing.dispatch(chat.tenant)
    res = Reservation.objects.get(task_id=task_id, status=ReservationStatus.PENDING)
    assert res.agent_id == agent.pk
    task = routing.accept_offer(agent, res.pk)
    chat_actions.sync_task(task_id)
    return task


def session_cookie(user: User) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


def visitor(key: str, token: str, origin: str | None = SHOP, application: Any = None) -> WebsocketCommunicator:
    if application is None:
        from linia.asgi import application
    headers = [(b"origin", origin.encode())] if origin else []
    return WebsocketCommunicator(application, f"/ws/chat/{key}/?token={token}", headers=headers)


def desk(cookie: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    from linia.asgi import application

    return WebsocketCommunicator(application, "/ws/desk/agent/", headers=cookie)


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return async_to_sync(scenario)()


async def receive_type(comm: WebsocketCommunicator, kind: str, timeout: float = 3, key: str = "type") -> dict[str, Any]:
    while True:
        message: dict[str, Any] = await comm.receive_json_from(timeout=timeout)
        if message.get(key) == kind:
            return message
