"""Screen pop: the caller's contact, open and recent tickets, nearest stores, category tree."""

from __future__ import annotations

from linia.intake.voice.queries import screen_pop
from linia.tickets import actions as tickets
from tests import factories as f

from .conftest import World, known_caller


def test_known_caller_with_a_store_ticket(world: World) -> None:
    a = world.a
    contact = known_caller(a)
    krakow = f.store(a.tenant, "ALF-KR1", name="Kraków Rynek", city="Kraków")
    f.store(a.tenant, "ALF-KR2", name="Kraków Kazimierz", city="Kraków")
    parent = f.category(a.tenant, "quality", name="Quality", names={"pl": "Jakość"})
    f.category(a.tenant, "sour", name="Sour milk", parent=parent)
    f.category(a.tenant, "old", name="Old", is_active=False)
    solved = tickets.create_ticket(None, a.tenant, subject="Old complaint", channel="call", contact=contact)
    tickets.change_status(None, solved, "solved")
    open_one = tickets.create_ticket(None, a.tenant, subject="Sour milk", channel="call", contact=contact,
                                     store=krakow)
    tickets.create_ticket(None, a.tenant, subject="Someone else", channel="call")

    pop = screen_pop(a.tenant, "601 000 001")  # the national form finds the E.164 identity
    assert pop["contact"]["id"] == contact.pk and pop["contact"]["phones"] == ["+48601000001"]
    assert [t["id"] for t in pop["open_tickets"]] == [open_one.pk]
    assert [t["id"] for t in pop["recent_tickets"]] == [open_one.pk, solved.pk]
    assert pop["stores"]["basis"] == "ticket_store" and pop["stores"]["city"] == "Kraków"
    assert [s["code"] for s in pop["stores"]["items"]] == ["ALF-KR1", "ALF-KR2"]  # the named store first
    assert pop["categories"] == [{"id": parent.pk, "code": "quality", "name": "Jakość", "children": [
        {"id": parent.children.get().pk, "code": "sour", "name": "Sour milk", "children": []}]}]


def test_unknown_caller_gets_the_main_city(world: World) -> None:
    a = world.a
    f.store(a.tenant, "ALF-GD1", city="Gdańsk")
    f.store(a.tenant, "ALF-GD2", city="Gdańsk")
    pop = screen_pop(a.tenant, "+48 500 600 700")
    assert pop["contact"] is None and pop["open_tickets"] == [] and pop["recent_tickets"] == []
    assert pop["stores"] == {"city": "Gdańsk", "basis": "main_city", "items": pop["stores"]["items"]}
    assert {s["code"] for s in pop["stores"]["items"]} == {"ALF-GD1", "ALF-GD2"}
    a.tenant.settings = {"main_city": "Warszawa"}
    a.tenant.save()
    pop = screen_pop(a.tenant, "anonymous")
    assert pop["stores"]["city"] == "Warszawa" and [s["code"] for s in pop["stores"]["items"]] == ["ALF-1"]


def test_screen_pop_endpoint_is_tenant_scoped(world: World) -> None:
    a, b = world.a, world.b
    known_caller(a)
    mine = a.agent_api.get("voice/screen-pop", {"caller": "+48601000001"})
    assert mine.status_code == 200 and mine.json()["contact"]["name"] == "Jan Kowalski"
    theirs = b.agent_api.get("voice/screen-pop", {"caller": "+48601000001"})
    assert theirs.status_code == 200 and theirs.json()["contact"] is None
    assert a.agent_api.get("voice/screen-pop").status_code == 422
    assert a.agent_api.get("voice/screen-pop", {"caller": "1" * 65}).status_code == 422
