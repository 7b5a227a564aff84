"""Single-object directory actions: validation with field errors, permission, audit and events."""

from __future__ import annotations

import pytest

from linia.core.errors import ActionError, NotFound
from linia.core.models import AuditLog, Role
from linia.core.permissions import PermissionDenied
from linia.directory import actions
from linia.directory.models import Product, Stock, Store
from linia.tickets.models import Event
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_create_store_with_hours_text_and_defaults() -> None:
    t = f.tenant(time_zone="Asia/Vladivostok", default_language="ru")
    staff = f.user(tenant=t, role=Role.CLIENT_STAFF)
    store = actions.save_store(staff, t, {"code": "V1", "name": "Светланская", "city": "Владивосток",
                                          "hours": "пн-вс 08:00-23:00", "phone": "8 (423) 222-33-44"})
    assert (store.time_zone, store.phone, store.opening_hours["sun"]) == ("Asia/Vladivostok", "+74232223344",
                                                                          ["08:00-23:00"])
    audit = AuditLog.objects.get(tenant=t)
    assert (audit.action, audit.actor, audit.object_id) == ("create", staff, str(store.pk))
    event = Event.objects.get(tenant=t)
    assert (event.kind, event.data["code"], event.data["created"]) == ("store.saved", "V1", True)


def test_update_store_changes_given_fields_and_audits_the_diff() -> None:
    t = f.tenant()
    store = f.store(t, "W1", name="Old", city="Warszawa")
    actions.save_store(None, t, {"name": "New", "opening_hours": {"always": True}}, store)
    store.refresh_from_db()
    assert (store.name, store.city, store.opening_hours) == ("New", "Warszawa", {"always": True})
    audit = AuditLog.objects.get(action="update")
    assert audit.changes["name"] == ["Old", "New"]
    # Saving the same values again is a no-op: no audit row, no event.
    actions.save_store(None, t, {"name": "New"}, store)
    assert AuditLog.objects.count() == 1 and Event.objects.count() == 1


def test_store_validation_names_every_bad_field() -> None:
    t = f.tenant()
    f.store(t, "TAKEN")
    with pytest.raises(ActionError) as err:
        actions.save_store(None, t, {"code": "TAKEN", "name": "", "time_zone": "Mars/Olympus", "is_active": "maybe",
                                     "hours": "mon 25:00-26:00", "latitude": "north", "colour": "red"})
    fields = err.value.fields
    assert set(fields) == {"code", "name", "city", "time_zone", "opening_hours", "latitude", "colour", "is_active"}
    assert "already used" in fields["code"][0]
    assert "IANA" in fields["time_zone"][0]
    assert "25:00" in fields["opening_hours"][0]
    assert Store.objects.count() == 1 and not Event.objects.exists()


def test_store_code_may_repeat_across_tenants() -> None:
    a, b = f.tenant(), f.tenant()
    f.store(a, "S1")
    assert actions.save_store(None, b, {"code": "S1", "name": "B", "city": "Łódź"}).tenant == b


def test_store_of_another_tenant_is_not_found() -> None:
    a, b = f.tenant(), f.tenant()
    store = f.store(a, "S1")
    staff_b = f.user(tenant=b, role=Role.CLIENT_STAFF)
    with pytest.raises(NotFound):
        actions.save_store(staff_b, b, {"name": "Hijacked"}, store)
    with pytest.raises(PermissionDenied):
        actions.delete_store(staff_b, store)
    store.refresh_from_db()
    assert store.name != "Hijacked"


def test_agent_may_not_manage_the_directory() -> None:
    t = f.tenant()
    agent = f.user(tenant=t, role=Role.AGENT)
    store = f.store(t, "S1")
    with pytest.raises(PermissionDenied):
        actions.save_store(agent, t, {"code": "S2", "name": "x", "city": "y"})
    with pytest.raises(PermissionDenied):
        actions.delete_store(agent, store)
    with pytest.raises(PermissionDenied):
        actions.save_product(agent, t, {"sku": "A", "name": "B"})
    assert Store.objects.count() == 1 and not Product.objects.exists()


def test_delete_store_removes_stock_and_audits() -> None:
    t = f.tenant()
    store = f.store(t, "S1")
    product = actions.save_product(None, t, {"sku": "MILK", "name": "Milk", "attributes": {"fat": 2.5}})
    Stock.objects.create(tenant=t, store=store, product=product, quantity=3, updated_at="2026-11-25T10:00Z")
    store_pk = store.pk
    actions.delete_store(None, store)
    assert not Store.objects.exists() and not Stock.objects.exists()
    assert AuditLog.objects.filter(action="delete", object_id=str(store_pk)).exists()
    assert Event.objects.filter(kind="store.deleted", data__code="S1").exists()


def test_products_save_validate_and_delete() -> None:
    t = f.tenant()
    milk = actions.save_product(None, t, {"sku": "MILK", "name": "Milk", "attributes": {"fat": 2.5}})
    assert Product.objects.get().attributes == {"fat": 2.5}
    actions.save_product(None, t, {"name": "Mleko"}, milk)
    assert Product.objects.get().name == "Mleko"
    with pytest.raises(ActionError) as err:
        actions.save_product(None, t, {"sku": "MILK", "name": "Again", "attributes": ["x"]})
    assert set(err.value.fields) == {"sku", "attributes"}
    with pytest.raises(ActionError) as err:
        actions.save_product(None, t, {"sku": "X" * 65})
    assert set(err.value.fields) == {"sku", "name"}
    actions.delete_product(None, milk)
    assert not Product.objects.exists()
    kinds = list(Event.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["product.saved", "product.saved", "product.deleted"]


def test_store_hours_of_a_wrong_type_is_a_field_error() -> None:
    t = f.tenant()
    with pytest.raises(ActionError) as err:
        actions.save_store(None, t, {"code": "S1", "name": "x", "city": "y", "opening_hours": ["08:00-22:00"]})
    assert "must be text or an object" in err.value.fields["opening_hours"][0]
