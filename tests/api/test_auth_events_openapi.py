"""Bearer tokens, the events feed cursor and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from tests.api.conftest import Api, World, error_of

from linia.api.auth import forget_tokens
from linia.core.actions import create_api_token
from linia.core.models import ApiToken, Membership
from linia.tickets import actions
from linia.tickets.models import Event

pytestmark = pytest.mark.django_db


# --- auth -------------------------------------------------------------------------------------------

def _401(response: Any) -> None:
    assert response.status_code == 401, response.content[:300]
    assert error_of(response)["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc",
                                    "Bearer lin_wrong", "Bearer " + "x" * 5000, "Bearer ✓ ünïcode"])
def test_missing_or_bad_token_is_401(world: World, header: str | None) -> None:
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    _401(Api(None).get("tickets", **extra))
    _401(Api(None).post("tickets", {"subject": "x", "channel": "call"}, **extra))


def test_token_works_case_insensitive_scheme(world: World) -> None:
    r = Api(None).get("tickets", HTTP_AUTHORIZATION=f"bearer {world.a.token}")
    assert r.status_code == 200


def test_revoked_token_is_401(world: World) -> None:
    a = world.a
    ApiToken.objects.filter(tenant=a.tenant).update(revoked_at=timezone.now())
    _401(a.api.get("tickets"))


def test_inactive_user_is_401(world: World) -> None:
    a = world.a
    a.boss.is_active = False
    a.boss.save()
    _401(a.api.get("tickets"))


def test_user_who_left_the_tenant_is_401(world: World) -> None:
    a = world.a
    Membership.objects.filter(user=a.boss, tenant=a.tenant).delete()
    _401(a.api.get("stores"))


def test_inactive_tenant_is_401(world: World) -> None:
    a = world.a
    a.tenant.is_active = False
    a.tenant.save()
    _401(a.api.get("stores"))


def test_token_of_a_user_in_two_tenants_stays_in_its_tenant(world: World) -> None:
    a, b = world.a, world.b
    Membership.objects.create(user=a.boss, tenant=b.tenant, role="agent")
    raw, _ = create_api_token(None, a.tenant, a.boss)
    api = Api(raw)
    assert api.get(f"tickets/{b.ticket.pk}").status_code == 404
    assert {t["id"] for t in api.get("tickets").json()["items"]} == {a.ticket.pk, a.other_ticket.pk}


def test_last_used_at_is_written_at_most_once_a_minute(world: World) -> None:
    a = world.a
    token = ApiToken.objects.get(tenant=a.tenant)
    assert token.last_used_at is None
    a.api.get("stores")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    a.api.get("stores")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    forget_tokens()  # the server remembers its own last write for a few seconds (see linia.api.auth)
    a.api.get("stores")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_openapi_and_docs_need_no_token(world: World) -> None:
    r = Api(None).get("openapi.json")
    assert r.status_code == 200
    spec = r.json()
    paths = spec["paths"]
    for path in ("/api/v1/tickets", "/api/v1/tickets/{ticket_id}", "/api/v1/tickets/{ticket_id}/messages",
                 "/api/v1/tickets/{ticket_id}/attachments", "/api/v1/attachments/{attachment_id}/download",
                 "/api/v1/stores", "/api/v1/stores/{store_id}", "/api/v1/stock/bulk", "/api/v1/contacts",
                 "/api/v1/events", "/api/v1/search", "/api/v1/categories/tree", "/api/v1/promotions",
                 "/api/v1/vacancies", "/api/v1/departments", "/api/v1/products/{product_id}"):
        assert path in paths, path
    assert spec["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    assert "multipart/form-data" in paths["/api/v1/tickets/{ticket_id}/attachments"]["post"]["requestBody"]["content"]
    assert set(paths["/api/v1/tickets"]["post"]["responses"]) >= {"200", "201", "401", "422"}
    docs = Api(None).get("docs")
    assert docs.status_code == 200
    assert b"/static/ninja/swagger-ui-bundle.js" in docs.content and b"cdn" not in docs.content.lower()
    index = Api(None).get("/api/v1/").json()
    assert index["openapi"] == "/api/v1/openapi.json"


# --- the events feed ----------------------------------------------------------------------------------

def _drain(api: Api, *, after: int = 0, limit: int = 3, **params: Any) -> tuple[list[int], int]:
    seen: list[int] = []
    cursor = after
    for _ in range(1000):
        page = api.get("events", {"after": cursor, "limit": limit, **params}).json()
        assert page["next_cursor"] >= cursor
        if not page["items"]:
            return seen, cursor
        ids = [e["id"] for e in page["items"]]
        assert ids == sorted(ids) and ids[0] > cursor
        seen += ids
        cursor = page["next_cursor"]
        assert cursor == ids[-1]
    raise AssertionError("the feed never ended")


def test_feed_pages_have_no_gaps_or_duplicates_and_stay_in_tenant(world: World) -> None:
    a, b = world.a, world.b
    for i in range(7):  # interleave both tenants' events
        actions.add_message(None, a.ticket, body=f"a{i}")
        actions.add_message(None, b.ticket, body=f"b{i}")
    seen, cursor = _drain(a.api)
    expected = list(Event.objects.filter(tenant=a.tenant).order_by("id").values_list("id", flat=True))
    assert seen == expected
    assert len(set(seen)) == len(seen)
    # New events after the last page arrive on the next call, after the cursor: nothing lost, nothing repeated.
    actions.change_status(None, a.ticket, "open")
    actions.add_message(None, b.ticket, body="b-late")
    more, _ = _drain(a.api, after=cursor)
    assert more == list(Event.objects.filter(tenant=a.tenant, id__gt=cursor).values_list("id", flat=True))
    assert [e["kind"] for e in a.api.get("events", {"after": cursor}).json()["items"]] == ["ticket.status_changed"]


def test_feed_is_stable_while_events_are_added_between_pages(world: World) -> None:
    a = world.a
    first = a.api.get("events", {"limit": 2}).json()
    actions.add_message(None, a.ticket, body="arrives mid-way")
    rest, _ = _drain(a.api, after=first["next_cursor"], limit=2)
    all_ids = [e["id"] for e in first["items"]] + rest
    assert all_ids == list(Event.objects.filter(tenant=a.tenant).order_by("id").values_list("id", flat=True))


def test_feed_filters_by_kind(world: World) -> None:
    a = world.a
    created = a.api.get("events", {"kind": "ticket.created"}).json()["items"]
    assert {e["ticket_id"] for e in created} == {a.ticket.pk, a.other_ticket.pk}
    both = a.api.get("events", {"kind": "ticket.created,contact.created", "limit": 200}).json()["items"]
    assert {e["kind"] for e in both} == {"ticket.created", "contact.created"}
    empty = a.api.get("events", {"after": 10**15}).json()
    assert empty == {"items": [], "next_cursor": 10**15}


def test_feed_hides_events_of_tickets_the_caller_cannot_see(world: World) -> None:
    from tests import factories as f

    a = world.a
    staff = f.user("kasia", tenant=a.tenant, role="store_staff", store=a.store)
    raw, _ = create_api_token(None, a.tenant, staff)
    items = Api(raw).get("events", {"limit": 200}).json()["items"]
    assert items and {e["ticket_id"] for e in items} == {a.ticket.pk}  # other_ticket has no store


def test_feed_holds_back_the_newest_events_for_the_configured_delay(world: World, settings: Any) -> None:
    a = world.a
    settings.LINIA_EVENT_FEED_DELAY_SECONDS = 3600
    assert a.api.get("events").json()["items"] == []
    Event.objects.filter(tenant=a.tenant).update(created_at=timezone.now() - dt.timedelta(hours=2))
    assert len(a.api.get("events", {"limit": 200}).json()["items"]) == Event.objects.filter(tenant=a.tenant).count()


@pytest.mark.parametrize("params", [{"after": -1}, {"after": "x"}, {"limit": 0}, {"limit": 201},
                                    {"after": 2**63}, {"kind": "k" * 301}])
def test_feed_bad_params_are_422(world: World, params: dict[str, Any]) -> None:
    r = world.a.api.get("events", params)
    assert r.status_code == 422
    assert set(error_of(r)["fields"]) == set(params)
