"""Seed for benchmarks/chat.py, run in its own process against the benchmark's database.

One tenant, a chat queue (no after-chat work, open 24/7), a chat channel "bench", A agents with enough chat
capacity and a logged-in desk session each (made with Django's session store, as a login would), then N
chats started through the chat's own action (contact, ticket, interaction, routing task) and offered and
accepted through routing, so that every chat has an agent. Prints JSON.
"""

from __future__ import annotations

import json
import math
import os
import sys
from datetime import timedelta

import django


def main(n_sessions: int, n_agents: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linia.settings")
    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from linia.core.models import Membership, Role, Tenant, User
    from linia.intake.chat import actions as chat
    from linia.intake.chat.models import ChatChannel
    from linia.routing import actions as routing
    from linia.routing.models import AgentProfile, Queue, Reservation, ReservationStatus

    now = timezone.now()
    tenant = Tenant.objects.create(slug="bench", name="Bench shop", ticket_prefix="BEN")
    queue = Queue.objects.create(tenant=tenant, code="chats", name="Chat", channels=["chat"], wrapup_seconds=0,
                                 offer_timeout_seconds=3600)
    channel = ChatChannel.objects.create(tenant=tenant, public_key="bench", name="Bench chat", queue=queue)
    capacity = math.ceil(n_sessions / n_agents) + 1
    users = User.objects.bulk_create([User(username=f"agent{i:04d}", first_name=f"Agent{i}")
                                      for i in range(n_agents)])
    Membership.objects.bulk_create([Membership(user=u, tenant=tenant, role=Role.AGENT) for u in users])
    AgentProfile.objects.bulk_create([
        AgentProfile(user=u, presence="available", presence_since=now - timedelta(seconds=i), capacity={"chat": capacity},
                     idle_since=now - timedelta(seconds=i)) for i, u in enumerate(users)])
    routing.dispatch_after_change = lambda tenant_ids: None  # one dispatch per round below, not one per chat
    started = []
    for i in range(n_sessions):
        result = chat.start_session(channel, {"name": f"Visitor {i}", "email": f"v{i}@bench.example",
                                              "language": "en", "text": "Hello"})
        started.append((result.token, result.session))
    while Reservation.objects.filter(task__tenant=tenant, status=ReservationStatus.ACCEPTED).count() < n_sessions:
        pending = list(Reservation.objects.filter(task__tenant=tenant, status=ReservationStatus.PENDING)
                       .select_related("agent"))
        for res in pending:  # starting a chat already offered it to a free agent
            routing.accept_offer(res.agent, res.pk)
        if not pending and not routing.dispatch(tenant):
            raise SystemExit("routing offered nothing: not enough agent capacity")
    for _token, session in started:
        chat.sync_task(session.task_id)
    holders = {r.task_id: r.agent_id for r in Reservation.objects.filter(status=ReservationStatus.ACCEPTED)}
    backend = settings.AUTHENTICATION_BACKENDS[0]
    agents = []
    for u in users:
        store = SessionStore()
        store.update({SESSION_KEY: str(u.pk), BACKEND_SESSION_KEY: backend,
                      HASH_SESSION_KEY: u.get_session_auth_hash()})
        store.create()
        agents.append({"id": u.pk, "cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}"})
    print(json.dumps({"key": channel.public_key, "agents": agents,
                      "sessions": [{"token": token, "task_id": s.task_id, "agent_id": holders[s.task_id]}
                                   for token, s in started]}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
