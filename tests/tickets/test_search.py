"""Full-text search on the real database (SQLite FTS5 or PostgreSQL tsvector, whichever DATABASE_URL gives)."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linia.core.models import Tenant
from linia.tickets import actions, search
from linia.tickets.models import Message, Ticket
from tests import factories as f

pytestmark = pytest.mark.django_db


def ids(tenant: Tenant, q: str) -> list[int]:
    """Search results, checked to be the same before and after pending documents move into FTS5."""
    before = search.search_ticket_ids(tenant.pk, q)
    search.flush()
    after = search.search_ticket_ids(tenant.pk, q)
    assert after == before, q
    return after


def wipe_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {search.TABLE}")  # noqa: S608
        if connection.vendor == "sqlite":
            cursor.execute(f"DELETE FROM {search.PENDING}")  # noqa: S608


def new(tenant: Tenant, subject: str, body: str = "", **kw: object) -> Ticket:
    return actions.create_ticket(None, tenant, subject=subject, channel="call", body=body, **kw)  # type: ignore[arg-type]


def test_fold_drops_case_and_diacritics() -> None:
    assert search.fold("Zażółć GĘŚLĄ Jaźń") == "zazolc gesla jazn"
    assert search.fold("ЁЛКА Привет") == "елка привет"
    assert search.fold("Crème BRÛLÉE, Straße, Œuvre") == "creme brulee, strasse, oeuvre"
    assert search.words("SPR-000123 jan.kowalski@example.com") == ["spr", "000123", "jan", "kowalski", "example",
                                                                    "com"]


def test_finds_subject_body_and_prefix_of_last_word() -> None:
    t = f.tenant()
    milk = new(t, "Sour milk", "Bought yesterday in the evening")
    new(t, "Rude cashier", "The cashier shouted")
    assert ids(t, "milk") == [milk.pk]
    assert ids(t, "YESTERDAY evening") == [milk.pk]
    assert ids(t, "even") == [milk.pk]  # last word is a prefix
    assert ids(t, "milk cashier") == []  # every word must match


@pytest.mark.parametrize(("text", "query"), [
    ("Zażółć gęślą jaźń w sklepie", "zazolc"),
    ("Zazolc gesla jazn", "ZAŻÓŁĆ"),
    ("Łódź, ulica Piotrkowska", "lodz"),
    ("Кассир нагрубил покупателю", "КАССИР"),
    ("Ёлочные игрушки закончились", "елочные"),
    ("Просроченный творог", "прОсрОчЕнный"),
    ("Le colis est arrivé abîmé", "ABIME"),
    ("Remboursement de la commande", "rembours"),
    ("Garçon très poli", "garcon tres"),
])
def test_languages_case_and_diacritics(text: str, query: str) -> None:
    t = f.tenant()
    hit = new(t, "Zgłoszenie", text)
    new(t, "Other", "nothing related here")
    assert ids(t, query) == [hit.pk]


def test_later_message_and_internal_note_are_found() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    ticket = new(t, "Delivery", "Where is my parcel?")
    assert ids(t, "courier") == []
    actions.add_message(agent, ticket, body="The courier lost it")
    actions.add_message(agent, ticket, body="Escalated to logistics", kind=Message.Kind.NOTE)
    assert ids(t, "courier") == [ticket.pk]
    assert ids(t, "logistics") == [ticket.pk]


def test_contact_store_category_tags_and_custom_fields_are_indexed() -> None:
    t = f.tenant()
    store = f.store(t, "W123", name="Biedronka Mokotów", city="Warszawa")
    cat = f.category(t, "returns", name="Zwroty towaru")
    contact = actions.find_or_create_contact(None, t, name="Agnieszka Wiśniewska", emails=["aga@poczta.example"])
    ticket = new(t, "Problem", store=store.pk, category=cat.pk, contact=contact.pk, tags=["vip"],
                 custom_fields={"receipt_no": "PARAGON-777", "items": [{"sku": "SKU998"}]})
    new(t, "Other ticket")
    for q in ("wisniewska", "aga@poczta.example", "mokotow", "w123", "zwroty", "vip", "paragon 777", "sku998"):
        assert ids(t, q) == [ticket.pk], q


def test_update_reindexes_subject_and_tags() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    ticket = new(t, "Broken fridge")
    actions.update_ticket(agent, ticket, subject="Broken freezer", tags=["warranty"])
    assert ids(t, "fridge") == []
    assert ids(t, "freezer warranty") == [ticket.pk]


def test_reference_or_number_finds_that_ticket_first() -> None:
    t = f.tenant(ticket_prefix="SPR")
    first = new(t, "First")
    others = [new(t, f"Mentions SPR-000001 and 1 in text #{i}") for i in range(3)]
    assert ids(t, "SPR-000001")[0] == first.pk
    assert ids(t, "spr-1")[0] == first.pk
    assert ids(t, "1")[0] == first.pk
    assert ids(t, "#000001")[0] == first.pk
    assert set(ids(t, "mentions")) == {o.pk for o in others}


def test_ranking_prefers_subject_over_body() -> None:
    t = f.tenant()
    in_body = new(t, "Question", "my voucher does not work")
    in_subject = new(t, "Voucher", "does not work")
    assert ids(t, "voucher") == [in_subject.pk, in_body.pk]


def test_tenant_isolation() -> None:
    a, b = f.tenant(), f.tenant()
    mine = new(a, "Payment refused", "card payment")
    theirs = new(b, "Payment refused", "card payment")
    assert ids(a, "payment") == [mine.pk]
    assert ids(b, "payment") == [theirs.pk]
    assert ids(a, theirs.reference) == []  # B's reference names nothing in A


def test_merged_ticket_text_is_found_on_target() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    dup = new(t, "Duplicate call", "the coffee machine is leaking")
    main = new(t, "Coffee machine", "broken")
    actions.merge_tickets(agent, dup, main)
    assert ids(t, "leaking") == [main.pk]  # the message moved to the target
    assert ids(t, "duplicate") == [dup.pk]  # the merged ticket keeps its own subject


AWKWARD = ['"', "'", '""', 'milk"', '"milk', "milk*", "*", "-milk", "milk -", "NOT milk", "milk AND",
           "OR", "NEAR(milk cashier)", "NEAR(", "(", ")", "milk)", "a:b", "subject:milk", "^milk", "{x}",
           "milk + cashier", "\\", "%", "_", "'; DROP TABLE tickets_ticket; --", "🥛 milk 🐄", "🥛",
           "\x00", "   ", "", "milk" * 300, "x " * 2000, "SPR-99999999999999999999999", "9" * 40, "#", "&|!:*"]

MATCH_MILK = {'milk"', '"milk', "milk*", "-milk", "milk -", "milk)", "^milk", "🥛 milk 🐄", "milk + cashier"}


@pytest.mark.parametrize("q", AWKWARD)
def test_awkward_queries_never_raise(q: str) -> None:
    t = f.tenant()
    milk = new(t, "Sour milk", "the cashier said")
    found = ids(t, q)
    assert isinstance(found, list)
    if q in MATCH_MILK:
        assert found == [milk.pk], q


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_text_is_a_safe_query(q: str) -> None:
    t = Tenant.objects.first() or f.tenant()
    assert isinstance(search.search_ticket_ids(t.pk, q), list)


def test_indexing_any_text_is_safe() -> None:
    t = f.tenant()
    body = "NEAR( \" ' * 🥛 \u0301 \ufeff" + "Łódź " * 20_000 + "zzz" * 100_000
    ticket = new(t, "Big \" body", body)
    assert ids(t, "lodz") == [ticket.pk]


def test_limit_and_rebuild() -> None:
    a, b = f.tenant(), f.tenant()
    tickets = [new(a, f"Printer jam {i}") for i in range(7)]
    other = new(b, "Printer jam")
    assert len(search.search_ticket_ids(a.pk, "printer", limit=3)) == 3
    wipe_index()
    assert ids(a, "printer") == []
    assert search.rebuild(a.pk, batch_size=3) == 7
    assert set(ids(a, "printer")) == {x.pk for x in tickets}
    assert ids(b, "printer") == []
    assert search.rebuild(batch_size=4) == 8
    assert ids(b, "printer") == [other.pk]


def test_rebuild_drops_rows_of_deleted_tickets() -> None:
    t = f.tenant()
    gone = new(t, "Ghost ticket")
    kept = new(t, "Ghost town")
    Ticket.objects.filter(pk=gone.pk).delete()
    search.rebuild(t.pk)
    assert ids(t, "ghost") == [kept.pk]


def test_pending_documents_move_to_fts_in_batches() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    tickets = [new(t, f"Batch {i}", "zamrażarka") for i in range(search.FLUSH_EVERY + 2)]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {search.PENDING}")  # noqa: S608
            assert cursor.fetchone()[0] < len(tickets)  # a ticket id divisible by FLUSH_EVERY flushed them
    found = search.search_ticket_ids(t.pk, "zamrazarka")
    assert sorted(found) == sorted(x.pk for x in tickets)
    # a flushed document is superseded by the ticket's newer pending one, never matched stale
    actions.update_ticket(agent, tickets[0], subject="Renamed")
    assert tickets[0].pk not in search.search_ticket_ids(t.pk, "batch")
    assert search.search_ticket_ids(t.pk, "renamed") == [tickets[0].pk]


def test_each_new_message_adds_to_the_document_without_losing_earlier_text() -> None:
    """Messages are appended to the ticket's document (not re-read): after the document moved into the
    index, after a subject change and when there was no document at all, every message stays findable."""
    t = f.tenant()
    ticket = new(t, "Parcel question", "first zebra")
    search.flush()  # the document now lives in the index, not in the pending table (SQLite)
    actions.add_message(None, ticket, body="second giraffe")
    actions.update_ticket(None, ticket, subject="Parcel lost")
    actions.add_message(None, ticket, body="third okapi")
    for q in ("zebra", "giraffe", "okapi", "lost"):
        assert ids(t, q) == [ticket.pk], q
    assert ids(t, "question") == []
    wipe_index()
    actions.add_message(None, ticket, body="fourth lemur")  # no document: the whole ticket is indexed again
    for q in ("zebra", "giraffe", "lemur"):
        assert ids(t, q) == [ticket.pk], q
