"""Tenant isolation: tenant A's token against every endpoint with tenant B's ids, lists and searches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from tests.api.conftest import Side, World, error_of

from linia.api.api import api
from linia.directory.models import Product, Stock, Store
from linia.routing.models import Reservation, Task
from linia.tickets.models import Contact, Event, Message, Ticket

pytestmark = pytest.mark.django_db

Call = Callable[[Side, Side], Any]  # (caller, victim) -> response

# Every operation with an id in its path, called by A with B's ids. Keys are "METHOD /path" as in OpenAPI.
MATRIX: dict[str, Call] = {
    "GET /api/v1/stores/{store_id}": lambda a, b: a.api.get(f"stores/{b.store.pk}"),
    "PATCH /api/v1/stores/{store_id}": lambda a, b: a.api.patch(f"stores/{b.store.pk}", {"name": "pwned"}),
    "DELETE /api/v1/stores/{store_id}": lambda a, b: a.api.delete(f"stores/{b.store.pk}"),
    "GET /api/v1/departments/{department_id}": lambda a, b: a.api.get(f"departments/{b.department.pk}"),
    "GET /api/v1/categories/{category_id}": lambda a, b: a.api.get(f"categories/{b.category.pk}"),
    "GET /api/v1/products/{product_id}": lambda a, b: a.api.get(f"products/{b.product.pk}"),
    "PATCH /api/v1/products/{product_id}": lambda a, b: a.api.patch(f"products/{b.product.pk}", {"name": "pwned"}),
    "DELETE /api/v1/products/{product_id}": lambda a, b: a.api.delete(f"products/{b.product.pk}"),
    "GET /api/v1/contacts/{contact_id}": lambda a, b: a.api.get(f"contacts/{b.contact.pk}"),
    "PATCH /api/v1/contacts/{contact_id}": lambda a, b: a.api.patch(f"contacts/{b.contact.pk}", {"name": "pwned"}),
    "GET /api/v1/tickets/{ticket_id}": lambda a, b: a.api.get(f"tickets/{b.ticket.pk}"),
    "PATCH /api/v1/tickets/{ticket_id}": lambda a, b: a.api.patch(f"tickets/{b.ticket.pk}", {"subject": "pwned"}),
    "POST /api/v1/tickets/{ticket_id}/status": lambda a, b: a.api.post(f"tickets/{b.ticket.pk}/status",
                                                                       {"status": "closed"}),
    "POST /api/v1/tickets/{ticket_id}/merge": lambda a, b: a.api.post(f"tickets/{b.ticket.pk}/merge",
                                                                      {"into_id": b.other_ticket.pk}),
    "GET /api/v1/tickets/{ticket_id}/events": lambda a, b: a.api.get(f"tickets/{b.ticket.pk}/events"),
    "GET /api/v1/tickets/{ticket_id}/messages": lambda a, b: a.api.get(f"tickets/{b.ticket.pk}/messages"),
    "POST /api/v1/tickets/{ticket_id}/messages": lambda a, b: a.api.post(f"tickets/{b.ticket.pk}/messages",
                                                                         {"body": "pwned"}),
    "GET /api/v1/messages/{message_id}": lambda a, b: a.api.get(f"messages/{b.message.pk}"),
    "GET /api/v1/tickets/{ticket_id}/attachments": lambda a, b: a.api.get(f"tickets/{b.ticket.pk}/attachments"),
    "POST /api/v1/tickets/{ticket_id}/attachments": lambda a, b: a.api.upload(
        f"tickets/{b.ticket.pk}/attachments", {"file": SimpleUploadedFile("x.pdf", b"pwned")}),
    "GET /api/v1/attachments/{attachment_id}": lambda a, b: a.api.get(f"attachments/{b.attachment.pk}"),
    "GET /api/v1/attachments/{attachment_id}/download": lambda a, b: a.api.get(
        f"attachments/{b.attachment.pk}/download"),
}

def _routed(side: Side) -> tuple[int, int]:
    """A waiting call task of `side` with a pending offer to its supervisor: (task id, reservation id)."""
    from datetime import timedelta

    from django.utils import timezone

    from linia.routing.models import Queue, Reservation, Task

    if "routing" not in side.extra:
        now = timezone.now()
        queue = Queue.objects.create(tenant=side.tenant, code="support", name="Support")
        task = Task.objects.create(tenant=side.tenant, channel="call", queue=queue, queued_at=now, status="reserved")
        offer = Reservation.objects.create(tenant=side.tenant, task=task, agent=side.boss, offered_at=now,
                                           expires_at=now + timedelta(minutes=5))
        side.extra["routing"] = (task.pk, offer.pk)
    return side.extra["routing"]  # type: ignore[no-any-return]


MATRIX.update({
    "POST /api/v1/routing/offers/{reservation_id}/accept": lambda a, b: a.api.post(
        f"routing/offers/{_routed(b)[1]}/accept", {}),
    "POST /api/v1/routing/offers/{reservation_id}/decline": lambda a, b: a.api.post(
        f"routing/offers/{_routed(b)[1]}/decline", {}),
    "POST /api/v1/routing/tasks/{task_id}/abandon": lambda a, b: a.api.post(
        f"routing/tasks/{_routed(b)[0]}/abandon", {}),
    "POST /api/v1/routing/tasks/{task_id}/complete": lambda a, b: a.api.post(
        f"routing/tasks/{_routed(b)[0]}/complete", {}),
    "POST /api/v1/routing/tasks/{task_id}/escalate": lambda a, b: a.api.post(
        f"routing/tasks/{_routed(b)[0]}/escalate", {}),
    "POST /api/v1/routing/tasks/{task_id}/transfer": lambda a, b: a.api.post(
        f"routing/tasks/{_routed(b)[0]}/transfer", {"to_queue": "support"}),
})

MATRIX.update({
    "GET /api/v1/routing/tasks/{task_id}": lambda a, b: a.api.get(f"routing/tasks/{_routed(b)[0]}"),
    "POST /api/v1/routing/tasks/{task_id}/first-response": lambda a, b: a.api.post(
        f"routing/tasks/{_routed(b)[0]}/first-response", {}),
})


def _hook(side: Side) -> int:
    """A webhook subscription of `side`."""
    from linia.dispatch.models import WebhookSubscription

    if "hook" not in side.extra:
        side.extra["hook"] = WebhookSubscription.objects.create(
            tenant=side.tenant, url="https://hooks.example.com/in", event_types=["*"]).pk
    return side.extra["hook"]  # type: ignore[no-any-return]


MATRIX.update({
    "GET /api/v1/webhooks/{webhook_id}": lambda a, b: a.api.get(f"webhooks/{_hook(b)}"),
    "PATCH /api/v1/webhooks/{webhook_id}": lambda a, b: a.api.patch(f"webhooks/{_hook(b)}", {"is_active": False}),
    "DELETE /api/v1/webhooks/{webhook_id}": lambda a, b: a.api.delete(f"webhooks/{_hook(b)}"),
    "POST /api/v1/webhooks/{webhook_id}/rotate-secret": lambda a, b: a.api.post(
        f"webhooks/{_hook(b)}/rotate-secret", {}),
    "GET /api/v1/webhooks/{webhook_id}/deliveries": lambda a, b: a.api.get(f"webhooks/{_hook(b)}/deliveries"),
    "POST /api/v1/webhooks/{webhook_id}/replay": lambda a, b: a.api.post(f"webhooks/{_hook(b)}/replay", {}),
})

# Foreign ids inside query strings and bodies of endpoints without an id in the path.
INDIRECT: dict[str, Call] = {
    "stock of B's store": lambda a, b: a.api.get("stock", {"store_id": b.store.pk}),
    "promotions of B's store": lambda a, b: a.api.get("promotions", {"store_id": b.store.pk}),
    "merge A's ticket into B's": lambda a, b: a.api.post(f"tickets/{a.ticket.pk}/merge", {"into_id": b.ticket.pk}),
    "attach to B's message": lambda a, b: a.api.upload(
        f"tickets/{a.ticket.pk}/attachments", {"file": SimpleUploadedFile("x.pdf", b"x")},
        message_id=str(b.message.pk)),
}


def _snapshot(side: Side) -> Any:
    from linia.dispatch.models import WebhookSubscription

    t = Ticket.objects.get(pk=side.ticket.pk)
    return (
        Store.objects.filter(pk=side.store.pk).values_list("name", flat=True).first(),
        Product.objects.filter(pk=side.product.pk).values_list("name", flat=True).first(),
        Contact.objects.get(pk=side.contact.pk).name,
        (t.subject, t.status, t.merged_into_id),
        Message.objects.filter(tenant=side.tenant).count(),
        Event.objects.filter(tenant=side.tenant).count(),
        Stock.objects.filter(tenant=side.tenant).count(),
        sorted(Task.objects.filter(tenant=side.tenant).values_list("pk", "status", "queue_id")),
        sorted(Reservation.objects.filter(tenant=side.tenant).values_list("pk", "status")),
        sorted(map(str, WebhookSubscription.objects.filter(tenant=side.tenant).values_list())),
    )


def test_matrix_covers_every_operation_with_an_id() -> None:
    schema = api.get_openapi_schema()
    with_ids = {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops
                if "{" in path}
    assert with_ids == set(MATRIX)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_foreign_id_is_404_and_changes_nothing(world: World, name: str) -> None:
    _routed(world.b)
    _hook(world.b)
    before = _snapshot(world.b)
    response = MATRIX[name](world.a, world.b)
    assert response.status_code == 404, (name, response.status_code, response.content[:300])
    assert error_of(response)["code"] == "not_found"
    assert _snapshot(world.b) == before


@pytest.mark.parametrize("name", sorted(INDIRECT))
def test_foreign_id_in_query_or_body_is_404(world: World, name: str) -> None:
    before = _snapshot(world.b)
    response = INDIRECT[name](world.a, world.b)
    assert response.status_code == 404, (name, response.status_code, response.content[:300])
    assert _snapshot(world.b) == before


def test_foreign_and_missing_ids_answer_identically(world: World) -> None:
    """Nothing in the answer tells B's rows apart from ids that never existed."""
    a, b = world.a, world.b
    missing = max(Ticket.objects.order_by("-pk").first().pk, Store.objects.order_by("-pk").first().pk) + 1000
    for path in ("tickets/{}", "stores/{}", "contacts/{}", "products/{}", "messages/{}", "attachments/{}"):
        foreign_id = {"tickets": b.ticket.pk, "stores": b.store.pk, "contacts": b.contact.pk,
                      "products": b.product.pk, "messages": b.message.pk,
                      "attachments": b.attachment.pk}[path.split("/")[0]]
        foreign, absent = a.api.get(path.format(foreign_id)), a.api.get(path.format(missing))
        assert (foreign.status_code, foreign.json()) == (absent.status_code, absent.json())


def test_foreign_references_in_ticket_bodies_read_as_unknown(world: World) -> None:
    a, b = world.a, world.b
    for field, value in (("category_id", b.category.pk), ("store_id", b.store.pk),
                         ("department_id", b.department.pk), ("contact_id", b.contact.pk)):
        r = a.api.post("tickets", {"subject": "x", "channel": "call", field: value})
        assert r.status_code == 422, (field, r.content)
        assert field.removesuffix("_id") in error_of(r)["fields"]
        r = a.api.patch(f"tickets/{a.ticket.pk}", {field: value} if field != "contact_id" else {"store_id": value})
        assert r.status_code == 422
    r = a.api.patch(f"tickets/{a.ticket.pk}", {"assignee_id": b.boss.pk})
    assert r.status_code == 422 and "assignee" in error_of(r)["fields"]
    assert Ticket.objects.filter(tenant=a.tenant, subject="x").count() == 0


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return {item["id"] for item in items}


def test_lists_and_searches_hold_only_own_rows(world: World) -> None:
    """Both tenants use the same words, city and phone: any leak would show up here."""
    a, b = world.a, world.b
    assert _ids(a.api.get("stores")) == {a.store.pk}
    assert _ids(a.api.get("stores", {"q": "Żubr"})) == {a.store.pk}
    assert _ids(a.api.get("stores", {"city": "Warszawa"})) == {a.store.pk}
    assert _ids(a.api.get("departments")) == {a.department.pk}
    assert _ids(a.api.get("categories")) == {a.category.pk}
    assert _ids(a.api.get("categories/tree")) == {a.category.pk}
    assert _ids(a.api.get("products", {"q": "Żubr milk"})) == {a.product.pk}
    assert _ids(a.api.get("promotions", {"all": "1"})) == {a.promotion.pk}
    assert _ids(a.api.get("vacancies", {"city": "Warszawa"})) == {a.vacancy.pk}
    assert _ids(a.api.get("contacts")) == {a.contact.pk}
    assert _ids(a.api.get("contacts", {"q": "Kowalski"})) == {a.contact.pk}
    assert _ids(a.api.get("contacts", {"q": "+48601000001"})) == {a.contact.pk}
    assert _ids(a.api.get("contacts", {"q": "beta@example.com"})) == set()
    assert _ids(a.api.get("tickets")) == {a.ticket.pk, a.other_ticket.pk}
    assert _ids(a.api.get("tickets", {"q": "Żubr sour milk"})) == {a.ticket.pk}
    assert _ids(a.api.get("tickets", {"store_id": b.store.pk})) == set()
    assert _ids(a.api.get("tickets", {"contact_id": b.contact.pk})) == set()
    assert _ids(a.api.get("search", {"q": "sour milk"})) == {a.ticket.pk}
    assert a.api.get("stock", {"sku": b.product.sku}).json()["items"] == []
    feed = a.api.get("events", {"limit": 200}).json()["items"]
    assert {e["id"] for e in feed} == set(Event.objects.filter(tenant=a.tenant).values_list("id", flat=True))


def test_contact_create_does_not_dedupe_across_tenants(world: World) -> None:
    a, b = world.a, world.b
    r = a.api.post("contacts", {"name": "Someone", "email": "beta@example.com"})
    assert r.status_code == 201 and r.json()["id"] != b.contact.pk
    r = a.api.post("tickets", {"subject": "x", "channel": "call", "contact": {"phone": "+48 601 000 001"}})
    assert r.status_code == 201 and r.json()["contact_id"] == a.contact.pk


def test_stock_bulk_with_foreign_codes_gives_row_errors(world: World) -> None:
    a, b = world.a, world.b
    before = list(Stock.objects.filter(tenant=b.tenant).values_list("quantity", flat=True))
    rows = [{"store_code": b.store.code, "sku": b.product.sku, "quantity": 999}]
    r = a.api.post("stock/bulk", {"rows": rows})
    assert r.status_code == 422
    assert {"rows.1.store_code", "rows.1.sku"} <= set(error_of(r)["fields"])
    r = a.api.post("stock/bulk", {"rows": rows, "skip_invalid": True})
    assert r.status_code == 200 and r.json()["skipped"] == 1
    assert list(Stock.objects.filter(tenant=b.tenant).values_list("quantity", flat=True)) == before


def test_external_id_is_per_tenant(world: World) -> None:
    a, b = world.a, world.b
    body = {"subject": "Form", "channel": "webform", "body": "hi", "external_id": "same-key"}
    ra, rb = a.api.post("tickets", body), b.api.post("tickets", body)
    assert (ra.status_code, rb.status_code) == (201, 201)
    assert Ticket.objects.get(pk=ra.json()["id"]).tenant_id == a.tenant.pk
    assert Ticket.objects.get(pk=rb.json()["id"]).tenant_id == b.tenant.pk
