"""Parallel writers creating tickets in one tenant get distinct, gap-free numbers.

Each thread has its own database connection (Django connections are per thread), all start together
at a barrier, including the race to create the tenant's counter row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from linia.core.models import Tenant
from linia.tickets import actions
from linia.tickets.models import Ticket
from tests import factories as f

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def run_parallel(workers: int, job: Callable[[int], None]) -> list[BaseException]:
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            job(i)
        except BaseException as exc:  # reported to the test, never swallowed
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's connections

    threads = [threading.Thread(target=target, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


def create_many(tenant: Tenant, workers: int, per_worker: int) -> None:
    def job(i: int) -> None:
        for n in range(per_worker):
            actions.create_ticket(None, tenant, subject=f"writer {i} ticket {n}", channel="call", body="parallel")

    errors = run_parallel(workers, job)
    assert not errors, errors


def assert_gap_free(tenant: Tenant, expected: int) -> None:
    numbers = sorted(Ticket.objects.filter(tenant=tenant).values_list("number", flat=True))
    assert len(numbers) == expected
    assert numbers == list(range(1, expected + 1))  # no duplicates, no gaps
    references = set(Ticket.objects.filter(tenant=tenant).values_list("reference", flat=True))
    assert len(references) == expected


def test_parallel_writers_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...); SQLite runs the test below")
    tenant, other = f.tenant(), f.tenant()
    workers, per_worker = 8, 15
    create_many(tenant, workers, per_worker)
    assert_gap_free(tenant, workers * per_worker)
    actions.create_ticket(None, other, subject="other tenant", channel="call")
    assert_gap_free(other, 1)  # the counter is per tenant


def test_parallel_writers_on_sqlite_file() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant; PostgreSQL runs the test above")
    if connection.is_in_memory_db():
        pytest.skip("in-memory SQLite (shared cache) has no busy wait between connections; "
                    "set LINIA_TEST_SQLITE=/path/test.sqlite3 to run this on a file database")
    tenant = f.tenant()
    workers, per_worker = 4, 10
    create_many(tenant, workers, per_worker)
    assert_gap_free(tenant, workers * per_worker)
