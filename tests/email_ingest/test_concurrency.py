"""Parallel deliveries on PostgreSQL: the same message from several threads is one message; a new sender
mailing in parallel is one contact. (SQLite serialises writers; the smtpd crash test covers it.)"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from linia.intake.email import actions
from linia.intake.email.models import InboundEmail, Mailbox
from linia.tickets.models import Contact, ContactIdentity, Event, Message, Ticket
from tests import factories as f
from tests.email_ingest.conftest import mail, msgid_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.slow]

THREADS = 8


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")


def run_parallel(jobs: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = jobs[i]()
        except BaseException as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_the_same_message_in_parallel_is_one_ticket_message() -> None:
    tenant = f.tenant()
    Mailbox.objects.create(tenant=tenant, address="support@shop.example")
    raw = mail()
    results = run_parallel([lambda: actions.ingest_raw(raw, recipients=["support@shop.example"], source="smtp")
                            for _ in range(THREADS)])
    assert not [r for r in results if isinstance(r, BaseException)], results
    statuses = Counter(r.status for r in results)
    assert statuses == {"created": 1, "duplicate": THREADS - 1}, statuses
    assert len({r.ticket_id for r in results}) == 1
    assert Message.objects.filter(external_id="email:" + msgid_of(raw)).count() == 1
    assert InboundEmail.objects.count() == 1 and Ticket.objects.count() == 1


def test_a_new_sender_mailing_in_parallel_is_one_contact() -> None:
    tenant = f.tenant()
    Mailbox.objects.create(tenant=tenant, address="support@shop.example")
    raws = [mail(subject=f"Question {n}", sender="Nowy Klient <new@client.example>") for n in range(THREADS)]
    results = run_parallel([lambda raw=raw: actions.ingest_raw(raw, recipients=["support@shop.example"],
                                                               source="smtp") for raw in raws])
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert [r.status for r in results] == ["created"] * THREADS
    contacts = set(Ticket.objects.values_list("contact_id", flat=True))
    assert len(contacts) == 1 and None not in contacts
    assert ContactIdentity.objects.get(value="new@client.example").contact_id in contacts
    # the parallel transactions that lost the race left no contact and no contact.created event behind
    assert Contact.objects.count() == 1 and Event.objects.filter(kind="contact.created").count() == 1
