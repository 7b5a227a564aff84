"""Email to customers (actions): an agent's reply, the acknowledgement of a new email ticket, retrying a send.

Every email Message stores its Message-ID as ``external_id = "email:<id>"``; replies thread on the
customer's last inbound one (In-Reply-To) and the ticket's earlier ids (References), carry the ticket tag
``[SPR-000123]`` in the subject and a reply-token address (Reply-To), so a customer's answer comes back
into the ticket whichever of the three their mail client keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from linia.core.errors import ActionError, NotFound
from linia.core.permissions import Perm, require
from linia.dispatch import outbox, rendering, tokens
from linia.dispatch.models import OutboundEmail
from linia.tickets import actions as ticket_actions
from linia.tickets.events import emit
from linia.tickets.models import Channel, ContactIdentity, Message, Ticket

EMAIL_PREFIX = "email:"
ACK_LIMIT_PER_HOUR = 3


def email_id(message: Message) -> str | None:
    value = message.external_id or ""
    return value[len(EMAIL_PREFIX):] if value.startswith(EMAIL_PREFIX) else None


def replies_by_email(ticket: Ticket) -> bool:
    """Public replies on this ticket go out as email (tickets that came in by email)."""
    return ticket.channel == Channel.EMAIL


def language_for(ticket: Ticket) -> str:
    contact_language = ticket.contact.language if ticket.contact_id and ticket.contact else ""
    return rendering.language_of(ticket.language, contact_language, ticket.tenant.default_language)


def signature(ticket: Ticket, language: str) -> str:
    return rendering.signature_for(ticket.tenant.settings.get("email_signature"), language,
                                   ticket.tenant.default_language)


def customer_address(ticket: Ticket) -> str | None:
    """Where the customer's mail came from: the last inbound email's From, else the contact's email."""
    try:
        from linia.intake.email.models import InboundEmail

        last = (InboundEmail.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, is_auto=False,
                                            message__direction=Message.Direction.INBOUND,
                                            message__kind=Message.Kind.PUBLIC)
                .exclude(from_email="").order_by("-id").values_list("from_email", flat=True).first())
        if last:
            return last.lower()
    except ImportError:
        pass
    if ticket.contact_id is None:
        return None
    identities = ContactIdentity.objects.filter(tenant_id=ticket.tenant_id, contact_id=ticket.contact_id,
                                                kind=ContactIdentity.Kind.EMAIL).order_by("is_failing", "id")
    return identities.values_list("value", flat=True).first()


def _thread(ticket: Ticket) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for a reply to the customer: their last email and the public thread."""
    rows = [(ext or "", direction) for ext, direction in Message.objects.filter(
        ticket_id=ticket.pk, kind=Message.Kind.PUBLIC, external_id__startswith=EMAIL_PREFIX)
        .order_by("id").values_list("external_id", "direction")]
    ids = [ext[len(EMAIL_PREFIX):] for ext, _direction in rows]
    inbound = [ext[len(EMAIL_PREFIX):] for ext, direction in rows if direction == Message.Direction.INBOUND]
    in_reply_to = inbound[-1] if inbound else (ids[-1] if ids else "")
    return in_reply_to, rendering.thread_references(ids)


def _sender(ticket: Ticket) -> tuple[str, str]:
    from email.utils import formataddr

    address, name = tokens.mailbox_address(ticket)
    return address, formataddr((rendering.one_line(name, 100), address)) if name else address


def send_reply(actor: Any, ticket: Ticket, *, body: str,
               attachments: Sequence[ticket_actions.NewAttachment] = ()) -> Message:
    """An agent's public reply: stored on the ticket and sent to the customer by email (from the outbox)."""
    if actor is not None:
        require(actor, Perm.TICKETS_CHANGE, ticket.tenant_id)
    ticket = Ticket.objects.select_related("tenant", "contact").get(pk=ticket.pk)
    to = customer_address(ticket)
    if not to:
        raise ActionError("no_recipient", "The customer has no email address to reply to.",
                          {"body": ["no customer email address"]})
    address, from_header = _sender(ticket)
    msgid = outbox.new_msgid(address)
    with transaction.atomic():
        in_reply_to, references = _thread(ticket)
        message = ticket_actions.add_message(actor, ticket, body=body, kind=Message.Kind.PUBLIC,
                                             direction=Message.Direction.OUTBOUND, channel=Channel.EMAIL,
                                             attachments=attachments, external_id=f"{EMAIL_PREFIX}{msgid}")
        language = language_for(ticket)
        rendered = rendering.with_signature(body, signature(ticket, language))
        row = outbox.queue(
            tenant_id=ticket.tenant_id, kind=OutboundEmail.Kind.REPLY, ticket=ticket, message=message,
            from_email=from_header, to=[to], reply_to=tokens.reply_address(ticket),
            subject=rendering.reply_subject(ticket.subject, ticket.reference),
            body_text=rendered.text, body_html=rendered.html,
            attachment_ids=list(message.attachments.order_by("id").values_list("pk", flat=True)),
            msgid=msgid, in_reply_to=in_reply_to, references=" ".join(references),
            headers={"X-Linia-Ticket": ticket.reference})
        emit(ticket.tenant_id, "email.queued", ticket=ticket, actor=actor,
             data={"outbound_id": row.pk, "kind": row.kind, "to": [to], "message_id": message.pk})
    return message


def _own_addresses(tenant_id: int) -> set[str]:
    """Addresses Linia itself receives or forwards to: never acknowledged (mail loops)."""
    from linia.directory.models import Department

    own = {a.lower() for a in Department.objects.filter(tenant_id=tenant_id).exclude(email="")
           .values_list("email", flat=True)}
    try:
        from linia.intake.email.models import Mailbox

        own |= set(Mailbox.objects.values_list("address", flat=True))
    except ImportError:
        pass
    return own


def acknowledge_new_ticket(ticket: Ticket, inbound_message: Message | None, parsed_is_auto: bool, *,
                           to: str | None = None) -> OutboundEmail | None:
    """Queue the automatic "we received your message [SPR-000123]" for a new email ticket.

    Never for automatic mail (auto-replies, out-of-office, bounces, lists), never to Linia's own
    mailboxes or the tenant's departments, at most ``email_ack.max_per_hour`` (default 3) per sender and
    hour, and not when the tenant turned it off (Tenant.settings["email_ack"]["enabled"] = false). It carries
    the customer's private ticket page link unless Tenant.settings["email_ack"]["link"] = false.
    Returns the outbox row, or None when nothing is sent. Call inside or after the ingest transaction.
    """
    if parsed_is_auto:
        return None
    ticket = Ticket.objects.select_related("tenant", "contact").get(pk=ticket.pk)
    config = ticket.tenant.settings.get("email_ack")
    config = config if isinstance(config, dict) else {}
    if config.get("enabled", True) is False:
        return None
    to = (to or customer_address(ticket) or "").strip().lower()
    if not to or "@" not in to or to in _own_addresses(ticket.tenant_id):
        return None
    limit = int(config.get("max_per_hour", ACK_LIMIT_PER_HOUR))
    with transaction.atomic():
        since = timezone.now() - timedelta(hours=1)
        recent = OutboundEmail.objects.filter(tenant_id=ticket.tenant_id, kind=OutboundEmail.Kind.ACK,
                                              recipient=to, created_at__gte=since).count()
        if recent >= limit:
            emit(ticket.tenant_id, "email.ack_suppressed", ticket=ticket,
                 data={"to": to, "reason": "rate_limit", "limit_per_hour": limit})
            return None
        language = language_for(ticket)
        inbound_id = email_id(inbound_message) if inbound_message is not None else None
        name = ticket.contact.name if ticket.contact_id and ticket.contact else ""
        # A new private link per acknowledgement (only its hash is stored): the customer follows the ticket there.
        link = ticket_actions.issue_customer_link(ticket) if config.get("link", True) is not False else ""
        subject, body = rendering.acknowledgement(
            config.get("templates"), language, reference=ticket.reference, subject=ticket.subject, name=name,
            tenant=ticket.tenant.name, signature=signature(ticket, language), link=link)
        address, from_header = _sender(ticket)
        row = outbox.queue(
            tenant_id=ticket.tenant_id, kind=OutboundEmail.Kind.ACK, ticket=ticket, message=inbound_message,
            from_email=from_header, to=[to], reply_to=tokens.reply_address(ticket), subject=subject,
            body_text=body.text, body_html=body.html, msgid=outbox.new_msgid(address),
            in_reply_to=inbound_id or "", references=inbound_id or "",
            headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All",
                     "X-Linia-Ticket": ticket.reference})
        emit(ticket.tenant_id, "email.queued", ticket=ticket,
             data={"outbound_id": row.pk, "kind": row.kind, "to": [to]})
    return row


def ticket_for_msgid(tenant_id: int, msgid: str) -> int | None:
    """The ticket an outgoing Message-ID (e.g. of an acknowledgement, which has no Message row) belongs to."""
    return (OutboundEmail.objects.filter(tenant_id=tenant_id, msgid=msgid.strip().strip("<>"))
            .values_list("ticket_id", flat=True).first())


def retry_outbound(actor: Any, ticket: Ticket, outbound_id: int) -> OutboundEmail:
    """An agent's "retry now" for a failed or dead email of this ticket."""
    if actor is not None:
        require(actor, Perm.TICKETS_CHANGE, ticket.tenant_id)
    with transaction.atomic():
        row = (OutboundEmail.objects.select_for_update()
               .filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, pk=outbound_id).first())
        if row is None:
            raise NotFound("email")
        if row.status not in (OutboundEmail.Status.FAILED, OutboundEmail.Status.DEAD):
            raise ActionError("not_failed", "This email is not failing.")
        outbox.requeue([row])
        emit(ticket.tenant_id, "email.retry", ticket=ticket, actor=actor, data={"outbound_id": row.pk})
        transaction.on_commit(lambda: outbox.wake(row.pk))
    row.refresh_from_db()
    return row


def failing_emails(ticket: Ticket) -> list[OutboundEmail]:
    """Emails of this ticket that did not go out (yet): shown on the ticket view."""
    return list(OutboundEmail.objects.filter(
        tenant_id=ticket.tenant_id, ticket_id=ticket.pk,
        status__in=[OutboundEmail.Status.FAILED, OutboundEmail.Status.DEAD]).order_by("id"))
