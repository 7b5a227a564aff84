"""Filing a web form submission: contact, ticket with the fields and files, routing task (when the form names a
queue), private link and the email, in one transaction (a failure anywhere writes nothing). A repeated submission
id returns the first ticket and creates nothing."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linia.core.errors import ActionError
from linia.dispatch import outbox, rendering, tokens
from linia.dispatch.models import OutboundEmail
from linia.dispatch.outbound import signature
from linia.intake.webform.definition import Field
from linia.intake.webform.models import ROUTING_CHANNEL, Submission, WebForm
from linia.intake.webform.validation import Cleaned
from linia.tickets import actions as ticket_actions
from linia.tickets.events import emit
from linia.tickets.models import Channel, Ticket

EXTERNAL_PREFIX = "webform:"
NAME_FIELDS = ("name", "full_name", "your_name")
EMAILS_PER_HOUR = 5
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\}")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filed:
    ticket: Ticket
    link: str  # the customer's private ticket page
    created: bool  # False: a repeated submission, the first one's ticket


def submit(form: WebForm, fields: list[Field], cleaned: Cleaned, *, submission_id: str, language: str,
           ip: str = "") -> Filed:
    """File the checked submission (cleaned.errors must be empty). Raises ActionError when the ticket's
    category rejects the values (its fields map to the form's fields)."""
    try:
        return _submit(form, fields, cleaned, submission_id=submission_id, language=language, ip=ip)
    except IntegrityError:
        # A parallel request with the same submission id won the race: answer with its ticket.
        again = _repeat(form, submission_id)
        if again is None:
            raise
        return again


def _repeat(form: WebForm, submission_id: str) -> Filed | None:
    done = (Submission.objects.filter(tenant_id=form.tenant_id, form=form, submission_id=submission_id)
            .select_related("ticket").first())
    if done is None or done.ticket is None:
        return None
    return Filed(done.ticket, ticket_actions.issue_customer_link(done.ticket), created=False)


def _submit(form: WebForm, fields: list[Field], cleaned: Cleaned, *, submission_id: str, language: str,
            ip: str) -> Filed:
    tenant = form.tenant
    with transaction.atomic():
        again = _repeat(form, submission_id)
        if again is not None:
            return again
        contact = _contact(form, fields, cleaned, language)
        stores = list(cleaned.stores.values())
        ticket, _message = ticket_actions.create_ticket_with_message(
            None, tenant, subject=_subject(form, fields, cleaned), channel=Channel.WEBFORM,
            body=_body(form, fields, cleaned), category=form.category_id, store=stores[0] if stores else None,
            department=form.department_id, contact=contact, custom_fields=cleaned.values, language=language,
            queue=form.queue, attachments=[u.attachment for u in cleaned.uploads],
            external_id=f"{EXTERNAL_PREFIX}{submission_id}")
        Submission.objects.create(tenant=tenant, form=form, submission_id=submission_id, ticket=ticket,
                                  language=language, ip=ip[:64], created_at=timezone.now())
        emit(tenant.pk, "webform.submitted", ticket=ticket,
             data={"form_id": form.pk, "form_key": form.public_key, "submission_id": submission_id,
                   "attachments": len(cleaned.uploads)})
        if form.queue:
            _route(form, ticket, submission_id)
        link = ticket_actions.issue_customer_link(ticket)
        email = next((cleaned.values[f.name] for f in fields if f.kind == "email" and f.name in cleaned.values), "")
        if email and _may_email(ticket, str(email)):
            _queue_confirmation(ticket, str(email), link, language)
    return Filed(ticket, link, created=True)


def _route(form: WebForm, ticket: Ticket, submission_id: str) -> None:
    """A routing task for the new ticket, committed with it (the routing ticker offers it to an agent). The
    external id makes it once per submission."""
    from linia.routing import actions as routing

    try:
        with transaction.atomic():  # a refusal rolls back only the task, never the ticket
            routing.create_intake_task(form.tenant_id, channel=ROUTING_CHANNEL, queue=form.queue,
                                       language=ticket.language, external_id=f"{EXTERNAL_PREFIX}{submission_id}",
                                       ticket=ticket, attributes={"reference": ticket.reference,
                                                                  "form": form.public_key,
                                                                  "subject": ticket.subject[:200],
                                                                  "language": ticket.language})
    except ActionError as exc:  # a queue renamed, closed or not serving "ticket": the ticket stands, logged
        log.warning("web form %s: no routing task for %s: %s (%s)", form.public_key, ticket.reference, exc.code,
                    exc.message)


def _contact(form: WebForm, fields: list[Field], cleaned: Cleaned, language: str) -> Any:
    values = cleaned.values
    phones = [str(values[f.name]) for f in fields if f.kind == "phone" and f.name in values]
    emails = [str(values[f.name]) for f in fields if f.kind == "email" and f.name in values]
    name = next((str(values[n]) for n in NAME_FIELDS if isinstance(values.get(n), str)), "")
    if not (phones or emails or name):
        return None
    return ticket_actions.find_or_create_contact(None, form.tenant, name=name, phones=phones, emails=emails,
                                                 language=language)


def display(f: Field, value: Any, language: str) -> str:
    """A value as a person reads it (choice labels, "2 × Margherita", yes)."""
    if f.kind == "choice":
        return f.option_label(str(value), language)
    if f.kind == "multichoice":
        return ", ".join(f.option_label(str(v), language) for v in value)
    if f.kind == "quantities":
        return ", ".join(f"{item['qty']} × {f.option_label(str(item['name']), language)}" for item in value)
    if f.kind == "consent":
        return _("yes") if value else _("no")
    if f.kind == "datetime":
        return str(value).replace("T", " ")
    return str(value)


def _store_text(cleaned: Cleaned, f: Field) -> str | None:
    store = cleaned.stores.get(f.name)
    return f"{store.code} {store.name}, {store.address or store.city}" if store is not None else None


def _subject(form: WebForm, fields: list[Field], cleaned: Cleaned) -> str:
    language = form.default_language or form.tenant.default_language
    title = form.text("titles", language, form.name)
    template = form.subject.strip()
    if not template:
        return title
    by_name = {f.name: f for f in fields}

    def fill(match: re.Match[str]) -> str:
        f = by_name.get(match.group(1))
        if f is None or f.name not in cleaned.values:
            return ""
        if f.kind == "store":
            store = cleaned.stores.get(f.name)
            return f"{store.code} {store.name}" if store is not None else ""
        return rendering.one_line(display(f, cleaned.values[f.name], language), 80)

    return rendering.one_line(_PLACEHOLDER.sub(fill, template), 300).strip() or title


def _body(form: WebForm, fields: list[Field], cleaned: Cleaned) -> str:
    """The submission as "Label: value" lines in the tenant's language (agents read it)."""
    language = form.default_language or form.tenant.default_language
    lines = []
    with translation.override(language):
        lines.append(_("Web form: %(name)s") % {"name": form.text("titles", language, form.name)})
        lines.append("")
        for f in fields:
            if f.name not in cleaned.values:
                continue
            value = _store_text(cleaned, f) if f.kind == "store" else display(f, cleaned.values[f.name], language)
            if f.kind == "textarea":
                lines.append(f"{f.label(language)}:\n{value}")
            else:
                lines.append(f"{f.label(language)}: {value}")
    return "\n".join(lines)


def _may_email(ticket: Ticket, to: str) -> bool:
    """At most EMAILS_PER_HOUR confirmations to one address: a form must not become a way to flood someone's
    mailbox (the ticket is still filed and the page still shows the link)."""
    since = timezone.now() - timedelta(hours=1)
    recent = OutboundEmail.objects.filter(tenant_id=ticket.tenant_id, kind=OutboundEmail.Kind.ACK,
                                          recipient=to.lower(), created_at__gte=since).count()
    if recent < EMAILS_PER_HOUR:
        return True
    emit(ticket.tenant_id, "email.ack_suppressed", ticket=ticket,
         data={"to": to, "reason": "rate_limit", "limit_per_hour": EMAILS_PER_HOUR})
    return False


def _queue_confirmation(ticket: Ticket, to: str, link: str, language: str) -> OutboundEmail:
    """The customer's copy of the ticket number and the private link, in the language they used."""
    ticket = Ticket.objects.select_related("tenant", "contact").get(pk=ticket.pk)
    address, name = tokens.mailbox_address(ticket)
    with translation.override(language):
        subject = rendering.tagged_subject(_("We received your request: %(subject)s") % {"subject": ticket.subject},
                                           ticket.reference)
        text = "\n\n".join([
            _("Hello,"),
            _("thank you for your request. Its number is %(reference)s.") % {"reference": ticket.reference},
            _("Follow its progress, add information or files on your private page:\n%(link)s") % {"link": link},
            _("Please do not share this link: anyone who has it can see your request."),
            ticket.tenant.name,
        ])
    body = rendering.with_signature(text, signature(ticket, language))
    row = outbox.queue(
        tenant_id=ticket.tenant_id, kind=OutboundEmail.Kind.ACK, ticket=ticket,
        from_email=formataddr((rendering.one_line(name, 100), address)) if name else address, to=[to],
        reply_to=tokens.reply_address(ticket), subject=subject, body_text=body.text, body_html=body.html,
        msgid=outbox.new_msgid(address),
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All",
                 "X-Linia-Ticket": ticket.reference})
    emit(ticket.tenant_id, "email.queued", ticket=ticket, data={"outbound_id": row.pk, "kind": row.kind, "to": [to]})
    return row
