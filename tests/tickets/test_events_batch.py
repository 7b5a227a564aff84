"""events.batched(): the events of a block are written in one INSERT at its end, in order, and dropped with
a failing block (an inner block drops only its own)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from linia.tickets.events import batched, emit
from linia.tickets.models import Event
from tests import factories

pytestmark = pytest.mark.django_db


def kinds() -> list[str]:
    return list(Event.objects.order_by("id").values_list("kind", flat=True))


def test_a_batch_writes_its_events_in_one_statement_in_order() -> None:
    t = factories.tenant("acme")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries, batched():
        for kind in ("a.one", "a.two", "a.three"):
            emit(t.pk, kind, data={"n": kind})
        assert kinds() == []  # nothing written before the block ends
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT INTO \"tickets_event\"")]
    assert len(inserts) == 1
    assert kinds() == ["a.one", "a.two", "a.three"]
    assert Event.objects.get(kind="a.two").data == {"n": "a.two"}


def test_a_failing_inner_batch_drops_only_its_own_events() -> None:
    t = factories.tenant("acme")
    with transaction.atomic(), batched():
        emit(t.pk, "outer.before")
        try:
            with transaction.atomic(), batched():
                emit(t.pk, "inner.lost")
                raise ValueError("refused")
        except ValueError:
            pass
        with transaction.atomic(), batched():
            emit(t.pk, "inner.kept")
        emit(t.pk, "outer.after")
    assert kinds() == ["outer.before", "inner.kept", "outer.after"]


def test_a_failing_batch_writes_nothing_and_the_next_one_starts_empty() -> None:
    t = factories.tenant("acme")
    with pytest.raises(ValueError), transaction.atomic(), batched():
        emit(t.pk, "lost")
        raise ValueError("refused")
    with transaction.atomic(), batched():
        emit(t.pk, "kept")
    emit(t.pk, "unbatched")  # outside a batch: written at once, as before
    assert kinds() == ["kept", "unbatched"]


def test_events_atomic_rolls_back_a_caught_savepoint_with_its_event_rows() -> None:
    from linia.tickets import events

    t = factories.tenant("acme")
    with events.atomic():
        emit(t.pk, "kept.before")
        try:
            with events.atomic():
                emit(t.pk, "lost")
                t.name = "Renamed"
                t.save(update_fields=["name"])
                raise ValueError("refused")
        except ValueError:
            pass
    t.refresh_from_db()
    assert kinds() == ["kept.before"] and t.name != "Renamed"
