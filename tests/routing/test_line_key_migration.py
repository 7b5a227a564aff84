"""Migration 0004 adds Task.line_key, computed by the database: rows that were waiting before it get their key."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE, AFTER = [("routing", "0003_agent_idle_indexes")], [("routing", "0004_task_line_key")]


@pytest.mark.django_db(transaction=True)
def test_rows_waiting_before_the_migration_get_their_line_key() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    tenant = old.get_model("core", "Tenant").objects.create(slug="m", name="M")
    queue = old.get_model("routing", "Queue").objects.create(tenant=tenant, code="q", name="Q", channels=["email"])
    Task = old.get_model("routing", "Task")
    now = timezone.now()
    plain = Task.objects.create(tenant=tenant, queue=queue, channel="email", language="pl", queued_at=now)
    declined = Task.objects.create(tenant=tenant, queue=queue, channel="email", queued_at=now, excluded_agents=[7],
                                   required_skills={"returns": 3})
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    from linia.routing.models import Task as Current

    keys = dict(Current.objects.filter(pk__in=[plain.pk, declined.pk]).values_list("pk", "line_key"))
    assert keys[plain.pk] == f"q|{queue.pk}|email|pl|{{}}"
    assert keys[declined.pk].startswith(f"d|{queue.pk}|email||") and "returns" in keys[declined.pk]
    Current.objects.filter(pk=declined.pk).update(excluded_agents=[])  # the database keeps it up to date
    assert Current.objects.get(pk=declined.pk).line_key.startswith("q|")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
