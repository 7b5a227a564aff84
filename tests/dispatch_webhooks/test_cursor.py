"""The outbox cursor: resumes after a restart, never skips an event whose id committed late."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from linia.dispatch import webhooks
from linia.dispatch.models import WebhookCursor, WebhookDelivery
from linia.tickets.events import emit
from linia.tickets.models import Event
from tests.dispatch_webhooks.conftest import Side, subscribe

pytestmark = pytest.mark.django_db


def test_small_batches_resume_from_the_stored_cursor(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    sub, _ = subscribe(a, "http://127.0.0.1:9/", ["*"])
    ids = [emit(a.tenant.pk, "ticket.updated", data={"n": i}).pk for i in range(7)]
    for _ in range(3):  # a "restart" between passes: all state is in the cursor row
        webhooks.enqueue(batch=2)
    assert WebhookCursor.objects.get().last_event_id == ids[5]
    assert sorted(WebhookDelivery.objects.values_list("event_id", flat=True)) == ids[:6]
    webhooks.enqueue(batch=2)
    webhooks.enqueue(batch=2)
    assert sorted(WebhookDelivery.objects.filter(subscription=sub).values_list("event_id", flat=True)) == ids


def test_a_gap_is_remembered_and_filled_when_the_event_commits(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    subscribe(a, "http://127.0.0.1:9/", ["*"])
    first = emit(a.tenant.pk, "ticket.updated")
    late = emit(a.tenant.pk, "ticket.updated")
    last = emit(a.tenant.pk, "ticket.updated")
    late_id, late_at = late.pk, late.created_at
    Event.objects.filter(pk=late_id).delete()  # as if its transaction had not committed yet
    assert webhooks.enqueue() == 2
    cursor = WebhookCursor.objects.get()
    assert cursor.last_event_id == last.pk and str(late_id) in cursor.gaps  # (PostgreSQL: older test ids too)
    Event.objects.bulk_create([Event(pk=late_id, tenant=a.tenant, kind="ticket.updated", created_at=late_at)])  # commits now
    assert webhooks.enqueue() == 1
    assert str(late_id) not in WebhookCursor.objects.get().gaps
    assert sorted(WebhookDelivery.objects.values_list("event_id", flat=True)) == [first.pk, late_id, last.pk]


def test_a_gap_that_never_fills_is_forgotten_after_the_wait(sides: tuple[Side, Side], settings: object) -> None:
    a, _b = sides
    subscribe(a, "http://127.0.0.1:9/", ["*"])
    emit(a.tenant.pk, "ticket.updated")
    gone = emit(a.tenant.pk, "ticket.updated").pk
    emit(a.tenant.pk, "ticket.updated")
    Event.objects.filter(pk=gone).delete()  # rolled back
    webhooks.enqueue()
    assert str(gone) in WebhookCursor.objects.get().gaps
    webhooks.enqueue(now=timezone.now() + timedelta(seconds=webhooks.gap_wait_seconds() - 5))
    assert str(gone) in WebhookCursor.objects.get().gaps
    webhooks.enqueue(now=timezone.now() + timedelta(seconds=webhooks.gap_wait_seconds() + 5))
    assert WebhookCursor.objects.get().gaps == {}


def test_the_cursor_starts_at_the_oldest_subscription_not_at_the_beginning(sides: tuple[Side, Side]) -> None:
    a, _b = sides
    for _ in range(5):
        emit(a.tenant.pk, "ticket.updated")
    sub, _ = subscribe(a, "http://127.0.0.1:9/", ["*"])
    webhooks.enqueue()
    assert WebhookCursor.objects.get().last_event_id == sub.start_after_event_id
    assert not WebhookDelivery.objects.exists()


def test_deliver_command_runs_one_pass(sides: tuple[Side, Side], capsys: pytest.CaptureFixture[str]) -> None:
    a, _b = sides
    sub, _ = subscribe(a, "http://127.0.0.1:9/", ["*"])  # nothing listens on port 9: the attempt fails
    emit(a.tenant.pk, "ticket.updated")
    call_command("webhooks", "deliver", "--once")
    assert "queued 1, attempts 1" in capsys.readouterr().out
    d = WebhookDelivery.objects.get(subscription=sub)
    assert d.status == "failed" and d.attempts == 1 and d.last_error
