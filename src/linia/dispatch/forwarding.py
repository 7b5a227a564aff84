"""Forwarding a ticket to one of the client's departments, and the department's reply coming back (actions).

``forward_to_department`` emails the department a summary (fields, the agent's note, the last customer
message, the customer's attachments) with Reply-To = ``reply_address(ticket, department)``, writes an
internal note (``external_id = "email:<forward Message-ID>"``, so a reply's In-Reply-To finds the ticket),
emits ``ticket.forwarded`` and moves the ticket to pending_client. ``on_department_reply`` (called by the
email intake, later by the portal) marks the reply as the client's and moves pending_client → open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from linia.core.errors import ActionError, NotFound
from linia.core.permissions import Perm, require
from linia.directory.models import Department, DepartmentKind
from linia.dispatch import outbox, rendering, tokens
from linia.dispatch.models import OutboundEmail
from linia.dispatch.outbound import EMAIL_PREFIX, _sender, signature
from linia.tickets import actions as ticket_actions
from linia.tickets import search, statuses
from linia.tickets.events import emit
from linia.tickets.models import (
    Attachment,
    Channel,
    ContactIdentity,
    Event,
    Interaction,
    Message,
    Status,
    Ticket,
)


def department_for(ticket: Ticket) -> Department | None:
    """The department to pre-select for a forward.

    The ticket's own department when set; else the regional office (kind "regional") whose region is the
    store's region; else the category's default department. Only active departments with an email.
    """
    usable = Department.objects.filter(tenant_id=ticket.tenant_id, is_active=True).exclude(email="")
    if ticket.department_id:
        found = usable.filter(pk=ticket.department_id).first()
        if found is not None:
            return found
    region = ticket.store.region.strip() if ticket.store_id and ticket.store else ""
    if region:
        found = usable.filter(kind=DepartmentKind.REGIONAL, region__iexact=region).order_by("id").first()
        if found is not None:
            return found
    if ticket.category_id and ticket.category and ticket.category.default_department_id:
        return usable.filter(pk=ticket.category.default_department_id).first()
    return None


def _local(ticket: Ticket, moment: datetime) -> str:
    """A time as the tenant's departments read it: in the tenant's time zone, with its abbreviation."""
    try:
        zone = ZoneInfo(ticket.tenant.time_zone or "UTC")
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _fields(ticket: Ticket, language: str) -> list[tuple[str, str]]:
    label = rendering.field_label
    rows = [(label("reference", language), ticket.reference), (label("subject", language), ticket.subject),
            (label("created", language), _local(ticket, ticket.created_at)),
            (label("channel", language), str(ticket.get_channel_display())),
            (label("priority", language), str(ticket.get_priority_display()))]
    if ticket.category_id and ticket.category:
        rows.append((label("category", language), ticket.category.localized_name(language)))
    if ticket.store_id and ticket.store:
        store = ticket.store
        rows.append((label("store", language), ", ".join(x for x in (store.code, store.name, store.address) if x)))
    if ticket.contact_id and ticket.contact:
        rows.append((label("customer", language), ticket.contact.name))
        for kind, value in ticket.contact.identities.values_list("kind", "value"):
            key = "phone" if kind == ContactIdentity.Kind.PHONE else "email"
            rows.append((label(key, language), value))
    for key, value in sorted((ticket.custom_fields or {}).items()):
        if value not in (None, "", [], {}):
            rows.append((str(key), ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
    return rows


def _customer_attachments(ticket: Ticket) -> list[Attachment]:
    """The customer's attachments (inbound public messages), unique by content, within the size budget."""
    budget = int(getattr(settings, "LINIA_FORWARD_ATTACHMENTS_MAX_BYTES", 20 * 1024 * 1024))
    chosen: list[Attachment] = []
    seen: set[str] = set()
    for attachment in Attachment.objects.filter(
            tenant_id=ticket.tenant_id, message__ticket_id=ticket.pk, message__kind=Message.Kind.PUBLIC,
            message__direction=Message.Direction.INBOUND).order_by("id"):
        if attachment.sha256 in seen or attachment.size > budget:
            continue
        seen.add(attachment.sha256)
        budget -= attachment.size
        chosen.append(attachment)
    return chosen


def forward_to_department(actor: Any, ticket: Ticket, department: Department | int, note: str = "") -> Message:
    """Email the ticket to a department of the tenant; its reply comes back into the ticket."""
    if actor is not None:
        require(actor, Perm.TICKETS_CHANGE, ticket.tenant_id)
    department_id = department if isinstance(department, int) else department.pk
    dept = Department.objects.filter(tenant_id=ticket.tenant_id, pk=department_id).first()
    if dept is None:
        raise NotFound("department")
    if not dept.is_active or not dept.email:
        raise ActionError("department_no_email", "This department has no email address.",
                          {"department": ["no email address"]})
    with transaction.atomic():
        ticket = (Ticket.objects.select_for_update(of=("self",)).select_related("tenant", "contact", "store", "category")
                  .get(pk=ticket.pk))
        if ticket.status in (Status.CLOSED,) or ticket.merged_into_id:
            raise ActionError("ticket_closed", "The ticket is closed; open a new one.")
        if ticket.status != Status.PENDING_CLIENT and not statuses.allowed(
                ticket.tenant.settings, ticket.status, Status.PENDING_CLIENT):
            raise ActionError("invalid_transition",
                              f"A ticket cannot go from {ticket.status} to {Status.PENDING_CLIENT}.",
                              {"status": [f"not allowed from {ticket.status}"]})
        language = rendering.language_of(ticket.tenant.default_language)
        last = (Message.objects.filter(ticket_id=ticket.pk, kind=Message.Kind.PUBLIC,
                                       direction=Message.Direction.INBOUND).order_by("-id").first())
        attachments = _customer_attachments(ticket)
        subject, body = rendering.forward(
            language, reference=ticket.reference, subject=ticket.subject, note=note, fields=_fields(ticket, language),
            last_message=last.body_text if last else "",
            last_message_at=_local(ticket, last.created_at) if last else "",
            attachment_names=[a.filename for a in attachments], signature=signature(ticket, language))
        address, from_header = _sender(ticket)
        msgid = outbox.new_msgid(address)
        note_text = (note.strip() + "\n\n" if note.strip() else "") + f"→ {dept.name} <{dept.email}>"
        message = ticket_actions.add_message(actor, ticket, body=note_text, kind=Message.Kind.NOTE,
                                             direction=Message.Direction.OUTBOUND, channel=Channel.EMAIL,
                                             external_id=f"{EMAIL_PREFIX}{msgid}")
        row = outbox.queue(
            tenant_id=ticket.tenant_id, kind=OutboundEmail.Kind.FORWARD, ticket=ticket, message=message,
            department=dept, from_email=from_header, to=[dept.email], reply_to=tokens.reply_address(ticket, dept),
            subject=subject, body_text=body.text, body_html=body.html,
            attachment_ids=[a.pk for a in attachments], msgid=msgid,
            headers={"X-Linia-Ticket": ticket.reference, "Auto-Submitted": "auto-generated"})
        if ticket.status != Status.PENDING_CLIENT:
            ticket_actions.change_status(actor, ticket, Status.PENDING_CLIENT)
        if ticket.department_id != dept.pk:
            ticket_actions.update_ticket(actor, ticket, department=dept)
        emit(ticket.tenant_id, "ticket.forwarded", ticket=ticket, actor=actor,
             data={"department_id": dept.pk, "department": dept.name, "to": dept.email, "outbound_id": row.pk,
                   "message_id": message.pk, "note": note.strip()[:500]})
    return message


def _is_automatic(message: Message) -> bool:
    """Ingestion records auto-replies/out-of-office on the message's interaction (read from the database:
    the caller's message object may predate the link)."""
    data = Interaction.objects.filter(messages__pk=message.pk).values_list("data", flat=True).first()
    return bool(isinstance(data, dict) and data.get("is_auto"))


def on_department_reply(ticket: Ticket, message: Message, *, department_id: int | None = None) -> bool:
    """A department answered a forward (email reply to its token address, or the portal).

    Automatic mail (an out-of-office to the token address) changes nothing. Otherwise the message
    becomes the client's reply: an internal (note) inbound message, which customers never see;
    ``ticket.client_replied`` is emitted and pending_client → open. Idempotent per message (ingestion may
    run again after a crash). Returns False when the message was already handled.
    """
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("tenant").get(pk=ticket.pk)
        if message.ticket_id != ticket.pk or message.tenant_id != ticket.tenant_id:
            raise NotFound("message")
        if _is_automatic(message):  # a department's out-of-office is no answer: the ticket keeps waiting
            return False
        if Event.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, kind="ticket.client_replied",
                                data__message_id=message.pk).exists():
            return False
        if department_id is None:
            department_id = (OutboundEmail.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk,
                                                          kind=OutboundEmail.Kind.FORWARD)
                             .order_by("-id").values_list("department_id", flat=True).first())
        Message.objects.filter(pk=message.pk).filter(~Q(kind=Message.Kind.NOTE)).update(kind=Message.Kind.NOTE)
        emit(ticket.tenant_id, "ticket.client_replied", ticket=ticket,
             data={"message_id": message.pk, "department_id": department_id})
        if ticket.status == Status.PENDING_CLIENT and statuses.allowed(ticket.tenant.settings, ticket.status,
                                                                       Status.OPEN):
            ticket.status = Status.OPEN
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=["status", "updated_at"])
            emit(ticket.tenant_id, "ticket.status_changed", ticket=ticket,
                 data={"from": Status.PENDING_CLIENT, "to": Status.OPEN, "reason": "client_reply"})
            search.index_ticket(ticket)
    return True
