"""The portal with the seeded demo: the demo's store and client staff logins work on the seeded data."""

from __future__ import annotations

import pytest
from django.test import Client

from linia.demo.common import PASSWORD
from linia.demo.run import seed_demo
from linia.tickets.models import Ticket


@pytest.fixture
def demo(db: None, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    seed_demo(small=True, tickets=120)


def _login(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, username
    assert response["Location"] == ("/portal/" if username.endswith(("-store", "-hq", "-serwis-maz")) else "/tickets/")
    return client


STORES = [  # login, asset, category and department the report lands in
    ("dp-store", "CH-000101", "awarie", "tech-mazowieckie"),
    ("mm-store", "Caisse 2", "fault-equipment", "logistique"),
    ("qd-store", "Locker bank A", "fault-equipment", "courier-ops"),
    ("vm-store", "Холодильник №3", "fault-equipment", "region-vladivostok"),
]


def test_demo_store_logins_report_faults(demo: None) -> None:
    for username, asset, category, department in STORES:
        client = _login(username)
        assert client.get("/portal/tickets/").status_code == 200
        assert client.get("/portal/report/").status_code == 200
        response = client.post("/portal/report/", {"kind": "equipment", "asset": asset, "urgency": "urgent",
                                                   "description": "Demo fault"})
        assert response.status_code == 302, response.content.decode()[:2000]
        ticket = Ticket.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
        assert ticket.category.code == category and ticket.department.code == department, username
        assert ticket.channel == "portal" and ticket.priority == "urgent"
        assert client.get(response["Location"]).status_code == 200


def test_demo_client_logins_see_their_tickets(demo: None) -> None:
    store = _login("dp-store")
    store.post("/portal/report/", {"kind": "equipment", "asset": "CH-000101", "urgency": "high",
                                   "description": "Regal chłodniczy"})
    ticket = Ticket.objects.filter(channel="portal", store__code="DP0001").order_by("-id").first()
    region = _login("dp-serwis-maz")
    assert ticket.reference.encode() in region.get("/portal/tickets/").content
    assert region.get("/portal/").status_code == 200
    hq = _login("dp-hq")  # store operations: not the technical service's ticket
    assert hq.get(f"/portal/tickets/{ticket.pk}/").status_code == 404
    for username in ("mm-hq", "qd-hq"):
        client = _login(username)
        assert client.get("/portal/").status_code == 200 and client.get("/portal/tickets/").status_code == 200
    agent = _login("dp-agent1")
    assert ticket.reference.encode() in agent.get("/tickets/?channel=portal").content
