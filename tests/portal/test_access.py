"""Who reaches which portal page: anonymous, agents, store and client staff, other stores and tenants."""

from __future__ import annotations

import pytest
from django.test import Client

from linia.tickets import actions
from linia.tickets.models import Ticket
from tests import factories as f
from tests.portal.conftest import PNG, World


def _attachment_id(ticket: Ticket) -> int:
    return ticket.messages.first().attachments.first().pk


def test_anonymous_goes_to_login(world: World) -> None:
    t = world.store2_ticket
    for url in ("/portal/", "/portal/tickets/", "/portal/report/", f"/portal/tickets/{t.pk}/",
                "/portal/tickets/export.csv", f"/portal/tickets/{t.pk}/attachments/{_attachment_id(t)}/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next="), url


@pytest.mark.parametrize("who", ["agent", "supervisor", "admin"])
def test_desk_users_are_sent_to_the_desk(world: World, who: str) -> None:
    user = {"agent": world.agent,
            "supervisor": f.user("sup", tenant=world.tenant, role="supervisor"),
            "admin": f.user("root", superuser=True)}[who]
    client = world.login(user)
    for url in ("/portal/", "/portal/tickets/", "/portal/report/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/tickets/", url


def test_login_lands_by_role(world: World) -> None:
    for user, target in ((world.store_user, "/portal/"), (world.region_user, "/portal/"), (world.agent, "/tickets/")):
        client = Client()
        response = client.post("/accounts/login/", {"username": user.username, "password": "pass12345"}, follow=True)
        hops = [url for url, _code in response.redirect_chain]
        assert hops[0] == target, (user.username, hops)
        assert response.status_code == 200
    assert Client().get("/").status_code == 302  # the site root asks for a login first


def test_store_sees_only_its_store(world: World) -> None:
    own = actions.create_ticket(world.store_user, world.tenant, subject="Own fridge", channel="portal", body="x",
                                store=world.store, attachments=[actions.NewAttachment("own.png", PNG)])
    client = world.login(world.store_user)
    listing = client.get("/portal/tickets/")
    assert b"Own fridge" in listing.content
    assert b"Krak\xc3\xb3w freezer" not in listing.content and b"HQ matter" not in listing.content
    assert b"Porte" not in listing.content
    # a foreign store_id in the query changes nothing
    assert b"Krak\xc3\xb3w freezer" not in client.get(f"/portal/tickets/?store_id={world.store2.pk}").content
    assert client.get(f"/portal/tickets/{own.pk}/attachments/{_attachment_id(own)}/").status_code == 200
    for other in (world.store2_ticket, world.foreign_ticket):
        assert client.get(f"/portal/tickets/{other.pk}/").status_code == 404
        assert client.get(f"/portal/tickets/{other.pk}/attachments/{_attachment_id(other)}/").status_code == 404
        # and the attachment of another ticket through our own ticket's URL
        assert client.get(f"/portal/tickets/{own.pk}/attachments/{_attachment_id(other)}/").status_code == 404
        for action in ("message", "confirm", "reopen"):
            assert client.post(f"/portal/tickets/{other.pk}/{action}/", {"body": "x", "reason": "x"}).status_code == 404
    assert world.store2_ticket.messages.count() == 1 and world.foreign_ticket.messages.count() == 1


def test_store_staff_cannot_use_client_pages(world: World) -> None:
    own = actions.create_ticket(world.store_user, world.tenant, subject="Own", channel="portal", body="x",
                                store=world.store)
    client = world.login(world.store_user)
    assert client.get("/portal/tickets/export.csv").status_code == 403
    assert client.post(f"/portal/tickets/{own.pk}/status/", {"status": "closed"}).status_code == 403
    own.refresh_from_db()
    assert own.status == "new"


def test_client_staff_cannot_report(world: World) -> None:
    response = world.login(world.region_user).post("/portal/report/", {"kind": "equipment", "description": "x",
                                                                         "urgency": "normal"})
    assert response.status_code == 403 and not Ticket.objects.filter(subject__contains="x –").exists()


def test_department_sees_only_its_tickets(world: World) -> None:
    hq = world.login(world.hq_user)
    listing = hq.get("/portal/tickets/")
    assert b"HQ matter" in listing.content and b"Krak\xc3\xb3w freezer" not in listing.content
    assert hq.get(f"/portal/tickets/{world.store2_ticket.pk}/").status_code == 404
    assert hq.get(f"/portal/tickets/{world.foreign_ticket.pk}/").status_code == 404
    assert hq.post(f"/portal/tickets/{world.store2_ticket.pk}/status/", {"status": "closed"}).status_code == 404
    region = world.login(world.region_user)
    assert b"HQ matter" not in region.get("/portal/tickets/").content
    assert region.get(f"/portal/tickets/{world.dept_ticket.pk}/").status_code == 404
    head = world.login(world.head_user)  # client staff without a department: the whole tenant, not another
    listing = head.get("/portal/tickets/").content
    assert b"HQ matter" in listing and b"Krak\xc3\xb3w freezer" in listing and b"Porte" not in listing
    assert head.get(f"/portal/tickets/{world.foreign_ticket.pk}/").status_code == 404


def test_foreign_tenant_store_user_sees_none_of_ours(world: World) -> None:
    client = world.login(world.foreign_store_user)
    listing = client.get("/portal/tickets/").content
    assert b"Porte" in listing and b"freezer" not in listing
    assert client.get(f"/portal/tickets/{world.store2_ticket.pk}/").status_code == 404


def test_nul_in_input_is_a_bad_request(world: World) -> None:
    assert world.login(world.store_user).get("/portal/tickets/?q=a%00b").status_code == 400


def test_client_staff_download_their_tickets_attachments_only(world: World) -> None:
    own = actions.create_ticket(world.store_user, world.tenant, subject="Photo", channel="portal", body="see photo",
                                store=world.store, department=world.region_dept,
                                attachments=[actions.NewAttachment("fridge.png", PNG, "image/png")])
    region = world.login(world.region_user)
    download = region.get(f"/portal/tickets/{own.pk}/attachments/{_attachment_id(own)}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"].startswith('attachment; filename="fridge.png"')
    inline = region.get(f"/portal/tickets/{own.pk}/attachments/{_attachment_id(own)}/?inline=1")
    assert inline["Content-Type"] == "image/png" and inline["X-Content-Type-Options"] == "nosniff"
    for other in (world.store2_ticket, world.foreign_ticket):
        assert region.get(f"/portal/tickets/{other.pk}/attachments/{_attachment_id(other)}/").status_code == 404
    head = world.login(world.head_user)
    assert head.get(f"/portal/tickets/{world.store2_ticket.pk}/attachments/"
                    f"{_attachment_id(world.store2_ticket)}/").status_code == 200
    assert head.get(f"/portal/tickets/{world.foreign_ticket.pk}/attachments/"
                    f"{_attachment_id(world.foreign_ticket)}/").status_code == 404


def test_svg_is_never_served_inline(world: World) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    own = actions.create_ticket(world.store_user, world.tenant, subject="Svg", channel="portal", body="x",
                                store=world.store, attachments=[actions.NewAttachment("x.svg", svg, "image/svg+xml")])
    response = world.login(world.store_user).get(f"/portal/tickets/{own.pk}/attachments/{_attachment_id(own)}/?inline=1")
    assert response["Content-Type"] == "application/octet-stream" and "attachment" in response["Content-Disposition"]


def test_dashboards_count_only_what_the_member_sees(world: World) -> None:
    for _ in range(3):
        actions.create_ticket(None, world.other_tenant, subject="Foreign open", channel="email", body="x")
    head = world.login(world.head_user).get("/portal/").content.decode()
    assert 'id="open-count">2<' in head  # store2_ticket and dept_ticket, none of the other tenant's
    hq = world.login(world.hq_user).get("/portal/").content.decode()
    assert 'id="open-count">1<' in hq and "HQ matter" in hq and "Krak" not in hq
    # store staff have no dashboard: their home is their store's list
    assert world.login(world.store_user).get("/portal/")["Location"] == "/portal/tickets/"
