"""The role × permission matrix of linia.core.permissions and ticket scoping."""

from __future__ import annotations

from typing import Any

import pytest

from linia.core.models import Membership, Role, User
from linia.core.permissions import (
    Perm,
    PermissionDenied,
    can_see_ticket,
    has_perm,
    require,
    scope_tickets,
    tenants_for,
)
from linia.tickets import actions
from linia.tickets.models import Ticket
from tests import factories as f

pytestmark = pytest.mark.django_db

P = Perm
EXPECTED: dict[str, set[Perm]] = {
    "supervisor": set(Perm),
    "agent": {P.TICKETS_VIEW, P.TICKETS_CREATE, P.TICKETS_CHANGE, P.TICKETS_MERGE, P.CONTACTS_VIEW,
              P.CONTACTS_CHANGE, P.DIRECTORY_VIEW, P.EXPORT},
    "client_staff": {P.TICKETS_VIEW, P.TICKETS_CHANGE, P.DIRECTORY_VIEW, P.EXPORT, P.CONFIG_MANAGE,
                     P.DIRECTORY_MANAGE, P.AUDIT_VIEW},
    "client_staff_dept": {P.TICKETS_VIEW, P.TICKETS_CHANGE, P.DIRECTORY_VIEW, P.EXPORT, P.CONFIG_MANAGE,
                          P.DIRECTORY_MANAGE, P.AUDIT_VIEW},
    "store_staff": {P.TICKETS_VIEW, P.TICKETS_CREATE, P.TICKETS_CHANGE, P.DIRECTORY_VIEW},
    "outsider": set(),
    "inactive": set(),
    "superuser": set(Perm),
}


@pytest.fixture
def people() -> dict[str, Any]:
    t, other = f.tenant("home"), f.tenant("other")
    store, dept = f.store(t), f.department(t)
    inactive = f.user(tenant=t, role=Role.SUPERVISOR)
    inactive.is_active = False
    inactive.save()
    return {
        "tenant": t, "other": other, "store": store, "dept": dept,
        "supervisor": f.user(tenant=t, role=Role.SUPERVISOR),
        "agent": f.user(tenant=t, role=Role.AGENT),
        "client_staff": f.user(tenant=t, role=Role.CLIENT_STAFF),
        "client_staff_dept": f.user(tenant=t, role=Role.CLIENT_STAFF, department=dept),
        "store_staff": f.user(tenant=t, role=Role.STORE_STAFF, store=store),
        "outsider": f.user(tenant=other, role=Role.SUPERVISOR),
        "inactive": inactive,
        "superuser": f.user(superuser=True),
    }


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("perm", list(Perm))
def test_role_permission_matrix(people: dict[str, Any], who: str, perm: Perm) -> None:
    user: User = people[who]
    assert has_perm(user, perm, people["tenant"]) is (perm in EXPECTED[who])
    assert has_perm(user, perm, people["tenant"].pk) is (perm in EXPECTED[who])  # by id too


def test_membership_in_one_tenant_grants_nothing_in_another(people: dict[str, Any]) -> None:
    for who in ("supervisor", "agent", "client_staff", "store_staff"):
        assert not any(has_perm(people[who], p, people["other"]) for p in Perm)
    assert has_perm(people["outsider"], Perm.CONFIG_MANAGE, people["other"])


def test_require_raises_permission_denied(people: dict[str, Any]) -> None:
    require(people["agent"], Perm.TICKETS_CREATE, people["tenant"])
    with pytest.raises(PermissionDenied) as err:
        require(people["agent"], Perm.CONFIG_MANAGE, people["tenant"])
    assert err.value.perm == Perm.CONFIG_MANAGE


def test_anonymous_user_has_nothing(people: dict[str, Any]) -> None:
    from django.contrib.auth.models import AnonymousUser

    anon = AnonymousUser()
    assert not any(has_perm(anon, p, people["tenant"]) for p in Perm)
    assert not tenants_for(anon).exists()


def test_tenants_for(people: dict[str, Any]) -> None:
    t, other = people["tenant"], people["other"]
    assert list(tenants_for(people["agent"])) == [t]
    assert set(tenants_for(people["superuser"])) == {t, other}
    multi = f.user(tenant=t)
    Membership.objects.create(user=multi, tenant=other, role=Role.AGENT)
    assert set(tenants_for(multi)) == {t, other}
    other.is_active = False
    other.save()
    assert list(tenants_for(multi)) == [t]
    assert not tenants_for(people["inactive"]).exclude(pk=t.pk).exists()


@pytest.fixture
def tickets(people: dict[str, Any]) -> dict[str, Ticket]:
    t = people["tenant"]
    other_store, other_dept = f.store(t), f.department(t)
    return {
        "store": actions.create_ticket(None, t, subject="At my store", channel="call", store=people["store"].pk),
        "other_store": actions.create_ticket(None, t, subject="Elsewhere", channel="call", store=other_store.pk),
        "dept": actions.create_ticket(None, t, subject="For dept", channel="email", department=people["dept"].pk),
        "other_dept": actions.create_ticket(None, t, subject="Other dept", channel="email",
                                            department=other_dept.pk),
        "foreign": actions.create_ticket(None, people["other"], subject="Other tenant", channel="call"),
    }


def visible(user: User, tenant: Any) -> set[int]:
    return set(scope_tickets(user, tenant, Ticket.objects.all()).values_list("pk", flat=True))


def test_scope_tickets_per_role(people: dict[str, Any], tickets: dict[str, Ticket]) -> None:
    t = people["tenant"]
    own = {tk.pk for k, tk in tickets.items() if k != "foreign"}
    assert visible(people["supervisor"], t) == own
    assert visible(people["agent"], t) == own
    assert visible(people["client_staff"], t) == own
    assert visible(people["superuser"], t) == own
    assert visible(people["store_staff"], t) == {tickets["store"].pk}
    assert visible(people["client_staff_dept"], t) == {tickets["dept"].pk}
    assert visible(people["outsider"], t) == set()
    assert visible(people["inactive"], t) == set()


def test_scope_tickets_never_crosses_tenants(people: dict[str, Any], tickets: dict[str, Ticket]) -> None:
    assert visible(people["superuser"], people["other"]) == {tickets["foreign"].pk}
    assert visible(people["supervisor"], people["other"]) == set()
    # Asking for one's own tenant never returns the other tenant's rows, whatever the queryset.
    assert tickets["foreign"].pk not in visible(people["supervisor"], people["tenant"])


def test_can_see_ticket(people: dict[str, Any], tickets: dict[str, Ticket]) -> None:
    assert can_see_ticket(people["store_staff"], tickets["store"])
    assert not can_see_ticket(people["store_staff"], tickets["other_store"])
    assert can_see_ticket(people["client_staff_dept"], tickets["dept"])
    assert not can_see_ticket(people["client_staff_dept"], tickets["other_dept"])
    assert not can_see_ticket(people["agent"], tickets["foreign"])
    assert can_see_ticket(people["superuser"], tickets["foreign"])
