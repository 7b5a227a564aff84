"""The ticket/contact read paths on the real database: filters, ordering, scoping, search."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.http import QueryDict
from hypothesis import given
from hypothesis import strategies as st

from linia.core.errors import ActionError, NotFound
from linia.core.models import Role, Tenant, User
from linia.tickets import actions, queries
from linia.tickets.models import Channel, Message, Priority, Status, Ticket
from linia.tickets.queries import TicketFilter
from tests import factories as f

pytestmark = pytest.mark.django_db


def new(tenant: Tenant, subject: str = "Ticket", body: str = "", **kw: Any) -> Ticket:
    kw.setdefault("channel", "call")
    return actions.create_ticket(None, tenant, subject=subject, body=body, **kw)


def listed(user: Any, tenant: Tenant, **kw: Any) -> list[int]:
    return [t.pk for t in queries.ticket_list(user, tenant, TicketFilter(**kw))]


def set_created(ticket: Ticket, when: datetime) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(created_at=when)


# --- TicketFilter parsing -------------------------------------------------------------------------

def test_from_params_parses_every_field() -> None:
    params = QueryDict(
        "q=mleko&status=new&status=open,pending_customer&priority=high&channel=call,email&category_id=3"
        "&store_id=4&department_id=5&assignee=me&tag=vip&contact_id=6&created_from=2026-01-01"
        "&created_to=2026-01-31&open_only=1&order=priority&page=2")
    flt = TicketFilter.from_params(params)
    assert flt == TicketFilter(q="mleko", status=["new", "open", "pending_customer"], priority=["high"],
                               channel=["call", "email"], category_id=3, store_id=4, department_id=5,
                               assignee="me", tag="vip", contact_id=6, created_from=date(2026, 1, 1),
                               created_to=date(2026, 1, 31), open_only=True, order="priority")
    assert TicketFilter.from_params({}) == TicketFilter()
    assert TicketFilter.from_params({"status": ["new", "open"], "assignee": "17"}).assignee == "17"


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "lost"}, "status"),
    ({"priority": ["high", "meh"]}, "priority"),
    ({"channel": "pigeon"}, "channel"),
    ({"category_id": "abc"}, "category_id"),
    ({"store_id": "-1"}, "store_id"),
    ({"department_id": "0"}, "department_id"),
    ({"contact_id": "9" * 30}, "contact_id"),
    ({"assignee": "someone"}, "assignee"),
    ({"created_from": "31.01.2026"}, "created_from"),
    ({"created_to": "0001-01-01"}, "created_to"),
    ({"created_from": "2026-02-01", "created_to": "2026-01-01"}, "created_to"),
    ({"open_only": "maybe"}, "open_only"),
    ({"order": "random"}, "order"),
    ({"store_id": "١٢"}, "store_id"),  # Arabic-Indic digits are not an id
])
def test_from_params_rejects_bad_values(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ActionError) as err:
        TicketFilter.from_params(params)
    assert err.value.code == "invalid_filter"
    assert field in err.value.fields


def test_from_params_reports_all_bad_fields_at_once() -> None:
    with pytest.raises(ActionError) as err:
        TicketFilter.from_params({"status": "x", "order": "y", "store_id": "z"})
    assert set(err.value.fields) == {"status", "order", "store_id"}


_filters = st.builds(
    TicketFilter,
    q=st.text(max_size=20).map(str.strip),
    status=st.lists(st.sampled_from(Status.values), unique=True),
    priority=st.lists(st.sampled_from(Priority.values), unique=True),
    channel=st.lists(st.sampled_from(Channel.values), unique=True),
    category_id=st.none() | st.integers(1, 2**63 - 1),
    store_id=st.none() | st.integers(1, 10**6),
    department_id=st.none() | st.integers(1, 10**6),
    assignee=st.sampled_from(["", "me", "none", "42"]),
    tag=st.text(max_size=20).map(str.strip),
    contact_id=st.none() | st.integers(1, 10**6),
    created_from=st.none() | st.dates(date(1900, 1, 1), date(2100, 1, 1)),
    created_to=st.none(),
    open_only=st.booleans(),
    order=st.sampled_from(queries.ORDERS),
)


@given(_filters)
def test_to_params_round_trips(flt: TicketFilter) -> None:
    params = flt.to_params()
    assert TicketFilter.from_params(params) == flt
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    assert TicketFilter.from_params(query) == flt  # the same through a URL query string
    assert TicketFilter.from_params(QueryDict(query.urlencode())) == flt


# --- filters --------------------------------------------------------------------------------------

def test_each_filter_narrows_the_list() -> None:
    t = f.tenant()
    agent, other_agent = f.user(tenant=t), f.user(tenant=t)
    s1, s2 = f.store(t), f.store(t)
    d1 = f.department(t)
    parent = f.category(t)
    child = f.category(t, parent=parent)
    c1 = actions.find_or_create_contact(None, t, name="Jan", phones=["+48 601 000 001"])
    a = new(t, "A", channel="call", priority="high", store=s1.pk, category=child.pk, tags=["vip"], contact=c1.pk,
            assignee=agent.pk)
    b = new(t, "B", channel="email", priority="low", store=s2.pk, category=parent.pk, department=d1.pk,
            assignee=other_agent.pk)
    c = new(t, "C", channel="chat")
    actions.change_status(agent, c, Status.SOLVED)
    everything = [c.pk, b.pk, a.pk]
    assert listed(agent, t) == everything
    assert listed(agent, t, status=["solved"]) == [c.pk]
    assert listed(agent, t, status=["new", "solved"]) == [c.pk, b.pk, a.pk]
    assert listed(agent, t, priority=["high", "low"]) == [b.pk, a.pk]
    assert listed(agent, t, channel=["email"]) == [b.pk]
    assert listed(agent, t, category_id=parent.pk) == [b.pk, a.pk]  # with subcategories
    assert listed(agent, t, category_id=child.pk) == [a.pk]
    assert listed(agent, t, store_id=s1.pk) == [a.pk]
    assert listed(agent, t, department_id=d1.pk) == [b.pk]
    assert listed(agent, t, assignee="me") == [a.pk]
    assert listed(agent, t, assignee="none") == [c.pk]
    assert listed(agent, t, assignee=str(other_agent.pk)) == [b.pk]
    assert listed(None, t, assignee="me") == []
    assert listed(agent, t, tag="vip") == [a.pk]
    assert listed(agent, t, tag="VIP") == [a.pk]
    assert listed(agent, t, tag="nope") == []
    assert listed(agent, t, contact_id=c1.pk) == [a.pk]
    assert listed(agent, t, open_only=True) == [b.pk, a.pk]
    assert listed(agent, t, open_only=True, channel=["call", "chat"], priority=["high"]) == [a.pk]


def test_created_dates_are_days_in_the_tenant_time_zone() -> None:
    t = f.tenant(time_zone="Asia/Vladivostok")  # UTC+10
    late = new(t, "late on the 1st")
    early = new(t, "early on the 2nd")
    set_created(late, datetime(2026, 3, 1, 13, 59, tzinfo=UTC))  # 23:59 on 1 March local
    set_created(early, datetime(2026, 3, 1, 14, 0, tzinfo=UTC))  # 00:00 on 2 March local
    assert listed(None, t, created_from=date(2026, 3, 2)) == [early.pk]
    assert listed(None, t, created_to=date(2026, 3, 1)) == [late.pk]
    assert listed(None, t, created_from=date(2026, 3, 1), created_to=date(2026, 3, 1)) == [late.pk]
    assert listed(None, t, created_from=date(1900, 1, 1), created_to=date(2999, 12, 31)) == [early.pk, late.pk]


def test_orderings() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    x = new(t, "x", priority="low")
    y = new(t, "y", priority="urgent")
    z = new(t, "z", priority="normal")
    base = datetime(2026, 1, 10, tzinfo=UTC)
    for ticket, days in ((x, 2), (y, 1), (z, 3)):
        set_created(ticket, base + timedelta(days=days))
    Ticket.objects.filter(pk=x.pk).update(updated_at=base + timedelta(days=9))
    Ticket.objects.filter(pk=y.pk).update(updated_at=base + timedelta(days=8))
    Ticket.objects.filter(pk=z.pk).update(updated_at=base + timedelta(days=7))
    assert listed(agent, t) == [z.pk, x.pk, y.pk]
    assert listed(agent, t, order="created") == [y.pk, x.pk, z.pk]
    assert listed(agent, t, order="-updated") == [x.pk, y.pk, z.pk]
    assert listed(agent, t, order="updated") == [z.pk, y.pk, x.pk]
    assert listed(agent, t, order="priority") == [y.pk, z.pk, x.pk]
    assert listed(agent, t, order="number") == [x.pk, y.pk, z.pk]


def test_search_combined_with_filters_and_relevance_order() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    in_body = new(t, "Question", "gift voucher expired", channel="email")
    in_subject = new(t, "Gift voucher", "expired yesterday", channel="call")
    new(t, "Unrelated", "nothing", channel="call")
    assert listed(agent, t, q="voucher") == [in_subject.pk, in_body.pk]
    assert listed(agent, t, q="voucher", order="relevance") == [in_subject.pk, in_body.pk]
    assert listed(agent, t, q="voucher", channel=["email"]) == [in_body.pk]
    actions.change_status(agent, in_subject, Status.SOLVED)
    assert listed(agent, t, q="voucher", open_only=True) == [in_body.pk]
    assert listed(agent, t, q="nothing matches this") == []
    assert listed(agent, t, q="   ") == listed(agent, t)  # blank search is no search


def test_search_reference_first_in_relevance_order() -> None:
    t = f.tenant(ticket_prefix="SPR")
    first = new(t, "First")
    mention = new(t, "About SPR-000001")
    assert listed(None, t, q="SPR-000001", order="relevance") == [first.pk, mention.pk]


@pytest.mark.parametrize("q", ['"', "*", 'voucher"', "NEAR(", "NEAR(voucher", "🎁", "🎁 voucher", "", "AND",
                               "voucher OR", "(voucher)", "-voucher", "voucher*", "'", "\\", "%_"])
def test_awkward_search_text_is_safe(q: str) -> None:
    t = f.tenant()
    hit = new(t, "Gift voucher")
    result = listed(None, t, q=q)
    if q in {'voucher"', "🎁 voucher", "(voucher)", "-voucher", "voucher*"}:
        assert result == [hit.pk], q


@pytest.mark.parametrize(("body", "q"), [
    ("Кассир в магазине на Светланской нагрубил", "СВЕТЛАНСКОЙ кассир"),
    ("Ёжик в тумане", "ежик"),
    ("Reklamacja: zepsuta lodówka, Łódź", "lodowka lodz"),
    ("Zwrot pieniędzy", "PIENIEDZY"),
    ("Commande reçue abîmée, très déçu", "recue abimee"),
    ("Remboursement", "REMBOURSÉ"),
])
def test_search_in_ru_pl_fr(body: str, q: str) -> None:
    t = f.tenant()
    hit = new(t, "Zgłoszenie", body)
    new(t, "Other", "completely different")
    assert listed(None, t, q=q) == [hit.pk]


def test_search_finds_later_message_and_internal_note() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    ticket = new(t, "Delivery", "where is my parcel")
    actions.add_message(agent, ticket, body="Kurier zgubił paczkę")
    actions.add_message(agent, ticket, body="Sprawdzić w magazynie Poznań", kind=Message.Kind.NOTE)
    assert listed(agent, t, q="zgubil") == [ticket.pk]
    assert listed(agent, t, q="magazynie poznan") == [ticket.pk]


def test_merged_tickets() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    dup = new(t, "Repeat call", "the terminal is broken")
    main = new(t, "Card terminal", "not working")
    actions.merge_tickets(agent, dup, main)
    assert listed(agent, t, q="broken") == [main.pk]
    assert listed(agent, t, q="repeat") == [dup.pk]
    assert listed(agent, t, q="terminal", open_only=True) == [main.pk]
    assert queries.ticket_detail(agent, t, dup.pk).merged_into == main


# --- scoping --------------------------------------------------------------------------------------

def test_tenant_isolation_even_when_text_matches() -> None:
    a, b = f.tenant(), f.tenant()
    agent_a = f.user(tenant=a)
    admin = f.user(superuser=True)
    mine = new(a, "Broken scale", "scale in aisle 3")
    theirs = new(b, "Broken scale", "scale in aisle 3", tags=["vip"])
    assert listed(agent_a, a, q="scale") == [mine.pk]
    assert listed(agent_a, a) == [mine.pk]
    assert listed(agent_a, b) == []  # not a member of B
    assert listed(agent_a, b, q="scale") == []
    assert listed(admin, a, q="scale") == [mine.pk]
    assert listed(agent_a, a, q=theirs.reference) == []
    assert listed(agent_a, a, tag="vip") == []
    assert listed(agent_a, a, contact_id=theirs.pk, store_id=theirs.pk) == []
    with pytest.raises(NotFound):
        queries.ticket_detail(agent_a, a, theirs.pk)
    with pytest.raises(NotFound):
        queries.ticket_detail(agent_a, b, theirs.pk)


def test_store_staff_and_department_staff_see_only_theirs() -> None:
    t = f.tenant()
    s1, s2 = f.store(t), f.store(t)
    d1, d2 = f.department(t), f.department(t)
    cashier = f.user(tenant=t, role=Role.STORE_STAFF, store=s1)
    hr = f.user(tenant=t, role=Role.CLIENT_STAFF, department=d1)
    client_all = f.user(tenant=t, role=Role.CLIENT_STAFF)
    in_s1 = new(t, "Shelf empty", store=s1.pk, department=d2.pk)
    in_s2 = new(t, "Shelf empty", store=s2.pk, department=d1.pk)
    assert listed(cashier, t, q="shelf") == [in_s1.pk]
    assert listed(cashier, t, store_id=s2.pk) == []
    assert listed(hr, t, q="shelf") == [in_s2.pk]
    assert listed(client_all, t, q="shelf") == [in_s2.pk, in_s1.pk]
    with pytest.raises(NotFound):
        queries.ticket_detail(cashier, t, in_s2.pk)


def test_list_joins_columns_in_one_query(django_assert_max_num_queries: Any) -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    store, cat = f.store(t), f.category(t)
    contact = actions.find_or_create_contact(None, t, name="Anna", emails=["anna@example.com"])
    for i in range(5):
        new(t, f"T{i}", store=store.pk, category=cat.pk, contact=contact.pk, assignee=agent.pk, tags=["x"])
    flt = TicketFilter(q="t0 OR", open_only=True)
    with django_assert_max_num_queries(6):  # membership, search (2), tickets, tags
        rows = list(queries.ticket_list(agent, t, TicketFilter(open_only=True)))
        _ = [(r.contact.name, r.store.name, r.category.name, r.assignee.username, list(r.tags.all())) for r in rows]
        list(queries.ticket_list(agent, t, flt))
    assert len(rows) == 5


# --- detail, history ------------------------------------------------------------------------------

@pytest.mark.parametrize("bad_id", ["abc", None, "", "-5", 0, 2**70, "1e3"])
def test_ticket_detail_bad_ids_are_not_found(bad_id: Any) -> None:
    t = f.tenant()
    with pytest.raises(NotFound):
        queries.ticket_detail(None, t, bad_id)


def test_ticket_history_in_order() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    ticket = new(t, "History", "first")
    actions.add_message(agent, ticket, body="reply")
    actions.change_status(agent, ticket, Status.SOLVED)
    other = new(t, "Other", "noise")
    history = queries.ticket_history(queries.ticket_detail(agent, t, str(ticket.pk)))
    assert [e.kind for e in history] == ["ticket.created", "message.created", "message.created",
                                         "ticket.status_changed"]
    assert [e.pk for e in history] == sorted(e.pk for e in history)
    assert history[2].actor == agent
    assert all(e.ticket_id == ticket.pk for e in history) and other.pk != ticket.pk


# --- contacts -------------------------------------------------------------------------------------

def test_contact_search_by_name_phone_and_email() -> None:
    t = f.tenant(default_language="ru")
    other = f.tenant(default_language="ru")
    agent = f.user(tenant=t)
    ivanov = actions.find_or_create_contact(None, t, name="Иван Петрович Иванов", phones=["8 (914) 123-45-67"])
    anna = actions.find_or_create_contact(None, t, name="Anna Kowalska", emails=["Anna.K@Example.com"])
    actions.find_or_create_contact(None, other, name="Иван Иванов", phones=["+7 914 123 45 67"])

    def found(q: str, user: User | None = agent) -> list[int]:
        return [c.pk for c in queries.contact_search(user, t, q)]

    assert found("иванов") == [ivanov.pk]
    assert found("ИВАН иванов") == [ivanov.pk]
    assert found("kowalska anna") == [anna.pk]
    assert found("8 914 123 45 67") == [ivanov.pk]  # normalised to +79141234567
    assert found("+7 (914) 123-45-67") == [ivanov.pk]
    assert found("123-45-67") == [ivanov.pk]  # a partial number
    assert found("anna.k@example.com") == [anna.pk]
    assert found("ANNA.K@EXAMPLE") == [anna.pk]
    assert found("") == []
    assert found("(.*") == []
    assert found("nobody") == []
    assert found("иванов", None) == [ivanov.pk]  # the system sees the tenant's contacts
    store_staff = f.user(tenant=t, role=Role.STORE_STAFF, store=f.store(t))
    assert found("иванов", store_staff) == []  # no contacts.view permission
    assert found("иванов", f.user(tenant=other)) == []
