"""Routing, voice and email for the demo tenants: a route-mode customer line with its call queue, a chat queue,
an "Email and forms" queue (channels email and ticket; named in the tenant's language) with the tenant's
support mailbox and web forms, disposition codes, and agent profiles with PBX extensions for the demo's agents
and supervisors.

The demo's queues share contacts round robin (least recently offered first, never offered first): a person
who logs in as an agent beside the simulator's always-idle agents gets the next call or chat, where
"longest idle" would serve every simulated agent that has idled longer first.
"""

from __future__ import annotations

from linia.core.models import Membership, Role, Tenant
from linia.intake.email.models import Mailbox
from linia.routing.models import AgentProfile, Queue, Strategy
from linia.workforce.setup import ensure_contact_center

# slug: (line number, line/call queue name, chat queue name); numbers are valid but fictitious
LINES = {
    "vostok-market": ("+74232001000", "Горячая линия", "Чат"),
    "dyskont-pl": ("+48221000100", "Infolinia", "Czat"),
    "maison-mode": ("+33140000100", "Service client", "Chat"),
    "quickdrop": ("+442070000100", "Customer line", "Chat"),
}


WRITTEN_QUEUE = "email"  # the demo's queue of written requests: its mailbox and its web forms
WRITTEN_NAME = "Email and forms"  # its name, in the tenant's language where it has one
WRITTEN_NAMES = {"vostok-market": "Почта и формы", "dyskont-pl": "E-mail i formularze",
                 "maison-mode": "E-mail et formulaires"}
WRITTEN_CHANNELS = ["email", "ticket"]


def mailbox_address(tenant: Tenant) -> str:
    """The demo tenant's support address; mail to it on the demo's SMTP port becomes a ticket."""
    return f"support@{tenant.slug}.demo.test"


def seed_contact_center(tenants: list[Tenant]) -> None:
    """Idempotent: existing queues, lines and extensions are kept."""
    for index, tenant in enumerate(tenants, 1):
        number, line_name, chat_name = LINES.get(tenant.slug, ("", "Customer line", "Chat"))
        fresh = not Queue.objects.filter(tenant=tenant).exists()
        ensure_contact_center(tenant, number=number, line_name=line_name, chat_name=chat_name)
        name = WRITTEN_NAMES.get(tenant.slug, WRITTEN_NAME)
        written, created = Queue.objects.get_or_create(tenant=tenant, code=WRITTEN_QUEUE, defaults={
            "name": name, "channels": WRITTEN_CHANNELS, "target_answer_seconds": 4 * 3600})
        if not created and written.name == "Email" and written.channels == ["email"]:
            # The queue as an older demo made it (email only): it takes the web forms too. An edited one is kept.
            written.name, written.channels = name, WRITTEN_CHANNELS
            written.save(update_fields=["name", "channels"])
        elif not created and written.name == WRITTEN_NAME != name:  # named in English by an older demo
            written.name = name
            written.save(update_fields=["name"])
        if fresh:  # a strategy someone chose later is kept on the next run
            Queue.objects.filter(tenant=tenant).update(strategy=Strategy.ROUND_ROBIN)
        Mailbox.objects.get_or_create(address=mailbox_address(tenant), defaults={
            "tenant": tenant, "name": f"{tenant.name} support", "queue": WRITTEN_QUEUE})
        members = (Membership.objects.filter(tenant=tenant, role__in=[Role.AGENT, Role.SUPERVISOR])
                   .order_by("user__username").values_list("user_id", flat=True))
        for n, user_id in enumerate(members, 1):
            profile, _ = AgentProfile.objects.get_or_create(user_id=user_id)
            extension = f"{index}{n:02d}"
            if not profile.extension and not AgentProfile.objects.filter(extension=extension).exists():
                profile.extension = extension
                profile.save(update_fields=["extension"])
