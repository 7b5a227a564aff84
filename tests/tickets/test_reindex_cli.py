from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linia.tickets import actions
from linia.tickets.queries import TicketFilter, ticket_list
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_reindex_rebuilds_and_search_still_finds() -> None:
    t = f.tenant()
    ticket = actions.create_ticket(None, t, subject="Frozen pelmeni thawed", channel="call", body="freezer broken")
    out = StringIO()
    call_command("reindex", tenant=t.slug, stdout=out)
    assert "reindexed 1 tickets" in out.getvalue()
    assert list(ticket_list(None, t, TicketFilter(q="freezer"))) == [ticket]


def test_reindex_unknown_tenant_is_exit_2() -> None:
    with pytest.raises(CommandError) as err:
        call_command("reindex", tenant="nope")
    assert err.value.returncode == 2
