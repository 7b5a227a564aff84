"""Two tenants with one of everything, and API clients holding real bearer tokens."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from tests import factories as f

from linia.core.actions import create_api_token
from linia.core.models import Role, Tenant, User
from linia.directory.models import Category, Department, Product, Promotion, Stock, Store, Vacancy
from linia.tickets import actions
from linia.tickets.models import Attachment, Contact, Event, Message, Ticket


class Api:
    """Django's test client speaking JSON with `Authorization: Bearer <token>`."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | str | None = None,
             content_type: str = "application/json", **extra: Any) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs: dict[str, Any] = {**self.headers, **extra}
        if data is not None:
            kwargs |= {"data": data, "content_type": content_type}
        return getattr(self.client, method.lower())(url, **kwargs)

    def get(self, path: str, params: dict[str, Any] | None = None, **extra: Any) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return self.client.get(url, params or {}, **self.headers, **extra)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("post", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("patch", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("delete", path, **kw)

    def upload(self, path: str, files: dict[str, Any], **form: Any) -> Any:
        url = f"/api/v1/{path}"
        return self.client.post(url, {**files, **form}, **self.headers)


@dataclass
class Side:
    """One tenant's rows, all created through the real actions or ORM."""

    tenant: Tenant
    boss: User
    store: Store
    department: Department
    category: Category
    product: Product
    promotion: Promotion
    vacancy: Vacancy
    contact: Contact
    ticket: Ticket
    other_ticket: Ticket
    message: Message
    attachment: Attachment
    api: Api
    token: str
    extra: dict[str, Any] = field(default_factory=dict)


SCHEMA = {"type": "object", "required": ["receipt_no"],
          "properties": {"receipt_no": {"type": "string", "minLength": 3}, "amount": {"type": "number"}}}


def make_side(slug: str, prefix: str, *, city: str, word: str) -> Side:
    tenant = f.tenant(slug, name=slug.title(), ticket_prefix=prefix, time_zone="Europe/Warsaw",
                      default_language="pl")
    boss = f.user(f"{slug}-boss", tenant=tenant, role=Role.SUPERVISOR)
    store = f.store(tenant, f"{prefix}-001", name=f"{word} Centrum", city=city, address=f"ul. {word} 1")
    department = f.department(tenant, f"{prefix}-CR", name=f"{word} customer relations")
    category = f.category(tenant, f"{slug}-quality", name=f"{word} quality", field_schema=SCHEMA,
                          default_department=department)
    product = Product.objects.create(tenant=tenant, sku=f"{prefix}-SKU1", name=f"{word} milk 1L")
    Stock.objects.create(tenant=tenant, store=store, product=product, quantity=5,
                         updated_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    promotion = Promotion.objects.create(tenant=tenant, title=f"{word} sale", starts_on=dt.date(2020, 1, 1),
                                         ends_on=dt.date(2099, 1, 1), texts={"pl": word})
    vacancy = Vacancy.objects.create(tenant=tenant, position=f"{word} cashier", store=store, city=city)
    contact = actions.find_or_create_contact(None, tenant, name=f"{word} Kowalski", phones=["+48 601 000 001"],
                                             emails=[f"{slug}@example.com"])
    ticket = actions.create_ticket(None, tenant, subject=f"{word} sour milk", channel="call", body=f"{word} body",
                                   category=category, custom_fields={"receipt_no": "R-123"}, contact=contact,
                                   store=store, tags=["milk"])
    other = actions.create_ticket(None, tenant, subject=f"{word} second", channel="email", body="second")
    message = actions.add_message(None, ticket, body=f"{word} note", kind="note",
                                  attachments=[actions.NewAttachment("scan.pdf", b"%PDF-1.4 " + word.encode())])
    raw, _token = create_api_token(None, tenant, boss, name="tests")
    return Side(tenant=tenant, boss=boss, store=store, department=department, category=category, product=product,
                promotion=promotion, vacancy=vacancy, contact=contact, ticket=ticket, other_ticket=other,
                message=message, attachment=message.attachments.get(), api=Api(raw), token=raw)


@dataclass
class World:
    a: Side
    b: Side


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # users are made per test
    settings.LINIA_EVENT_FEED_DELAY_SECONDS = 0


@pytest.fixture
def world(db: None) -> World:
    # Both tenants use the same words so text searches would match across them if scoping broke.
    return World(a=make_side("alfa", "ALF", city="Warszawa", word="Żubr"),
                 b=make_side("beta", "BET", city="Warszawa", word="Żubr"))


def error_of(response: Any) -> dict[str, Any]:
    """The error object, after checking the one error format."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["fields"], dict)
    assert body["error"]["message"]
    return dict(body["error"])


__all__ = ["Api", "Event", "Side", "World", "error_of"]
