"""Seed for benchmarks/routing.py, run in its own process against the benchmark's database.

One tenant, one route-mode line into a call queue (no after-call work, so an agent is ready again as soon
as the PBX reports the call ended), N available agents with extensions, a logged-in desk session per agent
(made with Django's session store, as a login would) and an API token for the PBX. Prints JSON.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from typing import Any

import django


def main(n_agents: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linia.settings")
    django.setup()
    print(json.dumps(seed(n_agents)))


def seed(n_agents: int) -> dict[str, Any]:
    """Create the rows (Django is set up and migrated); returns the token, the line and the agents' cookies."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from linia.core.actions import create_api_token
    from linia.core.models import Membership, Role, Tenant, User
    from linia.intake.voice.models import Line
    from linia.routing.models import AgentProfile, Queue

    now = timezone.now()
    tenant = Tenant.objects.create(slug="bench", name="Bench retail")
    queue = Queue.objects.create(tenant=tenant, code="calls", name="Calls", channels=["call"], wrapup_seconds=0,
                                 offer_timeout_seconds=30)
    Line.objects.create(tenant=tenant, number="+48221000000", name="Hotline", mode="route", queue=queue)
    pbx = User.objects.create(username="pbx")
    Membership.objects.create(user=pbx, tenant=tenant, role=Role.SUPERVISOR)
    token, _row = create_api_token(None, tenant, pbx, name="bench pbx")
    users = User.objects.bulk_create([User(username=f"agent{i:04d}") for i in range(n_agents)])
    Membership.objects.bulk_create([Membership(user=u, tenant=tenant, role=Role.AGENT) for u in users])
    AgentProfile.objects.bulk_create([
        AgentProfile(user=u, presence="available", presence_since=now - timedelta(seconds=i),
                     idle_since=now - timedelta(seconds=i), extension=str(1000 + i)) for i, u in enumerate(users)])
    backend = settings.AUTHENTICATION_BACKENDS[0]
    agents = []
    for u in users:
        session = SessionStore()
        session.update({SESSION_KEY: str(u.pk), BACKEND_SESSION_KEY: backend,
                        HASH_SESSION_KEY: u.get_session_auth_hash()})
        session.create()
        agents.append({"id": u.pk, "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"})
    from django.db import connection

    if connection.vendor == "postgresql":
        # Statistics for the tables just filled, as a live database has them (autovacuum analyzes a changed
        # table within a minute): without them the planner guesses, e.g. sorts every agent where an index walk
        # stops after a few. Tables still empty are left alone: "0 rows" would mislead it once calls arrive.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(m._meta.db_table for m in (User, Membership, AgentProfile))}")
    return {"token": token, "line": "+48221000000", "agents": agents}


if __name__ == "__main__":
    main(int(sys.argv[1]))
