"""Model rows to response dicts (explicit, so every field and query is visible)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count
from django.urls import reverse

from linia.tickets.models import Attachment, Contact, ContactIdentity, Event, Message, Ticket


def message_counts(ticket_ids: Iterable[int]) -> dict[int, int]:
    rows = (Message.objects.filter(ticket_id__in=list(ticket_ids)).values("ticket_id")
            .annotate(n=Count("id")).values_list("ticket_id", "n"))
    return dict(rows)


def ticket(t: Ticket, messages_count: int | None = None) -> dict[str, Any]:
    if messages_count is None:
        messages_count = t.messages.count()
    return {
        "id": t.pk, "reference": t.reference, "number": t.number, "subject": t.subject, "channel": t.channel,
        "status": t.status, "priority": t.priority, "category_id": t.category_id, "store_id": t.store_id,
        "department_id": t.department_id, "contact_id": t.contact_id, "assignee_id": t.assignee_id,
        "queue": t.queue, "language": t.language, "tags": sorted(tag.name for tag in t.tags.all()),
        "custom_fields": t.custom_fields or {}, "merged_into_id": t.merged_into_id,
        "messages_count": messages_count, "created_at": t.created_at, "updated_at": t.updated_at,
        "first_response_at": t.first_response_at, "solved_at": t.solved_at, "closed_at": t.closed_at,
    }


def tickets(rows: Sequence[Ticket]) -> list[dict[str, Any]]:
    counts = message_counts(t.pk for t in rows)
    return [ticket(t, counts.get(t.pk, 0)) for t in rows]


def attachment(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.pk, "message_id": a.message_id, "filename": a.filename, "content_type": a.content_type,
        "size": a.size, "sha256": a.sha256, "created_at": a.created_at,
        "download_url": reverse("api:attachment_download", kwargs={"attachment_id": a.pk}),
    }


def message(m: Message) -> dict[str, Any]:
    return {
        "id": m.pk, "ticket_id": m.ticket_id, "kind": m.kind, "direction": m.direction, "channel": m.channel,
        "author_user_id": m.author_user_id, "author_contact_id": m.author_contact_id, "body_text": m.body_text,
        "created_at": m.created_at, "attachments": [attachment(a) for a in m.attachments.all()],
    }


def event(e: Event) -> dict[str, Any]:
    return {"id": e.pk, "kind": e.kind, "ticket_id": e.ticket_id, "actor_id": e.actor_id, "data": e.data or {},
            "created_at": e.created_at}


def contact(c: Contact) -> dict[str, Any]:
    identities = list(c.identities.all())
    return {
        "id": c.pk, "name": c.name, "language": c.language, "note": c.note,
        "phones": [i.value for i in identities if i.kind == ContactIdentity.Kind.PHONE],
        "emails": [i.value for i in identities if i.kind == ContactIdentity.Kind.EMAIL],
        "created_at": c.created_at, "updated_at": c.updated_at,
    }
