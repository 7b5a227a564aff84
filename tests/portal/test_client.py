"""Client staff: dashboard, list with filters, reply as the client, status changes, exports, deadlines."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from openpyxl import load_workbook

from linia.dispatch.forwarding import forward_to_department
from linia.portal.deadlines import due_hours
from linia.tickets import actions
from linia.tickets.models import Event, Message, Status, Ticket
from tests import factories as f
from tests.portal.conftest import World


def _region_ticket(world: World, subject: str = "Regional fridge", **kw) -> Ticket:
    return actions.create_ticket(world.store_user, world.tenant, subject=subject, channel="portal", body="warm",
                                 store=world.store, department=world.region_dept, **kw)


def _age(ticket: Ticket, hours: float) -> Ticket:
    Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(hours=hours))
    ticket.refresh_from_db()
    return ticket


def test_client_reply_reopens_pending_client_and_shows_on_the_desk(world: World) -> None:
    ticket = _region_ticket(world)
    forward_to_department(world.agent, ticket, world.region_dept, note="Please send a technician")
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_CLIENT
    client = world.login(world.region_user)
    response = client.post(f"/portal/tickets/{ticket.pk}/message/", {"body": "Technician booked for 14:00"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    reply = Message.objects.get(ticket=ticket, body_text="Technician booked for 14:00")
    assert (reply.kind, reply.direction, reply.channel, reply.author_user) == ("note", "inbound", "portal",
                                                                               world.region_user)
    assert Event.objects.filter(ticket=ticket, kind="ticket.client_replied", data__message_id=reply.pk).exists()
    desk = world.login(world.agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Technician booked for 14:00" in desk and "<span>Client's reply</span>" in desk and "Serwis Mazowsze" in desk
    # the store never sees the client's internal answer
    assert b"Technician booked" not in world.login(world.store_user).get(f"/portal/tickets/{ticket.pk}/").content


def test_client_changes_status_and_closes(world: World) -> None:
    ticket = _region_ticket(world)
    client = world.login(world.region_user)
    assert client.post(f"/portal/tickets/{ticket.pk}/status/", {"status": "bogus"}).status_code == 400
    assert client.post(f"/portal/tickets/{ticket.pk}/status/", {"status": "solved"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    assert client.post(f"/portal/tickets/{ticket.pk}/status/", {"status": "closed"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert Event.objects.filter(ticket=ticket, kind="ticket.status_changed", actor=world.region_user).count() == 2
    again = client.post(f"/portal/tickets/{ticket.pk}/status/", {"status": "open"})
    assert again.status_code == 400 and b"not allowed" in again.content
    closed_reply = client.post(f"/portal/tickets/{ticket.pk}/message/", {"body": "late"})
    assert closed_reply.status_code == 400 and b"closed" in closed_reply.content


def test_dashboard_counts_open_and_overdue(world: World) -> None:
    _age(_region_ticket(world, "Old urgent", priority="urgent"), 5)  # 4 h allowed: overdue
    _age(_region_ticket(world, "Young normal"), 5)  # 72 h: fine
    _age(_region_ticket(world, "Old but solved", priority="urgent"), 50)
    Ticket.objects.filter(subject="Old but solved").update(status=Status.SOLVED)
    page = world.login(world.region_user).get("/portal/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="open-count">2<' in html and 'id="overdue-count">1<' in html
    overdue_part = html.split('id="overdue-title"')[1].split('id="recent-title"')[0]
    assert "Old urgent" in overdue_part and "Young normal" not in overdue_part
    listing = world.login(world.region_user).get("/portal/tickets/?overdue=1").content
    assert b"Old urgent" in listing and b"Young normal" not in listing and b"Old but solved" not in listing


def test_due_times_follow_tenant_settings_and_show_in_the_store_time_zone(world: World) -> None:
    far = f.store(world.tenant, "DP9000", name="Far East outlet", time_zone="Asia/Vladivostok", region="mazowieckie")
    user = f.user("far-store", tenant=world.tenant, role="store_staff", store=far)
    ticket = actions.create_ticket(user, world.tenant, subject="Heating", channel="portal", body="cold",
                                   store=far, priority="high")
    created = datetime(2026, 3, 28, 22, 30, tzinfo=ZoneInfo("UTC"))  # the night Europe/Warsaw changes to DST
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created)
    world.tenant.settings = {"portal": {"due_hours": {"high": 10, "urgent": "soon"}}}  # a bad value is ignored
    world.tenant.save()
    assert due_hours(world.tenant.settings)["high"] == 10 and due_hours(world.tenant.settings)["urgent"] == 4
    page = world.login(user).get(f"/portal/tickets/{ticket.pk}/").content.decode()
    # due 2026-03-29 08:30 UTC = 18:30 in Vladivostok (UTC+10); created 08:30 on the 29th there
    assert ">29.03.2026 18:30<" in page and ">29.03.2026 08:30<" in page and "Asia/Vladivostok" in page
    assert 'id="overdue"' in page
    # client staff in Warsaw read the same ticket in the store's zone too
    head = world.login(world.head_user).get("/portal/tickets/").content.decode()
    assert "29.03.2026 18:30" in head and "overdue" in head
    # a Warsaw store: 22:30 UTC + 10 h = 08:30 UTC = 10:30 CEST (after the change to summer time)
    Ticket.objects.filter(pk=ticket.pk).update(store=world.store)
    own = world.login(world.store_user).get(f"/portal/tickets/{ticket.pk}/").content.decode()
    assert ">29.03.2026 10:30<" in own and "Europe/Warsaw" in own


def test_solved_tickets_are_never_overdue(world: World) -> None:
    ticket = _age(_region_ticket(world, priority="urgent"), 100)
    actions.change_status(world.agent, ticket, Status.SOLVED)
    page = world.login(world.store_user).get(f"/portal/tickets/{ticket.pk}/").content
    assert b'id="overdue"' not in page


def test_filters_and_search(world: World) -> None:
    _region_ticket(world, "Broken scale")
    urgent = _region_ticket(world, "Roof leak", priority="urgent")
    client = world.login(world.region_user)
    assert b"Roof leak" in client.get("/portal/tickets/?priority=urgent").content
    assert b"Broken scale" not in client.get("/portal/tickets/?priority=urgent").content
    actions.change_status(world.agent, urgent, Status.SOLVED)
    assert b"Roof leak" not in client.get("/portal/tickets/?open_only=1").content
    found = client.get("/portal/tickets/?q=scale").content
    assert b"Broken scale" in found and b"Roof leak" not in found
    bad = client.get("/portal/tickets/?status=nonsense")
    assert bad.status_code == 200 and b"not valid" in bad.content


def test_exports_are_scoped_and_in_the_store_time_zone(world: World) -> None:
    ticket = _age(_region_ticket(world, "Export me", priority="urgent"), 6)
    client = world.login(world.region_user)
    response = client.get("/portal/tickets/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Reference" and len(rows) == 2
    row = rows[1]
    assert row[0] == ticket.reference and row[1] == "Export me" and row[9] == "yes" and row[10] == "Europe/Warsaw"
    local = ticket.created_at.astimezone(ZoneInfo("Europe/Warsaw")).strftime("%Y-%m-%d %H:%M")
    assert row[7] == local
    xlsx = client.get("/portal/tickets/export.xlsx?overdue=1")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 2 and values[1][0] == ticket.reference
    # the HQ department's export holds none of the region's tickets, nor other tenants'
    hq_rows = list(csv.reader(io.StringIO(b"".join(
        world.login(world.hq_user).get("/portal/tickets/export.csv").streaming_content).decode("utf-8-sig"))))
    assert [r[1] for r in hq_rows[1:]] == ["HQ matter"]


def test_desk_ticket_list_shows_portal_reports(world: World) -> None:
    ticket = _region_ticket(world, "Seen by the desk")
    desk = world.login(world.agent)
    assert b"Seen by the desk" in desk.get("/tickets/").content
    assert ticket.reference.encode() in desk.get("/tickets/?channel=portal").content
    assert b"Seen by the desk" not in desk.get("/tickets/?channel=email").content


def test_list_and_dashboard_queries_do_not_grow_with_tickets(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.login(world.head_user)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        _region_ticket(world, f"Few {i}")
    queries("/portal/")  # the first request of a session writes the session
    few = {url: queries(url) for url in ("/portal/", "/portal/tickets/")}
    for i in range(20):
        _region_ticket(world, f"Many {i}", priority="urgent")
    many = {url: queries(url) for url in ("/portal/", "/portal/tickets/")}
    assert many == few, (few, many)
