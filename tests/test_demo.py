"""`linia demo`: the seeded tenants, users and tickets, idempotency and tenant isolation of the demo data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from io import StringIO
from random import Random
from typing import Any

import jsonschema
import phonenumbers
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Model
from django.test import Client

from linia.core.models import AuditLog, Membership, Role, Tenant, User
from linia.demo import dyskont, vostok
from linia.demo.common import PASSWORD, describe_hours, weekly
from linia.demo.run import seed_demo, specs
from linia.demo.seed import SMALL_STORES, stores_for
from linia.demo.tickets import split_counts
from linia.directory.models import (
    Category,
    Department,
    Holiday,
    Product,
    Promotion,
    Stock,
    Store,
    StoreHoursException,
    Vacancy,
)
from linia.tickets.models import Contact, ContactIdentity, Event, Message, Tag, Ticket

COUNTED: list[type[Model]] = [Tenant, User, Membership, Store, Department, Category, Product, Stock, Promotion,
                              Vacancy, Holiday, StoreHoursException, Contact, ContactIdentity, Ticket, Message,
                              Event, Tag, AuditLog]
GROWS_WITH_TICKETS = {"Contact", "ContactIdentity", "Ticket", "Message", "Event", "Tag", "AuditLog"}
EXPECTED_TENANTS = {
    "vostok-market": ("VM", "Asia/Vladivostok", "ru"),
    "dyskont-pl": ("DP", "Europe/Warsaw", "pl"),
    "maison-mode": ("MM", "Europe/Paris", "fr"),
    "quickdrop": ("QD", "Europe/London", "en"),
}


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--no-serve", "--small", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {m.__name__: m._default_manager.count() for m in COUNTED}


@pytest.fixture(scope="module")
def seeded_once(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Seed once for the module (seeding takes seconds); rolled back when the module is done."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield run_demo()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once: str, db: Any) -> str:
    """Each test runs in its own savepoint inside the seeded transaction."""
    return seeded_once


def test_tenants_have_their_zone_prefix_language_and_stores(seeded: str) -> None:
    for slug, (prefix, tz, language) in EXPECTED_TENANTS.items():
        tenant = Tenant.objects.get(slug=slug)
        assert (tenant.ticket_prefix, tenant.time_zone, tenant.default_language) == (prefix, tz, language)
    vm_zones = set(Store.objects.filter(tenant__slug="vostok-market").values_list("time_zone", flat=True))
    assert {"Asia/Vladivostok", "Asia/Yakutsk", "Asia/Sakhalin", "Asia/Kamchatka"} <= vm_zones
    assert Store.objects.filter(tenant__slug="vostok-market").count() == 40
    assert Store.objects.filter(tenant__slug="dyskont-pl").count() == SMALL_STORES
    assert Product.objects.filter(tenant__slug="vostok-market").count() == 300
    assert Stock.objects.filter(tenant__slug="vostok-market").count() == 40 * 300
    assert Department.objects.filter(tenant__slug="dyskont-pl", name__startswith="Serwis techniczny – region").count() == 16
    assert Category.objects.get(tenant__slug="vostok-market", code="complaints-quality").parent is not None


def test_every_role_exists_and_can_log_in(seeded: str) -> None:
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    for slug in EXPECTED_TENANTS:
        roles = set(Membership.objects.filter(tenant__slug=slug).values_list("role", flat=True))
        assert roles == {Role.SUPERVISOR, Role.AGENT, Role.CLIENT_STAFF, Role.STORE_STAFF}, slug
        assert Membership.objects.filter(tenant__slug=slug, role=Role.CLIENT_STAFF, user__is_staff=True).exists()
        assert Membership.objects.filter(tenant__slug=slug, role=Role.CLIENT_STAFF, user__is_staff=False,
                                         department__isnull=False).exists()
        staff = Membership.objects.get(tenant__slug=slug, role=Role.STORE_STAFF)
        assert staff.store is not None and staff.store.tenant.slug == slug
    assert Membership.objects.filter(user__username="agent-multi", role=Role.AGENT).count() == 2
    for user in User.objects.all():
        assert Client().login(username=user.username, password=PASSWORD), user.username


def test_tickets_have_events_and_stay_inside_their_tenant(seeded: str) -> None:
    total = 0
    for slug, (prefix, _tz, language) in EXPECTED_TENANTS.items():
        tickets = Ticket.objects.filter(tenant__slug=slug)
        assert tickets.exists(), slug
        assert tickets.filter(events__kind="ticket.created").distinct().count() == tickets.count()
        assert all(t.reference.startswith(prefix + "-") and t.language == language for t in tickets)
        total += tickets.count()
    assert total == 40
    assert Ticket.objects.filter(messages__kind="note").exists()
    assert Ticket.objects.filter(messages__direction="outbound").exists()
    assert len(set(Ticket.objects.values_list("status", flat=True))) >= 4
    assert len(set(Ticket.objects.values_list("channel", flat=True))) >= 5
    for t in Ticket.objects.select_related("store", "category", "contact", "department"):
        for related in (t.store, t.category, t.contact, t.department):
            assert related is None or related.tenant_id == t.tenant_id, (t.reference, related)
        if t.assignee_id:
            assert Membership.objects.filter(user_id=t.assignee_id, tenant_id=t.tenant_id).exists()
        assert set(t.messages.values_list("tenant_id", flat=True)) == {t.tenant_id}
        assert set(t.events.values_list("tenant_id", flat=True)) == {t.tenant_id}
    for identity in ContactIdentity.objects.select_related("contact"):
        assert identity.contact.tenant_id == identity.tenant_id


def test_ticket_history_is_back_dated_in_event_order(seeded: str) -> None:
    times = list(Event.objects.order_by("id").values_list("created_at", flat=True))
    assert times == sorted(times)
    created = list(Ticket.objects.values_list("created_at", flat=True))
    assert (max(created) - min(created)).days >= 3  # spread over weeks, not all "now"
    for t in Ticket.objects.all():
        stamps = list(t.messages.order_by("id").values_list("created_at", flat=True))
        assert stamps == sorted(stamps) and stamps[0] == t.created_at
        assert t.first_response_at is None or t.first_response_at >= t.created_at


def test_store_hours_and_exceptions_parse(seeded: str) -> None:
    hours = pytest.importorskip("linia.directory.hours")
    for store in Store.objects.all():
        hours.parse_weekly(store.opening_hours)
    for holiday in Holiday.objects.all():
        hours.parse_spans(holiday.spans)
    for exception in StoreHoursException.objects.all():
        hours.parse_spans(exception.spans)
    vm = Store.objects.filter(tenant__slug="vostok-market")
    assert any(s.opening_hours.get("always") for s in vm)
    assert any(s.opening_hours.get("mon") == ["08:00-01:00"] for s in vm)


def test_seeded_rows_pass_model_validation(seeded: str) -> None:
    for model in (Tenant, Department, Category, Membership, Vacancy, Holiday):
        for row in model._default_manager.all():
            row.full_clean()
    for store in Store.objects.filter(tenant__slug__in=["vostok-market", "maison-mode", "quickdrop"]):
        store.full_clean()
    for category in Category.objects.exclude(field_schema={}):
        jsonschema.Draft202012Validator.check_schema(category.field_schema)
    for t in Ticket.objects.select_related("category"):  # stored custom fields still match the schema
        assert t.category is not None
        assert not list(jsonschema.Draft202012Validator(t.category.field_schema).iter_errors(t.custom_fields))


def test_cli_prints_logins_and_url(seeded: str) -> None:
    for username in ("admin", "vm-supervisor", "dp-store", "mm-hq", "qd-agent1", "agent-multi"):
        assert username in seeded
    assert PASSWORD in seeded
    assert "http://127.0.0.1:8000/" in seeded
    assert "vostok-market" in seeded and "stores" in seeded


def test_second_run_adds_nothing_and_a_bigger_run_tops_up(seeded: str) -> None:
    before = counts()
    out = run_demo()
    assert counts() == before
    assert out.count("(+0 this run)") == 4
    run_demo("--tickets", "44")  # only the 4 missing tickets are added, nothing else is duplicated
    after = counts()
    assert after["Ticket"] == before["Ticket"] + 4
    assert {k: v for k, v in after.items() if k not in GROWS_WITH_TICKETS} == {
        k: v for k, v in before.items() if k not in GROWS_WITH_TICKETS}


def test_bad_ticket_count_is_a_usage_error(seeded: str) -> None:
    before = counts()
    with pytest.raises(CommandError) as err:
        call_command("demo", "--no-serve", "--tickets", "-3")
    assert err.value.returncode == 2
    assert counts() == before


def test_seed_demo_returns_a_report(seeded: str) -> None:
    report = seed_demo(small=True, tickets=42)
    assert [t.slug for t in report.tenants] == list(EXPECTED_TENANTS)
    assert sum(t.tickets_added for t in report.tenants) == 2
    assert sum(t.tickets for t in report.tenants) == 42
    assert report.seconds > 0
    assert {login.username for login in report.logins} >= {"admin", "agent-multi", "vm-store", "qd-hq"}


# --- generated data, no database ---------------------------------------------------------------

def test_full_polish_chain_has_2600_unique_stores_and_small_mode_spreads() -> None:
    spec = dyskont.spec(date(2026, 11, 25))
    codes = [s.code for s in spec.stores]
    assert len(codes) == len(set(codes)) == 2600
    small = stores_for(spec, small=True)
    assert len(small) == SMALL_STORES and small[0].code == "DP0001"
    assert len({s.city for s in small}) > 40
    assert all(49.0 < s.latitude < 55.0 and 14.0 < s.longitude < 24.2 for s in spec.stores)


def test_generated_phone_numbers_are_valid() -> None:
    for tenant_spec in specs():
        rng = Random(1)
        for _ in range(500):
            person = tenant_spec.reporter(rng)
            if person.phone:
                assert phonenumbers.is_valid_number(phonenumbers.parse(person.phone)), person.phone
        for store in tenant_spec.stores[:200]:
            assert phonenumbers.is_valid_number(phonenumbers.parse(store.phone)), store.phone
    assert all(s.phone.startswith("+7 4") for s in vostok.spec(date(2026, 1, 1)).stores)


def test_split_counts_sums_exactly() -> None:
    assert split_counts(40, [38, 32, 18, 12]) == [15, 13, 7, 5]
    assert sum(split_counts(321, [38, 32, 18, 12])) == 321
    assert split_counts(0, [1, 2]) == [0, 0]


def test_reply_texts_summarise_hours_in_the_tenant_language() -> None:
    assert describe_hours(weekly(["06:00-22:00"], closed=("sun",)), "pl") == "pon.–sob. 06:00-22:00; niedz. nieczynne"
    assert describe_hours(weekly(["08:00-01:00"]), "ru") == "ежедневно 08:00-01:00"
    assert describe_hours({"always": True}, "fr") == "24h/24, 7j/7"


def test_the_demo_lets_its_local_visitors_start_many_chats(settings: Any) -> None:
    from linia.demo.background import relax_chat_limits_for_local_visitors
    from linia.intake.chat.limits import limit

    settings.LINIA_CHAT_RATE_LIMITS = {"message_token": (5, 60)}
    relax_chat_limits_for_local_visitors()
    assert limit("start_ip").count >= 600  # every simulated customer comes from 127.0.0.1
    assert limit("message_token").count == 5  # what an operator set stays
