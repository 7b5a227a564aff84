from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from linia.core.errors import ActionError
from linia.tickets.actions import create_ticket, issue_customer_link, rate_service
from linia.tickets.models import CustomerLink, Event, Rating
from linia.tickets.queries import ticket_for_customer_token
from tests import factories

pytestmark = pytest.mark.django_db


def _ticket():  # type: ignore[no-untyped-def]
    t = factories.tenant()
    agent = factories.user(tenant=t)
    return create_ticket(agent, t, subject="Broken fridge", channel="webform")


def test_a_link_opens_its_ticket_until_it_expires() -> None:
    ticket = _ticket()
    url = issue_customer_link(ticket, days=1)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert url.endswith(f"/t/{token}/")
    assert ticket_for_customer_token(token) == ticket
    assert ticket_for_customer_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert not CustomerLink.objects.filter(token_hash=token).exists()  # only the hash is stored
    CustomerLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ticket_for_customer_token(token) is None
    assert Event.objects.filter(ticket=ticket, kind="ticket.customer_link_issued").count() == 1


def test_rating_again_replaces_the_rating_of_the_same_source() -> None:
    ticket = _ticket()
    rate_service(ticket, score=2, comment="slow", source=Rating.Source.TICKET_PAGE)
    rate_service(ticket, score=5, source=Rating.Source.TICKET_PAGE)
    rate_service(ticket, score=4, source=Rating.Source.CHAT)
    rows = {r.source: (r.score, r.comment) for r in Rating.objects.filter(ticket=ticket)}
    assert rows == {"ticket_page": (5, ""), "chat": (4, "")}
    assert Event.objects.filter(ticket=ticket, kind="ticket.rated").count() == 3


@pytest.mark.parametrize("score", [0, 6, "5", True, 3.5])
def test_a_score_outside_1_to_5_is_refused_and_nothing_is_written(score: object) -> None:
    ticket = _ticket()
    with pytest.raises(ActionError):
        rate_service(ticket, score=score, source=Rating.Source.TICKET_PAGE)  # type: ignore[arg-type]
    assert not Rating.objects.exists()


def test_the_database_keeps_one_rating_per_ticket_and_source() -> None:
    ticket = _ticket()
    now = timezone.now()
    fields = {"tenant_id": ticket.tenant_id, "ticket": ticket, "channel": "webform", "source": "ticket_page",
              "score": 3, "created_at": now, "updated_at": now}
    Rating.objects.create(**fields)
    with pytest.raises(IntegrityError):
        Rating.objects.create(**fields)
