from __future__ import annotations

import pytest

from linia.core.errors import ActionError, NotFound
from linia.core.models import Role
from linia.core.permissions import PermissionDenied
from linia.tickets import actions
from linia.tickets.models import Event, Message, Status
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_create_ticket_numbers_and_writes_event() -> None:
    t = f.tenant(ticket_prefix="SPR")
    agent = f.user(tenant=t)
    first = actions.create_ticket(agent, t, subject="Opening hours", channel="call", body="When do you open?")
    second = actions.create_ticket(agent, t, subject="Complaint", channel="email")
    assert (first.reference, second.reference) == ("SPR-000001", "SPR-000002")
    kinds = list(Event.objects.filter(ticket=first).values_list("kind", flat=True))
    assert kinds == ["ticket.created", "message.created"]
    assert first.messages.get().body_text == "When do you open?"


def test_numbering_is_per_tenant() -> None:
    a, b = f.tenant(ticket_prefix="AA"), f.tenant(ticket_prefix="BB")
    actions.create_ticket(None, a, subject="x", channel="call")
    tb = actions.create_ticket(None, b, subject="y", channel="call")
    assert tb.reference == "BB-000001"


def test_custom_fields_validated_against_category_schema() -> None:
    t = f.tenant()
    cat = f.category(t, field_schema={"type": "object", "required": ["receipt_no"],
                                      "properties": {"receipt_no": {"type": "string", "minLength": 3}}})
    with pytest.raises(ActionError) as err:
        actions.create_ticket(None, t, subject="Bad milk", channel="call", category=cat.pk, custom_fields={})
    assert "custom_fields.receipt_no" in err.value.fields
    ok = actions.create_ticket(None, t, subject="Bad milk", channel="call", category=cat.pk,
                               custom_fields={"receipt_no": "A-123"})
    assert ok.custom_fields == {"receipt_no": "A-123"}


def test_foreign_tenant_references_rejected() -> None:
    a, b = f.tenant(), f.tenant()
    foreign_store = f.store(b)
    with pytest.raises(ActionError) as err:
        actions.create_ticket(None, a, subject="x", channel="call", store=foreign_store.pk)
    assert "store" in err.value.fields


def test_status_transitions_follow_tenant_rules() -> None:
    t = f.tenant(settings={"status_transitions": {"solved": ["closed"]}})
    agent = f.user(tenant=t)
    ticket = actions.create_ticket(agent, t, subject="x", channel="call")
    ticket = actions.change_status(agent, ticket, Status.SOLVED)
    assert ticket.solved_at is not None
    with pytest.raises(ActionError) as err:
        actions.change_status(agent, ticket, Status.OPEN)
    assert err.value.code == "invalid_transition"
    assert actions.change_status(agent, ticket, Status.CLOSED).status == Status.CLOSED


def test_customer_reply_reopens_pending_ticket_and_first_response_recorded() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    ticket = actions.create_ticket(agent, t, subject="x", channel="email", body="hello")
    actions.add_message(agent, ticket, body="We are on it")
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    actions.change_status(agent, ticket, Status.PENDING_CUSTOMER)
    actions.add_message(None, ticket, body="Any news?", direction=Message.Direction.INBOUND)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_message_external_id_is_idempotent() -> None:
    t = f.tenant()
    ticket = actions.create_ticket(None, t, subject="x", channel="email")
    m1 = actions.add_message(None, ticket, body="a", direction="inbound", external_id="<id@x>")
    m2 = actions.add_message(None, ticket, body="a", direction="inbound", external_id="<id@x>")
    assert m1.pk == m2.pk and ticket.messages.count() == 1


def test_store_staff_cannot_see_other_store_ticket() -> None:
    t = f.tenant()
    s1, s2 = f.store(t), f.store(t)
    staff = f.user(tenant=t, role=Role.STORE_STAFF, store=s1)
    other = actions.create_ticket(None, t, subject="x", channel="portal", store=s2.pk)
    mine = actions.create_ticket(None, t, subject="y", channel="portal", store=s1.pk)
    assert actions.get_ticket_for(staff, t, mine.pk) == mine
    with pytest.raises(NotFound):
        actions.get_ticket_for(staff, t, other.pk)


def test_outsider_cannot_create() -> None:
    a, b = f.tenant(), f.tenant()
    outsider = f.user(tenant=b)
    with pytest.raises(PermissionDenied):
        actions.create_ticket(outsider, a, subject="x", channel="call")


def test_merge_moves_messages_and_closes_source() -> None:
    t = f.tenant()
    agent = f.user(tenant=t)
    src = actions.create_ticket(agent, t, subject="dup", channel="call", body="one")
    dst = actions.create_ticket(agent, t, subject="main", channel="call", body="two")
    actions.merge_tickets(agent, src, dst)
    src.refresh_from_db()
    assert src.status == Status.CLOSED and src.merged_into_id == dst.pk
    assert dst.messages.count() == 2


def test_find_or_create_contact_losing_a_race_leaves_no_orphan(monkeypatch: pytest.MonkeyPatch) -> None:
    from linia.tickets.models import Contact

    t = f.tenant()
    winner = actions.find_or_create_contact(None, t, name="Anna", emails=["anna@client.example"])
    real = actions._contact_with
    calls = []

    def not_yet_committed(*args: object) -> object:  # the parallel transaction's identity was not visible yet
        calls.append(args)
        return None if len(calls) == 1 else real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(actions, "_contact_with", not_yet_committed)
    loser = actions.find_or_create_contact(None, t, name="Anna K.", emails=["ANNA@client.example"])
    assert loser.pk == winner.pk and len(calls) == 2
    assert Contact.objects.filter(tenant=t).count() == 1
    assert Event.objects.filter(kind="contact.created").count() == 1
