"""Parallel retries with one idempotency key create one ticket (real threads, real PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from tests.api.conftest import Api, make_side

from linia.tickets.models import Message, Ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.postgres]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel writers need PostgreSQL")
def test_parallel_retries_with_one_external_id_make_one_ticket() -> None:
    side = make_side("race", "RCE", city="Łódź", word="Race")
    body = {"subject": "Webform", "channel": "webform", "body": "hello", "external_id": "form-race-1"}
    barrier = threading.Barrier(6)
    results: list[tuple[int, Any]] = []

    def worker() -> None:
        try:
            api = Api(side.token)
            barrier.wait()
            response = api.post("tickets", body)
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(code for code, _ in results)
    assert len(results) == 6 and statuses.count(201) == 1 and set(statuses) == {200, 201}, results
    assert len({payload["id"] for _, payload in results}) == 1
    assert Message.objects.filter(tenant=side.tenant, external_id="form-race-1").count() == 1
    assert Ticket.objects.filter(tenant=side.tenant, subject="Webform").count() == 1
