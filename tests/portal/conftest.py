from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from linia.core.models import Role, Tenant, User
from linia.directory.models import Category, Department, Store
from linia.tickets import actions
from linia.tickets.models import Ticket
from tests import factories as f

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@dataclass
class World:
    tenant: Tenant
    other_tenant: Tenant
    store: Store
    store2: Store
    region_dept: Department
    hq_dept: Department
    category: Category
    store_user: User
    store2_user: User
    region_user: User
    hq_user: User
    head_user: User  # client staff without a department: the whole tenant
    agent: User
    foreign_store_user: User
    store2_ticket: Ticket
    dept_ticket: Ticket  # of hq_dept, no store
    foreign_ticket: Ticket

    def login(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


@pytest.fixture
def world(db: None, settings: Any, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    tenant = f.tenant("dyskont", name="Dyskont", ticket_prefix="DP", time_zone="Europe/Warsaw")
    other = f.tenant("maison", name="Maison", ticket_prefix="MM", time_zone="Europe/Paris", default_language="fr")
    region = f.department(tenant, "tech-maz", name="Serwis Mazowsze", kind="technical", region="mazowieckie")
    hq = f.department(tenant, "bot", name="BOT HQ", kind="technical")
    category = f.category(tenant, "fault-equipment", name="Equipment faults", default_department=hq)
    f.category(tenant, "fault-building", name="Building", default_department=hq)
    store = f.store(tenant, "DP0001", name="Dyskont Warszawa", region="mazowieckie")
    store2 = f.store(tenant, "DP0002", name="Dyskont Kraków", city="Kraków", region="małopolskie")
    foreign_store = f.store(other, "MM-PAR", name="Showroom Paris", city="Paris", time_zone="Europe/Paris")
    store_user = f.user("dp-store", tenant=tenant, role=Role.STORE_STAFF, store=store)
    store2_user = f.user("dp-store2", tenant=tenant, role=Role.STORE_STAFF, store=store2)
    region_user = f.user("dp-serwis", tenant=tenant, role=Role.CLIENT_STAFF, department=region)
    hq_user = f.user("dp-bot", tenant=tenant, role=Role.CLIENT_STAFF, department=hq)
    head_user = f.user("dp-head", tenant=tenant, role=Role.CLIENT_STAFF)
    agent = f.user("dp-agent", tenant=tenant, role=Role.AGENT)
    foreign_store_user = f.user("mm-store", tenant=other, role=Role.STORE_STAFF, store=foreign_store)
    store2_ticket = actions.create_ticket(None, tenant, subject="Kraków freezer", channel="portal", body="cold",
                                         store=store2, attachments=[actions.NewAttachment("k.png", PNG)])
    dept_ticket = actions.create_ticket(None, tenant, subject="HQ matter", channel="email", body="hq",
                                        department=hq)
    foreign_ticket = actions.create_ticket(None, other, subject="Porte cassée", channel="portal", body="porte",
                                           store=foreign_store, attachments=[actions.NewAttachment("p.png", PNG)])
    return World(tenant, other, store, store2, region, hq, category, store_user, store2_user, region_user, hq_user,
                 head_user, agent, foreign_store_user, store2_ticket, dept_ticket, foreign_ticket)
