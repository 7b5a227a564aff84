"""What the simulator (and the demo) need in a tenant: queues, a route-mode line, dispositions, agents.

Idempotent: existing queues, lines and agents are reused; only what is missing is created.
"""

from __future__ import annotations

import secrets

from django.db import transaction

from linia.core.actions import create_api_token
from linia.core.models import ApiToken, Membership, Role, Tenant, User
from linia.intake.chat.models import ChatChannel
from linia.intake.voice.models import Line, LineKind, LineMode
from linia.routing.models import AgentProfile, Disposition, Queue

DISPOSITIONS = (("solved", "Solved"), ("callback", "Call back"), ("ticket", "Ticket registered"))


def sim_number(tenant: Tenant) -> str:
    """A Warsaw-format number no real line of the demo uses (+48 22 9xx xx xx), unique per tenant."""
    return f"+48229{tenant.pk % 1_000_000:06d}"


@transaction.atomic
def ensure_contact_center(tenant: Tenant, *, number: str = "", line_name: str = "Customer line",
                          chat_name: str = "Chat") -> tuple[Line, Queue]:
    """A route-mode line with its call queue and a chat queue; returns (line, chat queue)."""
    line = Line.objects.filter(tenant=tenant, mode=LineMode.ROUTE, queue__isnull=False).select_related("queue").first()
    if line is None:
        calls, _ = Queue.objects.get_or_create(tenant=tenant, code="calls", defaults={
            "name": line_name, "channels": ["call"], "target_answer_seconds": 20, "wrapup_seconds": 30})
        line = Line.objects.create(tenant=tenant, number=number or sim_number(tenant), name=line_name,
                                   kind=LineKind.CUSTOMER_24_7, mode=LineMode.ROUTE, queue=calls,
                                   pbx_queue=f"{tenant.slug}-calls"[:80])
    chats = next((q for q in Queue.objects.filter(tenant=tenant, is_active=True).order_by("code")
                  if "chat" in (q.channels or [])), None)  # JSON "contains" does not work on SQLite
    if chats is None:
        chats, _ = Queue.objects.get_or_create(tenant=tenant, code="chats", defaults={
            "name": chat_name, "channels": ["chat"], "target_answer_seconds": 120, "wrapup_seconds": 30})
    for code, name in DISPOSITIONS:
        Disposition.objects.get_or_create(tenant=tenant, code=code, defaults={"name": name})
    return line, chats


def ensure_chat_channel(tenant: Tenant, queue: Queue) -> ChatChannel:
    """The tenant's chat widget channel (the demo's, if it has one), so simulated visitors use the widget's path."""
    from linia.intake.chat.actions import ensure_chat_channel as ensure

    return ensure(tenant, queue=queue)


def agent_extension(tenant: Tenant, n: int) -> str:
    return f"9{tenant.pk:03d}{n:02d}"


@transaction.atomic
def ensure_agents(tenant: Tenant, count: int, *, prefix: str = "sim") -> list[tuple[str, str]]:
    """`count` agent users of the tenant with profiles and extensions; fresh random passwords each run
    (they belong to the simulator alone). Returns (username, password) pairs."""
    out = []
    for n in range(1, count + 1):
        username = f"{prefix}-{tenant.slug}-{n:02d}"[:150]
        user, _ = User.objects.get_or_create(username=username, defaults={
            "first_name": "Sim", "last_name": f"Agent {n:02d}", "email": f"{username}@linia-sim.invalid"})
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
        Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": Role.AGENT})
        profile, _ = AgentProfile.objects.get_or_create(user=user)
        if not profile.extension:
            extension = agent_extension(tenant, n)
            if not AgentProfile.objects.filter(extension=extension).exists():
                profile.extension = extension
                profile.save(update_fields=["extension"])
        out.append((username, password))
    return out


def integration_token(tenant: Tenant) -> tuple[str, ApiToken]:
    """A bearer token of a supervisor of the tenant (the PBX's credentials hold config.manage)."""
    member = Membership.objects.filter(tenant=tenant, role=Role.SUPERVISOR, user__is_active=True).order_by("user_id").first()
    if member is not None:
        user = member.user
    else:
        user, _ = User.objects.get_or_create(username=f"sim-{tenant.slug}-pbx"[:150],
                                             defaults={"first_name": "Simulated", "last_name": "PBX"})
        Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": Role.SUPERVISOR})
    return create_api_token(None, tenant, user, name="traffic simulator")
