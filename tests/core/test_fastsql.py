"""linia.core.fastsql: plain statements with Django's checks, error types and query recording."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linia.core import fastsql
from linia.tickets.models import Contact, ContactIdentity, Interaction
from tests import factories

pytestmark = pytest.mark.django_db


def _interaction(tenant_id: int, external_id: str) -> Interaction:
    return Interaction(tenant_id=tenant_id, channel="call", external_id=external_id, started_at=timezone.now(),
                       data={"k": "v"})


def test_insert_unless_exists_writes_once_and_returns_none_after() -> None:
    t = factories.tenant("acme")
    first = fastsql.insert_unless_exists(_interaction(t.pk, "x-1"), or_nothing=True)
    assert first is not None and first.pk and not first._state.adding
    assert fastsql.insert_unless_exists(_interaction(t.pk, "x-1"), or_nothing=True) is None
    assert Interaction.objects.filter(external_id="x-1").count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():  # without or_nothing: Django's error type
        fastsql.insert(_interaction(t.pk, "x-1"))
    assert Interaction.objects.filter(external_id="x-1").count() == 1  # the transaction is usable again


def test_an_expression_value_comes_back_on_the_instance() -> None:
    t = factories.tenant("acme")
    contact = Contact.objects.create(tenant=t, name="Jan")
    ContactIdentity.objects.create(tenant=t, contact=contact, kind="phone", value="+48601000001")
    sub = (f"SELECT ci.contact_id FROM {fastsql.table(ContactIdentity)} ci "  # noqa: S608
           "WHERE ci.tenant_id = %s AND ci.value = %s")
    found = fastsql.insert_unless_exists(_interaction(t.pk, "x-2"), exprs={"contact": (sub, [t.pk, "+48601000001"])})
    assert found is not None and found.contact_id == contact.pk
    assert Interaction.objects.get(pk=found.pk).contact_id == contact.pk
    none = fastsql.insert_unless_exists(_interaction(t.pk, "x-3"), exprs={"contact": (sub, [t.pk, "+1"])})
    assert none is not None and none.contact_id is None


def test_load_is_the_same_instance_the_orm_gives() -> None:
    t = factories.tenant("acme")
    made = fastsql.insert(_interaction(t.pk, "x-4"))
    row = fastsql.fetch_one(f"SELECT {fastsql.cols(Interaction, 'i')} FROM {fastsql.table(Interaction)} i "  # noqa: S608
                            "WHERE i.id = %s", [made.pk])
    assert row is not None
    loaded, orm = fastsql.load(Interaction, row), Interaction.objects.get(pk=made.pk)
    assert {f.attname: getattr(loaded, f.attname) for f in Interaction._meta.concrete_fields} == \
        {f.attname: getattr(orm, f.attname) for f in Interaction._meta.concrete_fields}
    assert loaded._state.adding is False and loaded._state.db == "default"
    loaded.data = {"k": "w"}
    loaded.save(update_fields=["data"])  # an ordinary model instance
    assert Interaction.objects.get(pk=made.pk).data == {"k": "w"}


def test_statements_are_recorded_when_something_watches() -> None:
    with CaptureQueriesContext(connection) as ctx:
        assert fastsql.fetch_one("SELECT %s", [7]) == (7,)
        assert fastsql.fetch("SELECT %s UNION ALL SELECT %s", [1, 2]) == [(1,), (2,)]
    assert len(ctx.captured_queries) == 2


@pytest.mark.django_db(transaction=True)
def test_statements_go_on_after_an_error_and_after_a_reconnect() -> None:
    from django.db import DatabaseError

    assert fastsql.fetch_one("SELECT %s", [1]) == (1,)
    with pytest.raises(DatabaseError), transaction.atomic():
        fastsql.fetch_one("SELECT no_such_column FROM tickets_contact", [])
    assert fastsql.fetch_one("SELECT %s", [2]) == (2,)  # the same connection, after the failed statement
    connection.close()
    assert fastsql.fetch_one("SELECT %s", [3]) == (3,)  # a new connection gets a new cursor
    assert fastsql.fetch("SELECT %s UNION ALL SELECT %s", [4, 5]) == [(4,), (5,)]


def test_literals_take_code_constants_only() -> None:
    assert fastsql.literals("queued", "wrap_up") == "'queued', 'wrap_up'"
    for bad in ("x'; DROP TABLE core_user; --", "Queued", "", "a b"):
        with pytest.raises(ValueError, match="not a code constant"):
            fastsql.literals(bad)


def _prepared(fragment: str) -> list[tuple[str, int]]:
    """This session's prepared statements containing ``fragment``: (text, generic plans so far)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans FROM pg_prepared_statements")
        return [(sql, n) for sql, n in cursor.fetchall() if fragment in sql]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_only_fastsql_statements_are_prepared_on_postgresql() -> None:
    """fastsql's statements (constants in the text) are prepared after 5 runs and may use a generic plan; the
    ORM's, whose values are all parameters, are never prepared, so each is planned for its values."""
    t = factories.tenant("acme")
    for _ in range(12):  # psycopg prepares at the 5th run; PostgreSQL tries a generic plan after 5 custom ones
        assert not Interaction.objects.filter(tenant=t, channel="call").exists()
        assert fastsql.fetch_one(f"SELECT COUNT(*) FROM {fastsql.table(Interaction)} "  # noqa: S608
                                 f"WHERE tenant_id = %s AND channel = {fastsql.literals('call')}", [t.pk]) == (0,)
    assert _prepared('"tickets_interaction"."channel" = $') == []
    (_statement, generic_plans), = _prepared("channel = 'call'")
    assert generic_plans >= 1  # planned once for any tenant, no longer at every call
