"""Parallel deliveries of the same new call's events: one call, one interaction, one row per event."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from linia.intake.voice import actions
from linia.intake.voice.cti import CtiInput
from linia.intake.voice.models import Call, CtiEvent
from linia.tickets.models import Event, Interaction

from .conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_duplicates_apply_once(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and parallel writers are PostgreSQL's; SQLite serialises writers anyway")
    tenant = world.a.tenant
    start = threading.Barrier(8)

    def deliver(i: int) -> str:
        try:
            start.wait()
            kind, seq = ("offered", 1) if i % 2 == 0 else ("queued", 2)
            event = CtiInput(call_id="race-1", sequence=seq, event=kind, caller="+48601000001",
                             dialled="+48221234567")
            return actions.feed(tenant, event, source="api")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(deliver, range(8)))
    assert Call.objects.filter(pbx_call_id="race-1").count() == 1
    assert Interaction.objects.filter(external_id="race-1").count() == 1
    applied = CtiEvent.objects.filter(pbx_call_id="race-1")
    assert 1 <= applied.count() <= 2  # `queued` may arrive first; then a late `offered` is refused
    assert Event.objects.filter(kind__in=["call.offered", "call.queued"]).count() == applied.count()
    assert outcomes.count("applied") == applied.count()
    assert set(outcomes) <= {"applied", "duplicate", "rejected:out_of_order", "rejected:invalid_transition"}
