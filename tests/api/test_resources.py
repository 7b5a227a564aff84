"""Each resource through HTTP: the happy paths and their documented status codes."""

from __future__ import annotations

import datetime as dt

import pytest
from tests import factories as f
from tests.api.conftest import Api, World, error_of

from linia.core.models import Role
from linia.directory.models import Stock, Store
from linia.tickets.models import Event, Message, Ticket

pytestmark = pytest.mark.django_db


# --- directory --------------------------------------------------------------------------------------

def test_store_get_has_open_status_in_store_time(world: World) -> None:
    a = world.a
    store = Store.objects.create(tenant=a.tenant, code="VL-1", name="Svetlanskaya", city="Vladivostok",
                                 time_zone="Asia/Vladivostok", opening_hours={"always": True})
    r = a.api.get(f"stores/{store.pk}")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["code"] == "VL-1"
    assert body["status"]["is_open"] is True
    assert body["status"]["label"] == "open 24/7"
    assert body["status"]["local_time"].endswith("+10:00")


def test_store_status_label_names_the_next_opening(world: World) -> None:
    a = world.a
    store = Store.objects.create(tenant=a.tenant, code="NEVER", name="Closed", city="Gdańsk",
                                 time_zone="Europe/Warsaw", opening_hours={"mon": ["08:00-09:00"]})
    status = a.api.get(f"stores/{store.pk}").json()["status"]
    if status["is_open"]:
        assert status["label"].startswith("open now, closes at 09:00")
    else:
        assert status["label"].startswith("closed, opens at 08:00")
        assert status["changes_at"].endswith(("+01:00", "+02:00"))
        opens = dt.datetime.fromisoformat(status["changes_at"])
        assert opens.weekday() == 0 and (opens.hour, opens.minute) == (8, 0)


def test_store_list_search_city_and_open_now(world: World) -> None:
    a = world.a
    Store.objects.create(tenant=a.tenant, code="KR-1", name="Rynek", city="Kraków", time_zone="Europe/Warsaw",
                         opening_hours={"always": True}, address="Rynek Główny 1")
    Store.objects.create(tenant=a.tenant, code="KR-2", name="Nowa Huta", city="Kraków",
                         time_zone="Europe/Warsaw", opening_hours={})
    listed = a.api.get("stores").json()
    assert listed["count"] == 3
    found = a.api.get("stores", {"q": "rynek glowny"}).json()
    assert [s["code"] for s in found["items"]] == ["KR-1"]
    city = a.api.get("stores", {"city": "Krakow"}).json()
    assert {s["code"] for s in city["items"]} == {"KR-1", "KR-2"}
    assert all(s["status"] is not None for s in city["items"])
    assert a.api.get("stores", {"q": "rynek", "city": "Gdańsk"}).json()["count"] == 0
    assert [s["code"] for s in a.api.get("stores", {"q": "rynek", "city": "Kraków"}).json()["items"]] == ["KR-1"]
    open_now = a.api.get("stores", {"city": "krakow", "open_now": "true"}).json()
    assert [s["code"] for s in open_now["items"]] == ["KR-1"]
    assert open_now["items"][0]["status"]["is_open"] is True
    r = a.api.get("stores", {"open_now": "true"})
    assert r.status_code == 422 and "city" in error_of(r)["fields"]


def test_store_create_patch_delete(world: World) -> None:
    a = world.a
    r = a.api.post("stores", {"code": "GD-1", "name": "Gdańsk Główny", "city": "Gdańsk",
                              "opening_hours": "Mon-Fri 08:00-22:00; Sat 09:00-20:00"})
    assert r.status_code == 201, r.content
    store = r.json()
    assert store["time_zone"] == "Europe/Warsaw"  # the tenant's
    assert store["opening_hours"]["mon"] == ["08:00-22:00"]
    r = a.api.patch(f"stores/{store['id']}", {"name": "Gdańsk Oliwa", "phone": "58 123 45 67"})
    assert r.status_code == 200, r.content
    assert r.json()["name"] == "Gdańsk Oliwa" and r.json()["phone"] == "+48581234567"
    dup = a.api.post("stores", {"code": "GD-1", "name": "x", "city": "y"})
    assert dup.status_code == 422 and "code" in error_of(dup)["fields"]
    assert a.api.delete(f"stores/{store['id']}").status_code == 204
    assert a.api.get(f"stores/{store['id']}").status_code == 404
    assert Event.objects.filter(tenant=a.tenant, kind="store.deleted").exists()


def test_bad_store_fields_name_each_field(world: World) -> None:
    r = world.a.api.post("stores", {"code": "X", "name": "X", "city": "X", "time_zone": "Mars/Base",
                                    "opening_hours": {"mon": ["25:00-26:00"]}})
    assert r.status_code == 422
    assert {"time_zone", "opening_hours"} <= set(error_of(r)["fields"])


def test_departments_and_categories(world: World) -> None:
    a = world.a
    child = f.category(a.tenant, "child", name="Child", parent=a.category)
    deps = a.api.get("departments").json()
    assert [d["code"] for d in deps["items"]] == [a.department.code]
    assert a.api.get(f"departments/{a.department.pk}").json()["email"].endswith("@client.example")
    flat = a.api.get("categories").json()
    assert {c["id"]: c["parent_id"] for c in flat["items"]} == {a.category.pk: None, child.pk: a.category.pk}
    tree = a.api.get("categories/tree").json()
    assert [n["id"] for n in tree] == [a.category.pk]
    assert [n["id"] for n in tree[0]["children"]] == [child.pk]
    detail = a.api.get(f"categories/{a.category.pk}").json()
    assert detail["field_schema"]["required"] == ["receipt_no"]
    assert detail["default_department_id"] == a.department.pk


def test_products_crud_and_search(world: World) -> None:
    a = world.a
    r = a.api.post("products", {"sku": "4820001", "name": "Масло сливочное 82%", "attributes": {"brand": "Д"}})
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    assert [p["sku"] for p in a.api.get("products", {"q": "масло"}).json()["items"]] == ["4820001"]
    r = a.api.patch(f"products/{pid}", {"name": "Масло 72%"})
    assert r.status_code == 200 and r.json()["name"] == "Масло 72%"
    assert a.api.post("products", {"sku": "4820001", "name": "dup"}).status_code == 422
    assert a.api.delete(f"products/{pid}").status_code == 204
    assert a.api.get(f"products/{pid}").status_code == 404


def test_stock_for_store_and_for_sku(world: World) -> None:
    a = world.a
    by_store = a.api.get("stock", {"store_id": a.store.pk}).json()
    assert [(s["sku"], s["quantity"]) for s in by_store["items"]] == [(a.product.sku, 5.0)]
    assert by_store["next_offset"] is None
    by_sku = a.api.get("stock", {"sku": a.product.sku}).json()
    assert [s["store_code"] for s in by_sku["items"]] == [a.store.code]
    r = a.api.get("stock")
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_filter"


def test_stock_pages_with_next_offset(world: World) -> None:
    a = world.a
    for i in range(5):
        f.store(a.tenant, f"P{i}")
    stores = list(Store.objects.filter(tenant=a.tenant))
    for s in stores:
        Stock.objects.get_or_create(tenant=a.tenant, store=s, product=a.product,
                                    defaults={"quantity": 1, "updated_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
    seen, offset = [], 0
    while offset is not None:
        page = a.api.get("stock", {"sku": a.product.sku, "limit": 2, "offset": offset}).json()
        seen += [s["store_id"] for s in page["items"]]
        offset = page["next_offset"]
    assert sorted(seen) == sorted(s.pk for s in stores)


def test_stock_bulk_upsert_is_idempotent(world: World) -> None:
    a = world.a
    rows = [{"store_code": a.store.code, "sku": a.product.sku, "quantity": 12.5,
             "updated_at": "2026-11-25T08:00:00Z"}]
    first = a.api.post("stock/bulk", {"rows": rows})
    assert first.status_code == 200, first.content
    assert first.json()["updated"] == 1 and first.json()["errors"] == []
    state = list(Stock.objects.filter(tenant=a.tenant).values_list("store_id", "product_id", "quantity", "updated_at"))
    second = a.api.post("stock/bulk", {"rows": rows})
    assert second.status_code == 200
    assert (second.json()["created"], second.json()["updated"], second.json()["unchanged"]) == (0, 0, 1)
    assert list(Stock.objects.filter(tenant=a.tenant).values_list(
        "store_id", "product_id", "quantity", "updated_at")) == state
    assert float(state[0][2]) == 12.5


def test_stock_bulk_rejects_bad_rows_unless_skip_invalid(world: World) -> None:
    a = world.a
    rows = [{"store_code": a.store.code, "sku": a.product.sku, "quantity": 7},
            {"store_code": a.store.code, "sku": a.product.sku + "X", "quantity": "many"},
            {"store_code": a.store.code, "sku": a.product.sku, "quantity": {"nested": 1}},
            "not an object"]
    r = a.api.post("stock/bulk", {"rows": rows})
    assert r.status_code == 422
    err = error_of(r)
    assert err["code"] == "invalid_rows"
    assert {"rows.2.sku", "rows.2.quantity", "rows.3.quantity", "rows.4.row"} <= set(err["fields"])
    assert Stock.objects.get(tenant=a.tenant).quantity == 5  # nothing written
    r = a.api.post("stock/bulk", {"rows": rows, "skip_invalid": True})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["updated"] == 1 and body["skipped"] == 3
    assert {e["row"] for e in body["errors"]} == {2, 3, 4}
    assert Stock.objects.get(tenant=a.tenant).quantity == 7


def test_promotions_and_vacancies(world: World) -> None:
    a = world.a
    promos = a.api.get("promotions").json()
    assert [p["title"] for p in promos["items"]] == [a.promotion.title]
    assert a.api.get("promotions", {"all": "true", "store_id": a.store.pk}).json()["count"] == 1
    vac = a.api.get("vacancies", {"city": "Warszawa"}).json()
    assert [v["position"] for v in vac["items"]] == [a.vacancy.position]


# --- contacts ---------------------------------------------------------------------------------------

def test_contact_create_dedupes_with_200(world: World) -> None:
    a = world.a
    r = a.api.post("contacts", {"name": "Jan Nowak", "phone": "+48 602 111 222", "email": "JAN@example.com"})
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["phones"] == ["+48602111222"] and created["emails"] == ["jan@example.com"]
    again = a.api.post("contacts", {"name": "Jan N.", "emails": ["jan@example.com"]})
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]


def test_contact_search_get_patch(world: World) -> None:
    a = world.a
    assert [c["id"] for c in a.api.get("contacts", {"q": "kowalski"}).json()["items"]] == [a.contact.pk]
    assert [c["id"] for c in a.api.get("contacts", {"q": "601 000 001"}).json()["items"]] == [a.contact.pk]
    assert a.api.get("contacts").json()["count"] == 1
    r = a.api.patch(f"contacts/{a.contact.pk}", {"name": "Ewa Kowalska", "language": "pl",
                                                 "phones": ["+48 601 000 001", "+48 603 000 003"]})
    assert r.status_code == 200, r.content
    assert r.json()["name"] == "Ewa Kowalska"
    assert sorted(r.json()["phones"]) == ["+48601000001", "+48603000003"]
    assert r.json()["emails"] == ["alfa@example.com"]  # not sent: kept
    assert Event.objects.filter(tenant=a.tenant, kind="contact.updated").count() == 1


def test_contact_patch_refuses_another_contacts_phone(world: World) -> None:
    a = world.a
    other = a.api.post("contacts", {"name": "Other", "phone": "+48 604 000 004"}).json()
    r = a.api.patch(f"contacts/{a.contact.pk}", {"phones": ["+48 604 000 004"]})
    assert r.status_code == 409
    assert error_of(r)["code"] == "identity_taken"
    assert a.api.get(f"contacts/{other['id']}").json()["phones"] == ["+48604000004"]


# --- tickets ----------------------------------------------------------------------------------------

def test_ticket_create_get_with_inline_contact(world: World) -> None:
    a = world.a
    r = a.api.post("tickets", {
        "subject": "Zepsute mleko", "channel": "call", "body": "Klient dzwoni", "category_id": a.category.pk,
        "store_id": a.store.pk, "priority": "high", "tags": ["mleko", "reklamacja"],
        "custom_fields": {"receipt_no": "PAR-1", "amount": 4.5},
        "contact": {"name": "Nowa Osoba", "phone": "+48 605 000 005"}})
    assert r.status_code == 201, r.content
    t = r.json()
    assert t["reference"].startswith("ALF-") and t["messages_count"] == 1
    assert t["tags"] == ["mleko", "reklamacja"] and t["department_id"] == a.department.pk
    got = a.api.get(f"tickets/{t['id']}").json()
    assert got["custom_fields"] == {"receipt_no": "PAR-1", "amount": 4.5}
    contact = a.api.get(f"contacts/{got['contact_id']}").json()
    assert contact["phones"] == ["+48605000005"]


def test_rejected_ticket_leaves_no_inline_contact(world: World) -> None:
    a = world.a
    r = a.api.post("tickets", {"subject": "x", "channel": "call", "category_id": a.category.pk,
                               "custom_fields": {}, "contact": {"name": "Ghost", "phone": "+48 606 000 006"}})
    assert r.status_code == 422
    assert "custom_fields.receipt_no" in error_of(r)["fields"]
    assert a.api.get("contacts", {"q": "Ghost"}).json()["count"] == 0


def test_ticket_external_id_is_idempotent(world: World) -> None:
    a = world.a
    body = {"subject": "Webform", "channel": "webform", "body": "Hello", "external_id": "form-42"}
    first = a.api.post("tickets", body)
    second = a.api.post("tickets", body | {"subject": "changed on retry"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Ticket.objects.filter(tenant=a.tenant, subject__in=["Webform", "changed on retry"]).count() == 1
    r = a.api.post("tickets", {"subject": "no body", "channel": "webform", "external_id": "form-43"})
    assert r.status_code == 422 and "body" in error_of(r)["fields"]


def test_ticket_list_filters(world: World) -> None:
    a = world.a
    items = a.api.get("tickets").json()
    assert items["count"] == 2
    calls = a.api.get("tickets", {"channel": "call"}).json()
    assert [t["id"] for t in calls["items"]] == [a.ticket.pk]
    both = a.api.get("tickets", {"channel": "call,email", "order": "created"}).json()
    assert [t["id"] for t in both["items"]] == [a.ticket.pk, a.other_ticket.pk]
    assert a.api.get("tickets", {"tag": "milk"}).json()["count"] == 1
    assert a.api.get("tickets", {"store_id": a.store.pk}).json()["count"] == 1
    r = a.api.get("tickets", {"status": "bogus"})
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_filter"


def test_ticket_patch_status_merge(world: World) -> None:
    a = world.a
    r = a.api.patch(f"tickets/{a.ticket.pk}", {"priority": "urgent", "tags": ["a", "b"], "assignee_id": a.boss.pk})
    assert r.status_code == 200, r.content
    assert (r.json()["priority"], r.json()["tags"], r.json()["assignee_id"]) == ("urgent", ["a", "b"], a.boss.pk)
    r = a.api.post(f"tickets/{a.ticket.pk}/status", {"status": "solved"})
    assert r.status_code == 200 and r.json()["status"] == "solved" and r.json()["solved_at"]
    r = a.api.post(f"tickets/{a.other_ticket.pk}/merge", {"into_id": a.ticket.pk})
    assert r.status_code == 200, r.content
    assert r.json()["id"] == a.ticket.pk
    merged = a.api.get(f"tickets/{a.other_ticket.pk}").json()
    assert merged["status"] == "closed" and merged["merged_into_id"] == a.ticket.pk


def test_messages_list_create_get(world: World) -> None:
    a = world.a
    r = a.api.post(f"tickets/{a.ticket.pk}/messages", {"body": "Dzień dobry 👋", "kind": "public"})
    assert r.status_code == 201, r.content
    msg = r.json()
    assert msg["direction"] == "outbound" and msg["author_user_id"] == a.boss.pk
    page = a.api.get(f"tickets/{a.ticket.pk}/messages").json()
    assert [m["kind"] for m in page["items"]] == ["public", "note", "public"]
    assert page["items"][1]["attachments"][0]["filename"] == "scan.pdf"
    assert a.api.get(f"messages/{msg['id']}").json()["body_text"] == "Dzień dobry 👋"
    note = a.api.post(f"tickets/{a.ticket.pk}/messages", {"body": "x", "kind": "note", "external_id": "n-1"})
    again = a.api.post(f"tickets/{a.ticket.pk}/messages", {"body": "x", "kind": "note", "external_id": "n-1"})
    assert (note.status_code, again.status_code) == (201, 200)
    assert Message.objects.filter(tenant=a.tenant, external_id="n-1").count() == 1


def test_attachment_upload_list_download(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    a = world.a
    page = b"<html><script>alert(1)</script></html>"
    r = a.api.upload(f"tickets/{a.ticket.pk}/attachments",
                     {"file": [SimpleUploadedFile("evil.html", page, content_type="text/html"),
                               SimpleUploadedFile("Квитанция.txt", "чек 1".encode(), content_type="text/plain")]},
                     body="Scans")
    assert r.status_code == 201, r.content
    uploaded = r.json()["items"]
    assert [x["filename"] for x in uploaded] == ["evil.html", "Квитанция.txt"]
    message = a.api.get(f"messages/{uploaded[0]['message_id']}").json()
    assert message["kind"] == "note" and message["body_text"] == "Scans"
    listed = a.api.get(f"tickets/{a.ticket.pk}/attachments").json()
    assert listed["count"] == 3
    download = a.api.get(uploaded[0]["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == page
    r = a.api.upload(f"tickets/{a.ticket.pk}/attachments",
                     {"file": SimpleUploadedFile("more.pdf", b"%PDF")}, message_id=str(a.message.pk))
    assert r.status_code == 201 and r.json()["items"][0]["message_id"] == a.message.pk


def test_attachment_upload_refusals(world: World, settings: object) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    a = world.a
    r = a.api.upload(f"tickets/{a.ticket.pk}/attachments", {"file": SimpleUploadedFile("x.exe", b"MZ")})
    assert r.status_code == 422 and error_of(r)["code"] == "attachment_type"
    r = a.api.upload(f"tickets/{a.ticket.pk}/attachments", {}, body="no files")
    assert r.status_code == 422 and "file" in error_of(r)["fields"]
    r = a.api.post(f"tickets/{a.ticket.pk}/attachments", {"file": "not multipart"})
    assert r.status_code == 422
    r = a.api.upload(f"tickets/{a.ticket.pk}/attachments", {"file": SimpleUploadedFile("a.pdf", b"x")},
                     kind="shout")
    assert r.status_code == 422 and "kind" in error_of(r)["fields"]
    r = a.api.upload(f"tickets/{a.ticket.pk}/attachments", {"file": SimpleUploadedFile("a.pdf", b"x")},
                     message_id="abc")
    assert r.status_code == 422 and "message_id" in error_of(r)["fields"]


def test_ticket_history_and_search(world: World) -> None:
    a = world.a
    a.api.post(f"tickets/{a.ticket.pk}/status", {"status": "open"})
    history = a.api.get(f"tickets/{a.ticket.pk}/events").json()
    kinds = [e["kind"] for e in history["items"]]
    assert kinds[0] == "ticket.created" and kinds[-1] == "ticket.status_changed"
    found = a.api.get("search", {"q": "sour milk"}).json()
    assert [t["id"] for t in found["items"]] == [a.ticket.pk]
    r = a.api.get("search", {"q": "  "})
    assert r.status_code == 422 and "q" in error_of(r)["fields"]


def test_store_staff_sees_only_their_store(world: World) -> None:
    from linia.core.actions import create_api_token

    a = world.a
    staff = f.user("kasia", tenant=a.tenant, role=Role.STORE_STAFF, store=f.store(a.tenant, "OTHER"))
    raw, _ = create_api_token(None, a.tenant, staff)
    api = Api(raw)
    assert api.get("tickets").json()["count"] == 0
    assert api.get(f"tickets/{a.ticket.pk}").status_code == 404
    r = api.post("products", {"sku": "S", "name": "N"})
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"
    assert api.get("contacts").status_code == 403
