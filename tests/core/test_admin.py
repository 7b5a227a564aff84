"""The Django admin through real HTTP requests: tenant scoping, forms that reject bad input, auditing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linia.core import actions as core_actions
from linia.core.models import ApiToken, AuditLog, Membership, Role, Tenant, User
from linia.directory.models import Category, Product, Store, StoreHoursException
from linia.tickets import actions as ticket_actions
from linia.tickets.models import ContactIdentity
from tests import factories as f

pytestmark = pytest.mark.django_db

HOURS = json.dumps(f.WEEKDAYS_8_22)


@pytest.fixture
def world() -> dict[str, Any]:
    """Tenants A and B with rows of the same names; client staff of A with staff access."""
    a, b = f.tenant("alpha"), f.tenant("beta")
    rows: dict[str, Any] = {"a": a, "b": b}
    for key, t in (("a", a), ("b", b)):
        rows[f"store_{key}"] = f.store(t, code="S1", name="Central")
        rows[f"dept_{key}"] = f.department(t, code="HR", name="HR")
        rows[f"cat_{key}"] = f.category(t, code="complaint", name="Complaint")
        rows[f"product_{key}"] = Product.objects.create(tenant=t, sku="100", name="Milk")
        rows[f"member_{key}"] = f.user(f"agent_{key}", tenant=t)
        rows[f"audit_{key}"] = AuditLog.objects.create(tenant=t, action="update", object_type="x", object_id="1")
    staff = f.user("staff_a", tenant=a, role=Role.CLIENT_STAFF)
    staff.is_staff = True
    staff.save()
    rows["staff"] = staff
    return rows


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(model: str, view: str, *args: Any) -> str:
    return reverse(f"admin:{model.replace('.', '_')}_{view}", args=args)


def changelist_pks(client: Client, model: str) -> set[int]:
    resp = client.get(url(model, "changelist"))
    assert resp.status_code == 200, resp.status_code
    return {obj.pk for obj in resp.context["cl"].queryset}


def store_post(**over: Any) -> dict[str, Any]:
    data = {"code": "NEW1", "name": "New store", "is_active": "on", "address": "ul. Nowa 1", "city": "Kraków",
            "region": "", "latitude": "", "longitude": "", "phone": "", "time_zone": "Europe/Warsaw",
            "opening_hours": HOURS,
            "hour_exceptions-TOTAL_FORMS": "0", "hour_exceptions-INITIAL_FORMS": "0",
            "hour_exceptions-MIN_NUM_FORMS": "0", "hour_exceptions-MAX_NUM_FORMS": "1000"}
    data.update(over)
    return data


def form_errors(resp: Any) -> dict[str, list[str]]:
    assert resp.status_code == 200, f"expected the form again, got {resp.status_code}"
    errors: dict[str, list[str]] = dict(resp.context["adminform"].form.errors)
    for formset in resp.context.get("inline_admin_formsets", []):
        for i, errs in enumerate(formset.formset.errors):
            for field, msgs in errs.items():
                errors[f"inline{i}.{field}"] = msgs
    return errors


@pytest.mark.parametrize(("model", "key"), [
    ("directory.store", "store"), ("directory.department", "dept"), ("directory.category", "cat"),
    ("directory.product", "product"), ("core.auditlog", "audit"),
])
def test_client_staff_changelists_show_only_their_tenant(world: dict[str, Any], model: str, key: str) -> None:
    pks = changelist_pks(login(world["staff"]), model)
    assert world[f"{key}_a"].pk in pks
    assert world[f"{key}_b"].pk not in pks


def test_client_staff_see_only_their_memberships(world: dict[str, Any]) -> None:
    pks = changelist_pks(login(world["staff"]), "core.membership")
    assert pks == set(Membership.objects.filter(tenant=world["a"]).values_list("pk", flat=True))
    assert Membership.objects.get(user=world["member_b"]).pk not in pks


def test_changelist_filters_do_not_name_other_tenants(world: dict[str, Any]) -> None:
    f.department(world["b"], code="SECRET", name="Secret B department")
    f.category(world["a"], code="x", default_department=world["dept_a"])
    body = login(world["staff"]).get(url("directory.category", "changelist")).content.decode()
    assert "Secret B department" not in body
    assert "Beta" not in body


@pytest.mark.parametrize(("model", "key"), [
    ("directory.store", "store"), ("directory.department", "dept"), ("directory.category", "cat"),
    ("directory.product", "product"), ("core.auditlog", "audit"),
])
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_other_tenants_objects_are_404(world: dict[str, Any], model: str, key: str, view: str) -> None:
    client = login(world["staff"])
    assert client.get(url(model, view, world[f"{key}_b"].pk)).status_code == 404
    assert client.post(url(model, view, world[f"{key}_b"].pk), {"post": "yes"}).status_code == 404


def test_own_objects_open(world: dict[str, Any]) -> None:
    client = login(world["staff"])
    assert client.get(url("directory.store", "change", world["store_a"].pk)).status_code == 200
    assert client.get(url("core.auditlog", "change", world["audit_a"].pk)).status_code == 200


def test_bulk_delete_action_cannot_reach_another_tenant(world: dict[str, Any]) -> None:
    client = login(world["staff"])
    client.post(url("directory.product", "changelist"), {
        "action": "delete_selected", "_selected_action": [world["product_b"].pk], "post": "yes"})
    assert Product.objects.filter(pk=world["product_b"].pk).exists()


def test_creating_a_store_sets_the_tenant(world: dict[str, Any]) -> None:
    resp = login(world["staff"]).post(url("directory.store", "add"), store_post())
    assert resp.status_code == 302, form_errors(resp)
    assert Store.objects.get(code="NEW1").tenant == world["a"]


def test_store_cannot_be_created_in_another_tenant(world: dict[str, Any]) -> None:
    resp = login(world["staff"]).post(url("directory.store", "add"), store_post(tenant=world["b"].pk))
    assert "tenant" in form_errors(resp)
    assert not Store.objects.filter(code="NEW1").exists()


def test_store_tenant_cannot_be_changed(world: dict[str, Any]) -> None:
    store = world["store_a"]
    data = store_post(code=store.code, name="Renamed", tenant=world["b"].pk)
    resp = login(world["staff"]).post(url("directory.store", "change", store.pk), data)
    assert resp.status_code == 302
    store.refresh_from_db()
    assert (store.name, store.tenant_id) == ("Renamed", world["a"].pk)


def test_duplicate_store_code_is_a_form_error(world: dict[str, Any]) -> None:
    resp = login(world["staff"]).post(url("directory.store", "add"), store_post(code="S1"))
    assert form_errors(resp)
    assert Store.objects.filter(tenant=world["a"], code="S1").count() == 1


@pytest.mark.parametrize(("hours", "needle"), [
    ('{"mon": ["08:00-22:00"', "valid JSON"),
    ('{"mon": ["25:00-26:00"]}', "not a time"),
    ('{"funday": []}', "not a day"),
    ('["08:00-22:00"]', "JSON object"),
])
def test_bad_opening_hours_are_form_errors(world: dict[str, Any], hours: str, needle: str) -> None:
    resp = login(world["staff"]).post(url("directory.store", "add"), store_post(opening_hours=hours))
    errors = form_errors(resp)
    assert needle in " ".join(errors["opening_hours"])
    assert not Store.objects.filter(code="NEW1").exists()


def test_overnight_and_always_hours_are_accepted(world: dict[str, Any]) -> None:
    client = login(world["staff"])
    for code, hours in (("N1", '{"fri": ["22:00-06:00"]}'), ("N2", '{"always": true}')):
        resp = client.post(url("directory.store", "add"), store_post(code=code, opening_hours=hours))
        assert resp.status_code == 302, form_errors(resp)
    assert Store.objects.get(code="N2").opening_hours == {"always": True}


def test_hours_exception_inline_takes_the_store_tenant_and_checks_spans(world: dict[str, Any]) -> None:
    client = login(world["staff"])
    data = store_post(**{"hour_exceptions-TOTAL_FORMS": "1", "hour_exceptions-0-date": "2026-12-24",
                         "hour_exceptions-0-spans": '["10:00-1600"]', "hour_exceptions-0-note": "Eve"})
    assert "inline0.spans" in form_errors(client.post(url("directory.store", "add"), data))
    data["hour_exceptions-0-spans"] = '["10:00-16:00"]'
    resp = client.post(url("directory.store", "add"), data)
    assert resp.status_code == 302, form_errors(resp)
    exception = StoreHoursException.objects.get(store__code="NEW1")
    assert (exception.tenant_id, exception.spans) == (world["a"].pk, ["10:00-16:00"])
    assert AuditLog.objects.filter(action="create", object_type="directory.storehoursexception").exists()


def category_post(**over: Any) -> dict[str, Any]:
    data = {"code": "refund", "name": "Refund", "names": "{}", "field_schema": "{}", "is_active": "on",
            "parent": "", "default_department": ""}
    data.update(over)
    return data


def test_category_with_another_tenants_department_is_rejected(world: dict[str, Any]) -> None:
    resp = login(world["staff"]).post(url("directory.category", "add"),
                                      category_post(default_department=world["dept_b"].pk))
    assert "default_department" in form_errors(resp)
    assert not Category.objects.filter(code="refund").exists()


def test_category_with_another_tenants_parent_is_rejected(world: dict[str, Any]) -> None:
    resp = login(world["staff"]).post(url("directory.category", "add"), category_post(parent=world["cat_b"].pk))
    assert "parent" in form_errors(resp)


def test_superuser_cannot_mix_tenants_either(world: dict[str, Any]) -> None:
    root = f.user("root", superuser=True)
    resp = login(root).post(url("directory.category", "add"),
                            category_post(tenant=world["a"].pk, default_department=world["dept_b"].pk))
    assert "belongs to another tenant" in " ".join(form_errors(resp)["default_department"])


def test_category_cannot_be_its_own_ancestor(world: dict[str, Any]) -> None:
    parent = world["cat_a"]
    child = f.category(world["a"], code="child", parent=parent)
    resp = login(world["staff"]).post(url("directory.category", "change", parent.pk),
                                      category_post(code=parent.code, name=parent.name, parent=child.pk))
    assert "parent" in form_errors(resp)


@pytest.mark.parametrize("schema", ['{"type": "strnig"}', '{"properties": {"x": {"minLength": -1}}}', "[1"])
def test_invalid_field_schema_is_a_form_error(world: dict[str, Any], schema: str) -> None:
    resp = login(world["staff"]).post(url("directory.category", "add"), category_post(field_schema=schema))
    assert "field_schema" in form_errors(resp)


def test_valid_field_schema_is_saved_and_used(world: dict[str, Any]) -> None:
    schema = {"type": "object", "properties": {"receipt": {"type": "string"}}}
    resp = login(world["staff"]).post(url("directory.category", "add"),
                                      category_post(field_schema=json.dumps(schema)))
    assert resp.status_code == 302, form_errors(resp)
    assert Category.objects.get(code="refund").field_schema == schema


def test_admin_change_writes_audit_row_with_diff(world: dict[str, Any]) -> None:
    store = world["store_a"]
    data = store_post(code=store.code, name="Central Plaza", city=store.city, address=store.address,
                      opening_hours='{"always": true}')
    resp = login(world["staff"]).post(url("directory.store", "change", store.pk), data)
    assert resp.status_code == 302, form_errors(resp)
    row = AuditLog.objects.filter(object_type="directory.store", object_id=str(store.pk)).latest("id")
    assert (row.action, row.actor, row.tenant) == ("update", world["staff"], world["a"])
    assert row.changes["name"] == ["Central", "Central Plaza"]
    assert row.changes["opening_hours"] == [f.WEEKDAYS_8_22, {"always": True}]
    assert "code" not in row.changes


def test_admin_create_and_delete_are_audited(world: dict[str, Any]) -> None:
    client = login(world["staff"])
    client.post(url("directory.store", "add"), store_post())
    store = Store.objects.get(code="NEW1")
    created = AuditLog.objects.get(action="create", object_type="directory.store")
    assert created.changes["code"] == [None, "NEW1"]
    resp = client.post(url("directory.store", "delete", store.pk), {"post": "yes"})
    assert resp.status_code == 302
    deleted = AuditLog.objects.get(action="delete", object_type="directory.store")
    assert (deleted.object_id, deleted.changes["code"]) == (str(store.pk), ["NEW1", None])


def test_audit_log_is_never_editable_or_deletable() -> None:
    t = f.tenant()
    root = f.user("root", superuser=True)
    row = AuditLog.objects.create(tenant=t, action="update", object_type="x")
    client = login(root)
    assert client.get(url("core.auditlog", "change", row.pk)).status_code == 200
    assert client.post(url("core.auditlog", "change", row.pk), {"action": "forged"}).status_code == 403
    assert client.post(url("core.auditlog", "delete", row.pk), {"post": "yes"}).status_code == 403
    assert client.get(url("core.auditlog", "add")).status_code == 403
    row.refresh_from_db()
    assert row.action == "update"


def test_agent_without_staff_goes_to_login(world: dict[str, Any]) -> None:
    resp = login(world["member_a"]).get(url("directory.store", "changelist"))
    assert resp.status_code == 302
    assert "/admin/login/" in resp["Location"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.STORE_STAFF])
def test_agents_and_store_staff_get_nothing_even_with_staff_flag(world: dict[str, Any], role: str) -> None:
    u = f.user(tenant=world["a"], role=role, store=world["store_a"])
    u.is_staff = True
    u.save()
    client = login(u)
    assert client.get(url("directory.store", "changelist")).status_code == 403
    assert client.get(url("tickets.contact", "changelist")).status_code == 403
    assert client.get(reverse("admin:index")).context["app_list"] == []


def test_client_staff_cannot_manage_users_tenants_or_roles(world: dict[str, Any]) -> None:
    client = login(world["staff"])
    assert client.get(url("core.user", "changelist")).status_code == 403
    assert client.get(url("core.tenant", "add")).status_code == 403
    assert changelist_pks(client, "core.tenant") == {world["a"].pk}
    member = Membership.objects.get(user=world["member_a"])
    assert client.post(url("core.membership", "change", member.pk), {"role": Role.SUPERVISOR}).status_code == 403


def test_superuser_sees_everything(world: dict[str, Any]) -> None:
    client = login(f.user("root", superuser=True))
    assert {world["store_a"].pk, world["store_b"].pk} <= changelist_pks(client, "directory.store")
    assert {world["audit_a"].pk, world["audit_b"].pk} <= changelist_pks(client, "core.auditlog")
    assert client.get(url("directory.store", "change", world["store_b"].pk)).status_code == 200


def test_membership_clean_errors_show_in_the_form(world: dict[str, Any]) -> None:
    client = login(f.user("root", superuser=True))
    newbie = f.user("newbie")
    data = {"user": newbie.pk, "tenant": world["a"].pk, "role": Role.STORE_STAFF, "store": "", "department": ""}
    assert "store" in form_errors(client.post(url("core.membership", "add"), data))
    data.update(store=world["store_b"].pk)
    assert "store" in form_errors(client.post(url("core.membership", "add"), data))
    data.update(store=world["store_a"].pk)
    assert client.post(url("core.membership", "add"), data).status_code == 302
    data.update(tenant=world["b"].pk, store=world["store_b"].pk)
    assert "__all__" in form_errors(client.post(url("core.membership", "add"), data))


def test_tenant_settings_json_is_validated(world: dict[str, Any]) -> None:
    a = world["a"]
    data = {"name": a.name, "default_language": "pl", "time_zone": "Europe/Warsaw",
            "settings": '{"status_transitions": {"new": ["opened"]}}'}
    client = login(world["staff"])
    assert "settings" in form_errors(client.post(url("core.tenant", "change", a.pk), data))
    data["settings"] = '{"status_transitions": {"new": ["open", "closed"]}}'
    assert client.post(url("core.tenant", "change", a.pk), data).status_code == 302
    a.refresh_from_db()
    assert a.settings["status_transitions"]["new"] == ["open", "closed"]
    assert a.slug == "alpha"


def test_api_token_revoke_action(world: dict[str, Any]) -> None:
    _raw, token_a = core_actions.create_api_token(None, world["a"], world["member_a"])
    _raw, token_b = core_actions.create_api_token(None, world["b"], world["member_b"])
    client = login(world["staff"])
    assert changelist_pks(client, "core.apitoken") == {token_a.pk}
    client.post(url("core.apitoken", "changelist"),
                {"action": "revoke", "_selected_action": [token_a.pk, token_b.pk]})
    token_a.refresh_from_db()
    token_b.refresh_from_db()
    assert token_a.revoked_at is not None and token_b.revoked_at is None
    assert AuditLog.objects.filter(action="token.revoke", object_id=str(token_a.pk)).exists()
    assert "key_hash" not in client.get(url("core.apitoken", "change", token_a.pk)).content.decode()
    assert ApiToken.objects.count() == 2


def test_department_staff_see_only_their_tickets(world: dict[str, Any]) -> None:
    a = world["a"]
    mine = ticket_actions.create_ticket(None, a, subject="HR question", channel="email",
                                        department=world["dept_a"].pk)
    other = ticket_actions.create_ticket(None, a, subject="Other", channel="call")
    foreign = ticket_actions.create_ticket(None, world["b"], subject="B", channel="call")
    hr = f.user("hr", tenant=a, role=Role.CLIENT_STAFF, department=world["dept_a"])
    hr.is_staff = True
    hr.save()
    assert changelist_pks(login(hr), "tickets.ticket") == {mine.pk}
    assert changelist_pks(login(world["staff"]), "tickets.ticket") == {mine.pk, other.pk}
    assert login(hr).get(url("tickets.ticket", "change", other.pk)).status_code == 404
    assert login(world["staff"]).get(url("tickets.ticket", "change", foreign.pk)).status_code == 404
    events = changelist_pks(login(hr), "tickets.event")
    assert events and all(e.ticket_id == mine.pk for e in _events(events))


def _events(pks: set[int]) -> list[Any]:
    from linia.tickets.models import Event

    return list(Event.objects.filter(pk__in=pks))


def test_contact_identities_are_normalised_and_unique(world: dict[str, Any]) -> None:
    sup = f.user("sup", tenant=world["a"], role=Role.SUPERVISOR)
    sup.is_staff = True
    sup.save()
    ticket_actions.find_or_create_contact(None, world["a"], name="Jan", phones=["+48 600 100 200"])
    client = login(sup)
    base = {"name": "Anna", "language": "pl", "note": "",
            "identities-TOTAL_FORMS": "1", "identities-INITIAL_FORMS": "0",
            "identities-MIN_NUM_FORMS": "0", "identities-MAX_NUM_FORMS": "1000",
            "identities-0-kind": "phone", "identities-0-value": "600-100-200"}
    errors = form_errors(client.post(url("tickets.contact", "add"), base))
    assert any(k.startswith("inline0") or k == "__all__" for k in errors), errors
    base["identities-0-value"] = "600 100 201"
    resp = client.post(url("tickets.contact", "add"), base)
    assert resp.status_code == 302, form_errors(resp)
    assert ContactIdentity.objects.filter(tenant=world["a"], value="+48600100201").exists()


def test_tenant_model_is_not_leaked_in_single_tenant_forms(world: dict[str, Any]) -> None:
    body = login(world["staff"]).get(url("directory.store", "add")).content.decode()
    assert "Beta" not in body
    assert Tenant.objects.filter(name="Beta").exists()


def test_store_and_product_changes_write_the_same_events_as_directory_actions(world: dict[str, Any]) -> None:
    from linia.tickets.models import Event

    client = login(world["staff"])
    client.post(url("directory.store", "add"), store_post())
    store = Store.objects.get(code="NEW1")
    client.post(url("directory.store", "delete", store.pk), {"post": "yes"})
    product = world["product_a"]
    client.post(url("directory.product", "change", product.pk),
                {"sku": product.sku, "name": "Milk 2%", "attributes": "{}"})
    events = list(Event.objects.filter(tenant=world["a"]).order_by("id").values_list("kind", "data"))
    assert [k for k, _d in events] == ["store.saved", "store.deleted", "product.saved"]
    assert events[0][1]["created"] is True and events[0][1]["code"] == "NEW1"
    assert events[2][1]["fields"] == ["name"]
    assert not Event.objects.filter(tenant=world["b"]).exists()


def test_autocomplete_offers_only_own_tenant_rows(world: dict[str, Any]) -> None:
    resp = login(world["staff"]).get(reverse("admin:autocomplete"), {
        "app_label": "directory", "model_name": "category", "field_name": "default_department", "term": "HR"})
    assert resp.status_code == 200
    ids = {int(r["id"]) for r in resp.json()["results"]}
    assert ids == {world["dept_a"].pk}


def test_ticket_page_is_read_only_with_its_messages(world: dict[str, Any]) -> None:
    ticket = ticket_actions.create_ticket(None, world["a"], subject="Broken fridge", channel="call",
                                          body="The fridge in aisle 3 is warm")
    client = login(world["staff"])
    resp = client.get(url("tickets.ticket", "change", ticket.pk))
    assert resp.status_code == 200
    assert "The fridge in aisle 3 is warm" in resp.content.decode()
    assert client.post(url("tickets.ticket", "change", ticket.pk), {"subject": "x"}).status_code == 403
    assert client.get(url("tickets.ticket", "add")).status_code == 403


def test_user_admin_changes_are_audited_without_secrets() -> None:
    root = f.user("root", superuser=True)
    clerk = f.user("clerk")
    client = login(root)
    resp = client.post(reverse("admin:auth_user_password_change", args=[clerk.pk]),
                       {"password1": "N3w-long-passw0rd", "password2": "N3w-long-passw0rd"})
    assert resp.status_code == 302
    clerk.refresh_from_db()
    assert clerk.check_password("N3w-long-passw0rd")
    row = AuditLog.objects.get(object_type="core.user", object_id=str(clerk.pk))
    assert (row.action, row.actor, row.changes) == ("update", root, {"password": ["(hidden)", "(changed)"]})
    assert "N3w" not in json.dumps(list(AuditLog.objects.values("changes")))


@pytest.fixture
def full_world(world: dict[str, Any]) -> dict[str, Any]:
    """Rows of every admin-registered tenant-owned model in both tenants, and a staff supervisor of A."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from linia.directory.models import Holiday, Promotion, Stock, Vacancy
    from linia.tickets.models import Tag

    for key in ("a", "b"):
        t, store = world[key], world[f"store_{key}"]
        StoreHoursException.objects.create(tenant=t, store=store, date=dt.date(2026, 12, 24), spans=[])
        Holiday.objects.create(tenant=t, date=dt.date(2026, 12, 25), name="Christmas")
        Stock.objects.create(tenant=t, store=store, product=world[f"product_{key}"], quantity=Decimal(5),
                             updated_at=timezone.now())
        Promotion.objects.create(tenant=t, title="Sale", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 1, 9))
        Vacancy.objects.create(tenant=t, position="Cashier", store=store)
        Tag.objects.create(tenant=t, name="vip")
        contact = ticket_actions.find_or_create_contact(None, t, name="Jan", phones=["+48600100200"])
        ticket = ticket_actions.create_ticket(None, t, subject="Hello", channel="call", body="Hi", contact=contact.pk)
        core_actions.create_api_token(None, t, world[f"member_{key}"])
        _routing_and_voice_rows(t, world[f"member_{key}"], number=f"+4822100000{1 if key == 'a' else 2}")
        _customer_side_rows(t, ticket, key)
        _webhook_rows(t)
        _outbound_email_rows(t)
        _inbound_email_rows(t)
        _webform_rows(t)
    sup = f.user("sup_a", tenant=world["a"], role=Role.SUPERVISOR)
    sup.is_staff = True
    sup.save()
    world["sup"] = sup
    return world


def _routing_and_voice_rows(t: Tenant, agent: Any, *, number: str) -> None:
    from django.utils import timezone

    from linia.intake.voice.models import Call, CtiEvent, Line, RejectedCtiEvent
    from linia.routing.models import BreakReason, Disposition, Queue, Reservation, Task
    from linia.tickets.models import Interaction

    now = timezone.now()
    queue = Queue.objects.create(tenant=t, code="support", name="Support")
    Disposition.objects.create(tenant=t, code="solved", name="Solved")
    BreakReason.objects.create(tenant=t, code="lunch", name="Lunch")
    task = Task.objects.create(tenant=t, channel="call", queue=queue, queued_at=now)
    Reservation.objects.create(tenant=t, task=task, agent=agent, offered_at=now, expires_at=now, status="expired")
    line = Line.objects.create(tenant=t, number=number)
    interaction = Interaction.objects.create(tenant=t, channel="call", started_at=now)
    call = Call.objects.create(tenant=t, pbx_call_id="c1", line=line, state="queued", last_sequence=1,
                               interaction=interaction)
    CtiEvent.objects.create(tenant=t, call=call, pbx_call_id="c1", sequence=1, event="offered", received_at=now)
    RejectedCtiEvent.objects.create(tenant=t, code="unknown_call", message="test", received_at=now)


def _customer_side_rows(t: Tenant, ticket: Any, key: str) -> None:
    """Issue 6: chat channels and sessions, canned responses, customer links, ratings."""
    from django.utils import timezone

    from linia.desk.models import CannedResponse
    from linia.intake.chat.models import ChatChannel, ChatSession
    from linia.routing.models import Queue

    now = timezone.now()
    channel = ChatChannel.objects.create(tenant=t, name="Chat", queue=Queue.objects.get(tenant=t, code="support"))
    ChatSession.objects.create(tenant=t, channel=channel, token_hash=f"hash-{key}", created_at=now,
                               last_activity_at=now)
    CannedResponse.objects.create(tenant=t, title="Hello", body="Hello {customer_name}")
    ticket_actions.issue_customer_link(ticket)
    ticket_actions.rate_service(ticket, score=5, source="ticket_page")


def _webform_rows(t: Tenant) -> None:
    from django.utils import timezone

    from linia.intake.webform.models import Submission, WebForm

    form = WebForm.objects.create(tenant=t, public_key=f"wf-{t.slug}", name="Feedback",
                                  schema={"type": "object", "properties": {"text": {"type": "string"}}})
    Submission.objects.create(tenant=t, form=form, submission_id=f"s-{t.slug}", created_at=timezone.now())


def _webhook_rows(t: Tenant) -> None:
    from linia.dispatch.models import WebhookDelivery, WebhookSubscription
    from linia.tickets.events import emit

    sub = WebhookSubscription.objects.create(tenant=t, url="https://hooks.example.com/", event_types=["*"])
    event = emit(t.pk, "ticket.updated")
    WebhookDelivery.objects.create(tenant=t, subscription=sub, event=event, event_type=event.kind)


def _outbound_email_rows(t: Tenant) -> None:
    from django.utils import timezone

    from linia.dispatch.models import OutboundEmail
    from linia.tickets.actions import create_ticket

    ticket = create_ticket(None, t, subject="Mail", channel="email", body="x")
    now = timezone.now()
    OutboundEmail.objects.create(tenant=t, kind="reply", ticket=ticket, from_email="a@x.example", to=["c@x.example"],
                                 recipient="c@x.example", subject="Re: Mail", msgid=f"m{t.pk}@x.example",
                                 next_attempt_at=now, created_at=now)


def _inbound_email_rows(t: Tenant) -> None:
    from linia.intake.email.actions import ingest_raw
    from linia.intake.email.models import Mailbox

    address = f"support@{t.slug}.example"
    Mailbox.objects.create(tenant=t, address=address)
    ingest_raw(f"From: c@x.example\r\nTo: {address}\r\nSubject: Hi\r\nMessage-ID: <in{t.pk}@x.example>\r\n\r\n"
               "Hello\r\n".encode(), recipients=[address], source="pipe")


def _registered_models() -> list[Any]:
    from django.contrib import admin

    return [m for m in admin.site._registry if m is Tenant or any(fl.name == "tenant" for fl in m._meta.fields)]


def test_every_admin_is_scoped_to_the_users_tenant(full_world: dict[str, Any]) -> None:
    a, b = full_world["a"], full_world["b"]
    client = login(full_world["sup"])
    checked = []
    for model in _registered_models():
        label = model._meta.label_lower
        resp = client.get(url(label, "changelist"))
        assert resp.status_code == 200, label
        rows = list(resp.context["cl"].queryset)
        tenant_ids = {r.pk if model is Tenant else r.tenant_id for r in rows}
        assert tenant_ids == {a.pk}, f"{label}: {tenant_ids}"
        foreign = model._default_manager.filter(**({"pk": b.pk} if model is Tenant else {"tenant": b}))
        assert foreign.exists(), label
        for view in ("change", "delete", "history"):
            assert client.get(url(label, view, foreign.first().pk)).status_code == 404, (label, view)
        checked.append(label)
    assert len(checked) >= 16
