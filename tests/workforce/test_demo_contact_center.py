"""The demo's contact-center seeding (lines, queues, extensions) and its background processes."""

from __future__ import annotations

import time

import pytest

from linia.core.models import Membership, Role, Tenant
from linia.demo import background
from linia.demo.contact_center import LINES, seed_contact_center
from linia.demo.run import seed_demo
from linia.intake.voice.models import Line, LineMode
from linia.routing.models import AgentProfile, Disposition, Queue
from linia.workforce.setup import ensure_agents, ensure_contact_center, integration_token


@pytest.mark.django_db
def test_demo_tenants_get_a_route_line_queues_and_agent_extensions() -> None:
    seed_demo(small=True, tickets=0)
    counts = (Line.objects.count(), Queue.objects.count(), Disposition.objects.count(), AgentProfile.objects.count())
    for slug, (number, line_name, chat_name) in LINES.items():
        tenant = Tenant.objects.get(slug=slug)
        line = Line.objects.get(tenant=tenant)
        assert (line.number, line.mode, line.name) == (number, LineMode.ROUTE, line_name)
        assert line.queue is not None and line.queue.channels == ["call"] and line.queue.tenant == tenant
        assert Queue.objects.get(tenant=tenant, code="chats").name == chat_name
        agents = Membership.objects.filter(tenant=tenant, role__in=[Role.AGENT, Role.SUPERVISOR])
        assert all(AgentProfile.objects.get(user_id=m.user_id).extension for m in agents)
    extensions = [e for e in AgentProfile.objects.values_list("extension", flat=True) if e]
    assert len(extensions) == len(set(extensions))
    seed_contact_center(list(Tenant.objects.all()))  # again: nothing new
    assert counts == (Line.objects.count(), Queue.objects.count(), Disposition.objects.count(),
                      AgentProfile.objects.count())


@pytest.mark.django_db
def test_simulator_setup_is_idempotent_and_gives_a_supervisor_token() -> None:
    tenant = Tenant.objects.create(slug="t1", name="T1", ticket_prefix="T1", time_zone="Europe/Warsaw")
    line, chats = ensure_contact_center(tenant)
    assert ensure_contact_center(tenant) == (line, chats)
    first = ensure_agents(tenant, 3)
    second = ensure_agents(tenant, 3)
    assert [u for u, _ in first] == [u for u, _ in second] == ["sim-t1-01", "sim-t1-02", "sim-t1-03"]
    assert [p for _, p in first] != [p for _, p in second]  # fresh passwords each run
    assert Membership.objects.filter(tenant=tenant, role=Role.AGENT).count() == 3
    _raw, token = integration_token(tenant)
    assert Membership.objects.get(tenant=tenant, user=token.user).role == Role.SUPERVISOR


@pytest.mark.slow
def test_background_worker_starts_and_stops() -> None:
    procs = background.start("http://127.0.0.1:9", simulate=False, log=lambda _m: None)
    try:
        assert len(procs) == 1
        time.sleep(1)
        assert procs[0].poll() is None  # running
    finally:
        background.stop(procs)
    assert procs[0].returncode is not None
