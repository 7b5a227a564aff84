from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from linia.core.models import Role, Tenant, User
from linia.directory.models import Category, Store
from linia.tickets import actions
from linia.tickets.models import Ticket
from tests import factories as f


@dataclass
class Desk:
    tenant: Tenant
    other: Tenant
    agent: User
    colleague: User
    store: Store
    category: Category
    ticket: Ticket
    foreign_ticket: Ticket
    client: Client


@pytest.fixture
def desk(db: None) -> Desk:
    tenant = f.tenant("spar", name="Spar East", ticket_prefix="SPR", time_zone="Asia/Vladivostok",
                      default_language="ru")
    other = f.tenant("bieda", name="Bieda", ticket_prefix="BDR")
    agent = f.user("anna", tenant=tenant, role=Role.SUPERVISOR)
    agent.time_zone = "Europe/Warsaw"
    agent.save()
    colleague = f.user("boris", tenant=tenant)
    store = f.store(tenant, "VL-001", name="Svetlanskaya", city="Vladivostok", address="Svetlanskaya 12",
                    time_zone="Asia/Vladivostok", phone="+74232000001")
    category = f.category(tenant, "quality", name="Product quality", field_schema={
        "type": "object", "required": ["receipt_no"],
        "properties": {
            "receipt_no": {"type": "string", "title": "Receipt number", "minLength": 3},
            "amount": {"type": "number", "title": "Amount"},
            "items": {"type": "integer", "title": "Items"},
            "refund": {"type": "boolean", "title": "Refund wanted"},
            "kind": {"type": "string", "enum": ["food", "non-food"], "title": "Kind"},
            "bought_on": {"type": "string", "format": "date", "title": "Bought on"},
        }})
    contact = actions.find_or_create_contact(None, tenant, name="Ivan Petrov", phones=["+7 423 222 33 44"])
    ticket = actions.create_ticket(None, tenant, subject="Sour milk in Svetlanskaya", channel="call",
                                   body="The milk was sour.", store=store.pk, contact=contact.pk)
    foreign_ticket = actions.create_ticket(None, other, subject="Foreign secret ticket", channel="email")
    client = Client()
    client.force_login(agent)
    return Desk(tenant, other, agent, colleague, store, category, ticket, foreign_ticket, client)
