"""The per-process memory of checked bearer tokens: no queries per request, and every way of taking a
token's rights away still works (at once in this process, within API_TOKEN_CACHE_SECONDS elsewhere)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.api.conftest import World

from linia.api import auth
from linia.core.actions import revoke_api_token
from linia.core.models import ApiToken, Membership

pytestmark = pytest.mark.django_db


def _auth_queries(api: Any) -> int:
    """Queries that touch the tokens table while serving one request."""
    with CaptureQueriesContext(connection) as ctx:
        assert api.get("stores").status_code == 200
    return sum('"core_apitoken"' in q["sql"] for q in ctx.captured_queries)


def test_a_checked_token_costs_no_query_on_the_next_request(world: World) -> None:
    api = world.a.api
    assert _auth_queries(api) >= 1
    assert _auth_queries(api) == 0


def test_revoking_through_the_action_is_honoured_at_once(world: World) -> None:
    api = world.a.api
    assert api.get("stores").status_code == 200
    revoke_api_token(None, ApiToken.objects.get(tenant=world.a.tenant))
    assert api.get("stores").status_code == 401


def test_user_deactivated_or_membership_removed_after_a_request_is_401_at_once(world: World) -> None:
    a, b = world.a, world.b
    assert a.api.get("stores").status_code == 200 and b.api.get("stores").status_code == 200
    a.boss.is_active = False
    a.boss.save()
    assert a.api.get("stores").status_code == 401
    Membership.objects.filter(user=b.boss, tenant=b.tenant).delete()
    assert b.api.get("stores").status_code == 401


def test_a_change_the_process_does_not_see_is_honoured_after_the_cache_time(world: World, settings: Any) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0.3
    api = world.a.api
    assert api.get("stores").status_code == 200
    # Like `linia token revoke` in another process: no signal reaches this one.
    ApiToken.objects.filter(tenant=world.a.tenant).update(revoked_at=timezone.now())
    assert api.get("stores").status_code == 200  # still remembered (documented: within the cache time)
    time.sleep(0.35)
    assert api.get("stores").status_code == 401


def test_cache_off_checks_every_request(world: World, settings: Any) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0
    api = world.a.api
    assert api.get("stores").status_code == 200
    ApiToken.objects.filter(tenant=world.a.tenant).update(revoked_at=timezone.now())
    assert api.get("stores").status_code == 401


def test_each_request_gets_its_own_user_and_tenant(world: World) -> None:
    request = RequestFactory().get("/api/v1/stores")
    first = auth.TokenAuth().authenticate(request, world.a.token)
    second = auth.TokenAuth().authenticate(request, world.a.token)
    assert first is not None and second is not None
    assert first.user.pk == second.user.pk == world.a.boss.pk and first.tenant.pk == world.a.tenant.pk
    assert first.user is not second.user and first.tenant is not second.tenant
    first.user._linia_memberships[world.b.tenant.pk] = Membership(role="owner")  # what a view could memoise
    assert world.b.tenant.pk not in second.user._linia_memberships
