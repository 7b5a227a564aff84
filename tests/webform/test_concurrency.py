"""Two posts of the same page racing each other (a double click on a slow line) file one ticket."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from linia.intake.webform import actions
from linia.intake.webform.definition import parse
from linia.intake.webform.models import Submission
from linia.intake.webform.validation import clean
from linia.tickets.models import Ticket
from tests import factories as f
from tests.webform.conftest import make_form


def _in_memory_sqlite() -> bool:
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


@pytest.mark.slow
def test_racing_double_submit_files_one_ticket(transactional_db: None) -> None:
    if _in_memory_sqlite():
        pytest.skip("the shared-cache in-memory test database locks whole tables (no busy wait); on a SQLite "
                    "file (LINIA_TEST_SQLITE) and PostgreSQL writers queue")
    tenant = f.tenant("race", ticket_prefix="RACE")
    form = make_form(tenant, "race-form")
    fields = parse(form.schema, form.ui)
    data = QueryDict(mutable=True)
    data.update({"name": "Racer", "consent": "on", "email": "racer@example.com"})
    barrier = threading.Barrier(2)
    references: list[str] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            cleaned = clean(tenant, fields, form.ui, data, MultiValueDict(), language="en")
            barrier.wait(timeout=10)
            filed = actions.submit(form, fields, cleaned, submission_id="same-page", language="en")
            references.append(filed.ticket.reference)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert len(references) == 2 and references[0] == references[1]
    assert Ticket.objects.filter(tenant=tenant).count() == 1
    assert Submission.objects.filter(tenant=tenant).count() == 1
