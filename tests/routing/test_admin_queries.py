"""Supervisor figures (GLOSSARY service level B), realtime messages, the ticker and the admin."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linia.core.models import Role
from linia.routing import actions, queries, realtime
from linia.routing.models import AgentProfile, Queue, Task, TaskStatus
from linia.routing.tasks import run_ticker
from tests import factories
from tests.routing.helpers import agent, pending_for, queue

pytestmark = pytest.mark.django_db


def test_service_level_variant_b_by_the_glossary() -> None:
    t = factories.tenant("acme")
    q = queue(t, target_answer_seconds=20)
    now = timezone.now()

    def row(wait: float | None, abandoned_after: float | None = None) -> None:
        queued = now - timedelta(minutes=5)
        Task.objects.create(
            tenant=t, queue=q, channel="call", queued_at=queued,
            status=TaskStatus.ABANDONED if abandoned_after is not None else TaskStatus.COMPLETED,
            answered_at=queued + timedelta(seconds=wait) if wait is not None else None,
            ended_at=queued + timedelta(seconds=abandoned_after) if abandoned_after is not None else None)

    for wait in (5, 10, 20, 40):  # 3 within T (20 s counts), 1 late
        row(wait)
    row(None, abandoned_after=3)  # short abandon: left out of B
    row(None, abandoned_after=30)
    Task.objects.create(tenant=t, queue=q, channel="call", queued_at=now - timedelta(days=2),
                        status=TaskStatus.ABANDONED, ended_at=now)  # not today
    Task.objects.create(tenant=t, queue=q, channel="call", queued_at=now - timedelta(seconds=42))  # waiting
    snap = queries.supervisor_snapshot(t, use_cache=False)
    support = snap["queues"][0]
    assert support["offered"] == 7 and support["answered"] == 4 and support["abandoned"] == 2
    assert support["short_abandoned"] == 1 and support["answered_within_t"] == 3
    assert support["service_level"] == 60.0  # 3 / (4 + 2 - 1)
    assert support["waiting"] == 1 and 41 <= support["longest_wait_seconds"] <= 60


def test_today_starts_at_the_tenants_midnight() -> None:
    t = factories.tenant("acme", time_zone="Asia/Tokyo")
    start = queries.today_start(t, timezone.now())
    assert start.utcoffset() == timedelta(hours=9) and (start.hour, start.minute) == (0, 0)


def test_agent_snapshot_and_supervisor_agents() -> None:
    t = factories.tenant("acme")
    q = queue(t)
    a = agent(t)
    actions.create_task(None, t, channel="chat", queue=q)
    actions.dispatch(t)
    snap = queries.agent_snapshot(a, t)
    assert snap["presence"] == "available" and len(snap["offers"]) == 1 and snap["capacity"]["chat"] == 3
    sup = queries.supervisor_snapshot(t, use_cache=False)
    assert sup["agents"][0]["user_id"] == a.pk and sup["agents"][0]["state"] == "available"


def _listen(*groups: str) -> Any:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)

    def drain() -> list[dict[str, Any]]:
        got = []
        while True:
            try:
                got.append(async_to_sync(asyncio.wait_for)(layer.receive(channel), 0.2)["payload"])
            except TimeoutError:
                return got
    return drain


def test_offer_message_is_sent_after_commit(django_capture_on_commit_callbacks: Any) -> None:
    t = factories.tenant("acme")
    q = queue(t)
    a = agent(t)
    agent_msgs = _listen(f"agent-{a.pk}")
    supervisor_msgs = _listen(f"supervisor-{t.pk}")
    with django_capture_on_commit_callbacks(execute=False) as pending:
        actions.create_task(None, t, channel="call", queue=q, attributes={"caller": "+48"})
        actions.dispatch(t)
    assert agent_msgs() == []  # nothing is sent before the commit
    for callback in pending:
        callback()
    offers = [p for p in agent_msgs() if p["kind"] == "offer"]
    assert len(offers) == 1 and offers[0]["task"]["attributes"] == {"caller": "+48"}
    assert offers[0]["reservation_id"] == pending_for(a)[0].pk
    assert any(p["kind"] == "queue_stats" for p in supervisor_msgs())


def test_realtime_reaches_the_channel_layer(django_capture_on_commit_callbacks: Any) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("agent-42", channel)
    with django_capture_on_commit_callbacks(execute=True):
        realtime.publish("agent-42", {"kind": "task_ended", "task_id": 1})
    message = async_to_sync(layer.receive)(channel)
    assert message == {"type": "linia.event", "payload": {"kind": "task_ended", "task_id": 1}}


def test_ticker_expires_offers_and_ends_wrapups() -> None:
    t = factories.tenant("acme")
    q = queue(t, offer_timeout_seconds=1)
    a = agent(t)
    actions.create_task(None, t, channel="call", queue=q)
    actions.dispatch(t)
    res = pending_for(a)[0]
    res.expires_at = timezone.now() - timedelta(seconds=1)
    res.save()
    run_ticker(run_seconds=0.0)
    assert not pending_for(a) and AgentProfile.objects.get(user=a).not_responding


def test_admin_is_tenant_scoped() -> None:
    acme, other = factories.tenant("acme"), factories.tenant("other")
    Queue.objects.create(tenant=acme, code="mine", name="Mine")
    theirs = Queue.objects.create(tenant=other, code="theirs", name="Theirs")
    mine_agent = agent(acme)
    their_agent = agent(other)
    boss = factories.user("boss", tenant=acme, role=Role.SUPERVISOR)
    boss.is_staff = True
    boss.save()
    client = Client()
    client.force_login(boss)
    page = client.get("/admin/routing/queue/")
    assert page.status_code == 200 and b"mine" in page.content and b"theirs" not in page.content
    assert client.get(f"/admin/routing/queue/{theirs.pk}/change/").status_code == 404
    profiles = client.get("/admin/routing/agentprofile/")
    assert mine_agent.username.encode() in profiles.content and their_agent.username.encode() not in profiles.content
    their_profile = AgentProfile.objects.get(user=their_agent)
    assert client.get(f"/admin/routing/agentprofile/{their_profile.pk}/change/").status_code in (403, 404)
    assert client.get("/admin/routing/task/").status_code == 200
    assert client.get("/admin/routing/task/add/").status_code == 403
    mine = Queue.objects.get(code="mine")
    waiting = Task.objects.create(tenant=acme, queue=mine, channel="email", queued_at=timezone.now())
    page = client.get(f"/admin/routing/task/{waiting.pk}/change/")
    assert page.status_code == 200 and b"email" in page.content
    assert b"ine key" not in page.content  # the database's internal line key is not shown
