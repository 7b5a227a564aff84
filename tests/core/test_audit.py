"""linia.core.audit: rows written, values made JSON-safe, the log append-only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from linia.core import audit
from linia.core.models import AuditLog
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_record_infers_tenant_and_keeps_the_actor() -> None:
    t = f.tenant()
    store = f.store(t, code="W01", name="Centrum")
    actor = f.user(tenant=t)
    row = audit.record(actor, "update", store, changes={"name": ["Old", "Centrum"]})
    row.refresh_from_db()
    assert (row.tenant, row.actor, row.action) == (t, actor, "update")
    assert (row.object_type, row.object_id, row.object_repr) == ("directory.store", str(store.pk), "W01 Centrum")
    assert row.changes == {"name": ["Old", "Centrum"]}


def test_system_and_anonymous_actors_are_stored_as_none() -> None:
    t = f.tenant()
    assert audit.record(None, "import", t, tenant=t).actor is None
    assert audit.record(AnonymousUser(), "login.failed", t, tenant=t.pk).actor is None


def test_values_become_json() -> None:
    t = f.tenant()
    changes = {"when": [None, dt.date(2026, 3, 29)], "qty": [Decimal("1.500"), Decimal("2")], 7: ("a", 1)}
    row = audit.record(None, "update", t, tenant=t, changes=changes)
    row.refresh_from_db()
    assert row.changes == {"when": [None, "2026-03-29"], "qty": ["1.500", "2"], "7": ["a", 1]}


def test_diff_keeps_only_changed_fields() -> None:
    before = {"name": "A", "city": "Kraków", "hours": {"mon": ["08:00-22:00"]}}
    after = {"name": "B", "city": "Kraków", "hours": {"always": True}}
    assert audit.diff(before, after) == {"name": ["A", "B"], "hours": [{"mon": ["08:00-22:00"]}, {"always": True}]}
    assert audit.diff({}, {"x": 1}) == {"x": [None, 1]}


def test_audit_rows_are_append_only() -> None:
    row = audit.record(None, "update", f.tenant())
    row.action = "forged"
    with pytest.raises(ValueError, match="append-only"):
        row.save()
    assert AuditLog.objects.get(pk=row.pk).action == "update"
