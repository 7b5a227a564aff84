"""Every ticket state change: one transaction that checks permission, changes state and writes the event."""

from __future__ import annotations

import functools
import hashlib
import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

import jsonschema
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from linia.core import audit, fastsql
from linia.core.errors import ActionError, Conflict, NotFound
from linia.core.models import Tenant
from linia.core.permissions import Perm, require, scope_tickets
from linia.directory.models import Category, Department, Store
from linia.tickets import search, statuses
from linia.tickets.contacts import REGION_BY_LANGUAGE, normalize_email, normalize_phone
from linia.tickets.events import emit
from linia.tickets.models import (
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    Message,
    Priority,
    Status,
    Tag,
    Ticket,
    TicketCounter,
)
from linia.tickets.numbering import format_reference
from linia.tickets.schema_errors import humanize


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    data: bytes
    content_type: str = ""


def _check_perm(actor: Any, perm: Perm, tenant: Tenant | int) -> None:
    if actor is not None:  # None = the system itself (intake adapters, imports)
        require(actor, perm, tenant)


# --- contacts ---------------------------------------------------------------------------------

def _normalized_identities(tenant: Tenant, phones: Iterable[str], emails: Iterable[str]) -> list[tuple[str, str]]:
    region = REGION_BY_LANGUAGE.get(tenant.default_language, "RU")
    errors: dict[str, list[str]] = {}
    found: list[tuple[str, str]] = []
    for raw in phones:
        if raw and raw.strip():
            try:
                found.append((ContactIdentity.Kind.PHONE, normalize_phone(raw, region)))
            except ValueError as exc:
                errors.setdefault("phones", []).append(str(exc))
    for raw in emails:
        if raw and raw.strip():
            try:
                found.append((ContactIdentity.Kind.EMAIL, normalize_email(raw)))
            except ValueError as exc:
                errors.setdefault("emails", []).append(str(exc))
    if errors:
        raise ActionError("invalid_contact", "Check the phone numbers and email addresses.", errors)
    return found


def find_or_create_contact(actor: Any, tenant: Tenant, *, name: str = "", phones: Sequence[str] = (),
                           emails: Sequence[str] = (), language: str = "") -> Contact:
    """The tenant's contact with any of these phones/emails, else a new one; adds missing identities."""
    _check_perm(actor, Perm.CONTACTS_CHANGE, tenant)
    identities = _normalized_identities(tenant, phones, emails)
    with transaction.atomic():
        contact = _contact_with(tenant, identities)
        if contact is None and identities:
            try:
                # A savepoint: when a parallel transaction creates the same identity first, this contact
                # and its event vanish with it (no orphan), and the winner's contact is used below.
                with transaction.atomic():
                    contact = Contact.objects.create(tenant=tenant, name=name.strip()[:200], language=language)
                    ContactIdentity.objects.bulk_create([
                        ContactIdentity(tenant=tenant, contact=contact, kind=kind, value=value)
                        for kind, value in dict.fromkeys(identities)])
                    emit(tenant.pk, "contact.created", actor=actor, data={"contact_id": contact.pk})
                return contact
            except IntegrityError:
                contact = _contact_with(tenant, identities)
        if contact is None:  # no identities at all (or the winner's row vanished again): a contact of its own
            contact = Contact.objects.create(tenant=tenant, name=name.strip()[:200], language=language)
            emit(tenant.pk, "contact.created", actor=actor, data={"contact_id": contact.pk})
        elif name and not contact.name:
            contact.name = name.strip()[:200]
            contact.save(update_fields=["name", "updated_at"])
        for kind, value in identities:
            ContactIdentity.objects.get_or_create(tenant=tenant, kind=kind, value=value,
                                                  defaults={"contact": contact})
    return contact


def _contact_with(tenant: Tenant, identities: Sequence[tuple[str, str]]) -> Contact | None:
    for kind, value in identities:
        contact = contact_with_identity(tenant.pk, kind, value)
        if contact is not None:
            return contact
    return None


def contact_with_identity(tenant_id: int, kind: str, value: str) -> Contact | None:
    """The tenant's contact with this (normalized) phone or email, as one raw statement: intake looks a
    sender up on every message, and compiling the ORM query cost several times more than running it."""
    quote = connection.ops.quote_name
    found = list(Contact.objects.raw(
        f"SELECT c.* FROM {quote(Contact._meta.db_table)} c JOIN {quote(ContactIdentity._meta.db_table)} i "  # noqa: S608
        "ON i.contact_id = c.id WHERE i.tenant_id = %s AND i.kind = %s AND i.value = %s AND c.tenant_id = %s "
        "ORDER BY i.id LIMIT 1", [tenant_id, kind, value, tenant_id]))
    return found[0] if found else None


def update_contact(actor: Any, contact: Contact, *, name: str | None = None, language: str | None = None,
                   note: str | None = None, phones: Sequence[str] | None = None,
                   emails: Sequence[str] | None = None) -> Contact:
    """Change a contact; phones/emails, when given, replace the stored ones (None leaves them)."""
    if actor is not None:
        require(actor, Perm.CONTACTS_CHANGE, contact.tenant_id)
    tenant = contact.tenant
    wanted = _normalized_identities(tenant, phones or [], emails or [])
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        before = {"name": contact.name, "language": contact.language, "note": contact.note}
        if name is not None:
            contact.name = name.strip()[:200]
        if language is not None:
            contact.language = language
        if note is not None:
            contact.note = note
        contact.save()
        changed_ids = _replace_identities(contact, wanted, kinds=_kinds(phones, emails))
        diff = audit.diff(before, {"name": contact.name, "language": contact.language, "note": contact.note})
        if diff or changed_ids:
            emit(contact.tenant_id, "contact.updated", actor=actor,
                 data={"contact_id": contact.pk, "changes": diff, "identities_changed": changed_ids})
            if actor is not None:
                audit.record(actor, "update", contact, changes=diff)
    return contact


def _kinds(phones: Sequence[str] | None, emails: Sequence[str] | None) -> set[str]:
    kinds = set()
    if phones is not None:
        kinds.add(ContactIdentity.Kind.PHONE.value)
    if emails is not None:
        kinds.add(ContactIdentity.Kind.EMAIL.value)
    return kinds


def _replace_identities(contact: Contact, wanted: list[tuple[str, str]], *, kinds: set[str]) -> bool:
    if not kinds:
        return False
    taken = (ContactIdentity.objects.filter(tenant_id=contact.tenant_id)
             .exclude(contact=contact).filter(value__in=[v for _k, v in wanted]))
    clash = [i.value for i in taken if (i.kind, i.value) in set(wanted)]
    if clash:
        raise Conflict("identity_taken", "Another contact already has this phone or email; merge them instead.",
                       {"phones" if "@" not in clash[0] else "emails": [f"{v} belongs to another contact" for v in clash]})
    current = {(i.kind, i.value): i for i in contact.identities.filter(kind__in=kinds)}
    target = {(k, v) for k, v in wanted if k in kinds}
    removed = [i.pk for key, i in current.items() if key not in target]
    ContactIdentity.objects.filter(pk__in=removed).delete()
    added = [ContactIdentity(tenant_id=contact.tenant_id, contact=contact, kind=k, value=v)
             for k, v in sorted(target - set(current))]
    ContactIdentity.objects.bulk_create(added)
    return bool(removed or added)


# --- tickets ----------------------------------------------------------------------------------

def _next_number(tenant: Tenant) -> int:
    """Atomic per-tenant counter: the UPDATE takes the row lock, so parallel writers never share a number."""
    if connection.features.can_return_columns_from_insert:  # UPDATE ... RETURNING: one round trip
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TicketCounter._meta.db_table} SET last_number = last_number + 1 "  # noqa: S608
                           "WHERE tenant_id = %s RETURNING last_number", [tenant.pk])
            row = cursor.fetchone()
        if row is not None:
            return int(row[0])
    TicketCounter.objects.get_or_create(tenant=tenant)
    TicketCounter.objects.filter(tenant=tenant).update(last_number=F("last_number") + 1)
    return TicketCounter.objects.values_list("last_number", flat=True).get(tenant=tenant)


def _owned(model: Any, tenant: Tenant, value: Any, field: str) -> Any:
    """Resolve an id (or instance) to the tenant's row; a foreign tenant's id reads as unknown."""
    if value is None or value == "":
        return None
    if isinstance(value, model) and value.pk is not None and value.tenant_id == tenant.pk:
        return value  # an instance our own code loaded: no need to read it again
    pk = value.pk if hasattr(value, "pk") else value
    obj = model.objects.filter(tenant=tenant, pk=pk).first()
    if obj is None:
        raise ActionError("invalid_reference", f"Unknown {field}.", {field: [f"no such {field}: {pk}"]})
    return obj


def validate_custom_fields(category: Category | None, values: dict[str, Any]) -> dict[str, Any]:
    schema = category.field_schema if category is not None else {}
    if not schema:
        return values
    validator = jsonschema.Draft202012Validator(schema)
    errors: dict[str, list[str]] = {}
    for err in validator.iter_errors(values):
        key = ".".join(str(p) for p in err.absolute_path) or (
            err.message.split("'")[1] if err.validator == "required" and "'" in err.message else "custom_fields")
        errors.setdefault(f"custom_fields.{key}" if key != "custom_fields" else key, []).append(humanize(err))
    if errors:
        raise ActionError("invalid_custom_fields", "Some fields of this category are missing or wrong.", errors)
    return values


@functools.cache
def _choice_values(choices: Any) -> frozenset[str]:
    return frozenset(choices.values)  # .values rebuilds a list of lazy labels on every access


def _check_choice(value: str, choices: Any, field: str) -> str:
    if not isinstance(value, str) or value not in _choice_values(choices):
        raise ActionError("invalid_value", f"Unknown {field} {value!r}.",
                          {field: [f"one of: {', '.join(choices.values)}"]})
    return value


def _set_tags(ticket: Ticket, names: Iterable[str]) -> None:
    clean = sorted({n.strip()[:60] for n in names if n and n.strip()})
    tags = [Tag.objects.get_or_create(tenant_id=ticket.tenant_id, name=n)[0] for n in clean]
    ticket.tags.set(tags)


def create_ticket(actor: Any, tenant: Tenant, *, subject: str, channel: str, body: str = "",
                  category: Any = None, store: Any = None, department: Any = None, contact: Any = None,
                  priority: str = Priority.NORMAL, custom_fields: dict[str, Any] | None = None,
                  tags: Sequence[str] = (), language: str = "", queue: str = "", assignee: Any = None,
                  attachments: Sequence[NewAttachment] = (), external_id: str | None = None,
                  body_html: str = "") -> Ticket:
    """Register a ticket with its first message; returns the existing ticket for a repeated external_id."""
    return create_ticket_with_message(
        actor, tenant, subject=subject, channel=channel, body=body, category=category, store=store,
        department=department, contact=contact, priority=priority, custom_fields=custom_fields, tags=tags,
        language=language, queue=queue, assignee=assignee, attachments=attachments, external_id=external_id,
        body_html=body_html)[0]


def create_ticket_with_message(
        actor: Any, tenant: Tenant, *, subject: str, channel: str, body: str = "", category: Any = None,
        store: Any = None, department: Any = None, contact: Any = None, priority: str = Priority.NORMAL,
        custom_fields: dict[str, Any] | None = None, tags: Sequence[str] = (), language: str = "",
        queue: str = "", assignee: Any = None, attachments: Sequence[NewAttachment] = (),
        external_id: str | None = None, body_html: str = "", external_id_is_new: bool = False,
) -> tuple[Ticket, Message | None]:
    """`create_ticket` that also returns the first message (None without body and attachments).

    external_id_is_new: the caller has just looked the external_id up in this transaction (intake
    adapters), so the look-up for a repeated one is skipped; the unique constraint still holds.
    """
    _check_perm(actor, Perm.TICKETS_CREATE, tenant)
    subject = (subject or "").strip()
    if not subject:
        raise ActionError("invalid_value", "Subject is required.", {"subject": ["required"]})
    _check_choice(channel, Channel, "channel")
    _check_choice(priority, Priority, "priority")
    if external_id and not external_id_is_new:
        existing = Message.objects.filter(tenant=tenant, external_id=external_id).select_related("ticket").first()
        if existing is not None:
            return existing.ticket, existing
    message = None
    with transaction.atomic():
        category_obj = _owned(Category, tenant, category, "category")
        store_obj = _owned(Store, tenant, store, "store")
        department_obj = _owned(Department, tenant, department, "department")
        contact_obj = _owned(Contact, tenant, contact, "contact")
        assignee_obj = _resolve_assignee(tenant, assignee)
        fields = validate_custom_fields(category_obj, dict(custom_fields or {}))
        if department_obj is None and category_obj is not None:
            department_obj = category_obj.default_department
        now = timezone.now()
        number = _next_number(tenant)
        ticket = fastsql.insert(Ticket(
            tenant=tenant, number=number, reference=format_reference(tenant.ticket_prefix, number),
            subject=subject[:300], channel=channel, priority=priority, category=category_obj, store=store_obj,
            department=department_obj, contact=contact_obj, custom_fields=fields,
            language=language or (contact_obj.language if contact_obj else "") or tenant.default_language,
            queue=queue, assignee=assignee_obj, created_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=now, updated_at=now,
        ))
        if tags:
            _set_tags(ticket, tags)
        emit(tenant.pk, "ticket.created", ticket=ticket, actor=actor, data=_snapshot(ticket))
        if body or attachments:
            message = _create_message(actor, ticket, body=body, kind=Message.Kind.PUBLIC,
                            direction=Message.Direction.INBOUND, channel=channel, author_contact=contact_obj,
                            attachments=attachments, external_id=external_id, body_html=body_html)
        search.index_ticket(ticket)
        if actor is not None:
            audit.record(actor, "create", ticket)
    return ticket, message


def _resolve_assignee(tenant: Tenant, assignee: Any) -> Any:
    if assignee is None or assignee == "":
        return None
    from linia.core.models import User

    pk = assignee.pk if hasattr(assignee, "pk") else assignee
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not (user.is_superuser or user.memberships.filter(tenant=tenant).exists()):
        raise ActionError("invalid_reference", "Unknown assignee.", {"assignee": [f"no such user: {pk}"]})
    return user


def _snapshot(ticket: Ticket) -> dict[str, Any]:
    return {
        "reference": ticket.reference, "subject": ticket.subject, "status": ticket.status,
        "priority": ticket.priority, "channel": ticket.channel, "category_id": ticket.category_id,
        "store_id": ticket.store_id, "department_id": ticket.department_id, "contact_id": ticket.contact_id,
        "assignee_id": ticket.assignee_id, "queue": ticket.queue,
    }


def get_ticket_for(actor: Any, tenant: Tenant | int, ticket_id: int, *, for_update: bool = False) -> Ticket:
    """The ticket if the actor may see it; otherwise NotFound (never reveal other tenants' tickets)."""
    qs = Ticket.objects.all()
    if for_update:
        qs = qs.select_for_update()
    if actor is not None:
        qs = scope_tickets(actor, tenant, qs)
    else:
        qs = qs.filter(tenant_id=tenant if isinstance(tenant, int) else tenant.pk)
    ticket = qs.filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound("ticket")
    return ticket


UPDATABLE = ("subject", "category", "store", "department", "priority", "assignee", "queue", "custom_fields", "tags")


def update_ticket(actor: Any, ticket: Ticket, **changes: Any) -> Ticket:
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ActionError("invalid_field", "These fields cannot be changed.", {f: ["not changeable"] for f in unknown})
    _check_perm(actor, Perm.TICKETS_CHANGE, ticket.tenant_id)
    tenant = ticket.tenant
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        before = _snapshot(ticket)
        if "subject" in changes:
            subject = (changes["subject"] or "").strip()
            if not subject:
                raise ActionError("invalid_value", "Subject is required.", {"subject": ["required"]})
            ticket.subject = subject[:300]
        if "priority" in changes:
            ticket.priority = _check_choice(changes["priority"], Priority, "priority")
        for field, model in (("category", Category), ("store", Store), ("department", Department)):
            if field in changes:
                setattr(ticket, field, _owned(model, tenant, changes[field], field))
        if "assignee" in changes:
            ticket.assignee = _resolve_assignee(tenant, changes["assignee"])
        if "queue" in changes:
            ticket.queue = str(changes["queue"] or "")[:60]
        if "custom_fields" in changes or "category" in changes:
            ticket.custom_fields = validate_custom_fields(
                ticket.category, dict(changes.get("custom_fields", ticket.custom_fields) or {}))
        ticket.updated_at = timezone.now()
        ticket.save()
        if "tags" in changes:
            _set_tags(ticket, changes["tags"] or [])
        after = _snapshot(ticket)
        diff = audit.diff(before, after)
        if diff or "tags" in changes or "custom_fields" in changes:
            emit(ticket.tenant_id, "ticket.updated", ticket=ticket, actor=actor, data={"changes": diff})
            if "assignee_id" in diff:
                emit(ticket.tenant_id, "ticket.assigned", ticket=ticket, actor=actor,
                     data={"assignee_id": ticket.assignee_id})
            if actor is not None:
                audit.record(actor, "update", ticket, changes=diff)
        search.index_ticket(ticket)
    return ticket


def change_status(actor: Any, ticket: Ticket, status: str) -> Ticket:
    _check_perm(actor, Perm.TICKETS_CHANGE, ticket.tenant_id)
    _check_choice(status, Status, "status")
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("tenant").get(pk=ticket.pk)
        old = ticket.status
        if old == status:
            return ticket
        if not statuses.allowed(ticket.tenant.settings, old, status):
            raise ActionError("invalid_transition", f"A ticket cannot go from {old} to {status}.",
                              {"status": [f"allowed from {old}: {', '.join(sorted(statuses.transitions(ticket.tenant.settings)[old])) or 'none'}"]})
        now = timezone.now()
        ticket.status = status
        ticket.updated_at = now
        if status == Status.SOLVED:
            ticket.solved_at = now
        elif status == Status.CLOSED:
            ticket.closed_at = now
            ticket.solved_at = ticket.solved_at or now
        elif old in (Status.SOLVED, Status.CLOSED):
            ticket.solved_at = None
            ticket.closed_at = None
        ticket.save(update_fields=["status", "updated_at", "solved_at", "closed_at"])
        emit(ticket.tenant_id, "ticket.status_changed", ticket=ticket, actor=actor, data={"from": old, "to": status})
        if actor is not None:
            audit.record(actor, "status", ticket, changes={"status": [old, status]})
    return ticket


# --- messages ---------------------------------------------------------------------------------

def add_message(actor: Any, ticket: Ticket, *, body: str, kind: str = Message.Kind.PUBLIC,
                direction: str | None = None, channel: str | None = None, author_contact: Contact | None = None,
                attachments: Sequence[NewAttachment] = (), external_id: str | None = None,
                body_html: str = "", reopen: bool = True, external_id_is_new: bool = False,
                source: str = "", savepoint: bool = True) -> Message:
    """Add a public reply or internal note; a repeated external_id returns the stored message.

    body_html, when given, must already be sanitised (the email intake keeps nh3-cleaned HTML).
    reopen=False keeps the status of a solved / pending-customer ticket (automatic mail such as an
    out-of-office reply is not the customer answering). external_id_is_new: as for
    `create_ticket_with_message` (the caller looked it up in this transaction). source: where the message
    was written when the channel does not say it (e.g. "ticket_page"), kept in the event for the timeline.
    savepoint=False (inside the caller's transaction): no savepoint of its own, two statements fewer; the caller
    must then not catch this function's errors and go on, as its transaction is marked for rollback.
    """
    _check_perm(actor, Perm.TICKETS_CHANGE, ticket.tenant_id)
    _check_choice(kind, Message.Kind, "kind")
    if not (body or "").strip() and not attachments:
        raise ActionError("invalid_value", "A message needs text or an attachment.", {"body": ["required"]})
    if external_id and not external_id_is_new:
        existing = Message.objects.filter(tenant_id=ticket.tenant_id, external_id=external_id).first()
        if existing is not None:
            return existing
    if direction is None:
        direction = Message.Direction.INTERNAL if kind == Message.Kind.NOTE else (
            Message.Direction.OUTBOUND if actor is not None else Message.Direction.INBOUND)
    with transaction.atomic(savepoint=savepoint):
        now = timezone.now()
        ticket = _touched_ticket(ticket.pk, now)  # locked; leaving with an error undoes the touch too
        if ticket.status == Status.CLOSED and direction == Message.Direction.INBOUND:
            raise ActionError("ticket_closed", "The ticket is closed; open a new one.")
        message = _create_message(actor, ticket, body=body, kind=kind, direction=direction,
                                  channel=channel or ticket.channel, author_contact=author_contact,
                                  attachments=attachments, external_id=external_id, body_html=body_html,
                                  source=source, created_at=now)
        fields: list[str] = []
        if kind == Message.Kind.PUBLIC and direction == Message.Direction.OUTBOUND and ticket.first_response_at is None:
            ticket.first_response_at = now
            fields.append("first_response_at")
        if reopen and direction == Message.Direction.INBOUND and ticket.status in (Status.PENDING_CUSTOMER,
                                                                                   Status.SOLVED):
            old = ticket.status
            ticket.status = Status.OPEN
            ticket.solved_at = None
            fields += ["status", "solved_at"]
            emit(ticket.tenant_id, "ticket.status_changed", ticket=ticket, actor=actor,
                 data={"from": old, "to": Status.OPEN, "reason": "customer_reply"})
        if fields:
            fastsql.save_fields(ticket, fields)
        search.add_message_text(ticket, body or "")
        if kind == Message.Kind.PUBLIC and direction == Message.Direction.OUTBOUND and actor is not None:
            from linia.routing.actions import record_first_response  # routing imports tickets

            record_first_response(actor, ticket, now)  # chat tasks of this ticket: first response time
    return message


def _touched_ticket(pk: int, now: datetime) -> Ticket:
    """Set the ticket's updated_at and read it back in one statement, which also takes its row lock (every
    message added does this first)."""
    table = fastsql.table(Ticket)
    row = fastsql.fetch_one(f"UPDATE {table} SET updated_at = %s WHERE id = %s "  # noqa: S608
                            f"RETURNING {fastsql.cols(Ticket, table)}", [fastsql.dt(now), pk])
    if row is None:
        raise Ticket.DoesNotExist(f"ticket {pk}")
    return fastsql.load(Ticket, row)


def _create_message(actor: Any, ticket: Ticket, *, body: str, kind: str, direction: str, channel: str,
                    author_contact: Contact | None, attachments: Sequence[NewAttachment],
                    external_id: str | None, body_html: str = "", source: str = "",
                    created_at: datetime | None = None) -> Message:
    message = fastsql.insert(Message(
        tenant_id=ticket.tenant_id, ticket=ticket, kind=kind, direction=direction, channel=channel,
        author_user=actor if getattr(actor, "is_authenticated", False) else None, author_contact=author_contact,
        body_text=body or "", body_html=body_html or "", external_id=external_id or None,
        created_at=created_at or timezone.now(),
    ))
    for item in attachments:
        _store_attachment(message, item)
    data = {"message_id": message.pk, "kind": kind, "direction": direction, "channel": channel,
            "attachments": len(attachments)}
    if source:
        data["source"] = source
    emit(ticket.tenant_id, "message.created", ticket=ticket, actor=actor, data=data)
    return message


def check_attachment(item: NewAttachment) -> str:
    """Validate size and type; returns the content type to store."""
    name = PurePath(item.filename or "").name.strip()
    if not name:
        raise ActionError("invalid_attachment", "An attachment needs a file name.", {"attachments": ["no name"]})
    if len(item.data) > settings.LINIA_ATTACHMENT_MAX_BYTES:
        limit_mb = settings.LINIA_ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise ActionError("attachment_too_large", f"{name} is larger than {limit_mb} MB.",
                          {"attachments": [f"{name}: over {limit_mb} MB"]})
    if PurePath(name).suffix.lower() in settings.LINIA_ATTACHMENT_BLOCKED_EXTENSIONS:
        raise ActionError("attachment_type", f"Files of type {PurePath(name).suffix} are not accepted.",
                          {"attachments": [f"{name}: type not allowed"]})
    return item.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _store_attachment(message: Message, item: NewAttachment) -> Attachment:
    content_type = check_attachment(item)
    digest = hashlib.sha256(item.data).hexdigest()
    attachment = Attachment(tenant_id=message.tenant_id, message=message, filename=PurePath(item.filename).name[:255],
                            content_type=content_type[:120], size=len(item.data), sha256=digest)
    attachment.file.save(digest, ContentFile(item.data), save=False)
    attachment.save()
    return attachment


def add_attachments(actor: Any, message: Message, attachments: Sequence[NewAttachment]) -> list[Attachment]:
    _check_perm(actor, Perm.TICKETS_CHANGE, message.tenant_id)
    for item in attachments:
        check_attachment(item)
    with transaction.atomic():
        stored = [_store_attachment(message, item) for item in attachments]
        emit(message.tenant_id, "attachment.created", ticket=message.ticket, actor=actor,
             data={"message_id": message.pk, "attachment_ids": [a.pk for a in stored]})
    return stored


# --- merge ------------------------------------------------------------------------------------

def merge_tickets(actor: Any, source: Ticket, target: Ticket) -> Ticket:
    """Move the duplicate's messages and interactions into target, close the duplicate and point it there."""
    _check_perm(actor, Perm.TICKETS_MERGE, source.tenant_id)
    if source.tenant_id != target.tenant_id:
        raise NotFound("ticket")
    if source.pk == target.pk:
        raise ActionError("invalid_merge", "A ticket cannot be merged into itself.")
    with transaction.atomic():
        source = Ticket.objects.select_for_update().get(pk=source.pk)
        target = Ticket.objects.select_for_update().get(pk=target.pk)
        if source.merged_into_id:
            raise ActionError("invalid_merge", f"{source.reference} is already merged.")
        if target.merged_into_id or target.status == Status.CLOSED:
            raise ActionError("invalid_merge", f"{target.reference} is closed or merged; pick an open ticket.")
        moved = source.messages.update(ticket=target)
        source.interactions.update(ticket=target)
        target.tags.add(*source.tags.all())
        now = timezone.now()
        old_status = source.status
        source.merged_into = target
        source.status = Status.CLOSED
        source.closed_at = now
        source.updated_at = now
        source.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
        target.updated_at = now
        target.save(update_fields=["updated_at"])
        emit(source.tenant_id, "ticket.merged", ticket=source, actor=actor,
             data={"into": target.pk, "into_reference": target.reference, "messages_moved": moved})
        emit(source.tenant_id, "ticket.status_changed", ticket=source, actor=actor,
             data={"from": old_status, "to": Status.CLOSED, "reason": "merged"})
        if actor is not None:
            audit.record(actor, "merge", source, changes={"merged_into": target.reference})
        search.index_ticket(source)
        search.index_ticket(target)
    return target


def issue_customer_link(ticket: Ticket, *, days: int | None = None, actor: Any = None) -> str:
    """A new private link for the ticket's customer; returns its absolute URL (only the hash is kept).

    actor None: the system (the intake that created the ticket, its acknowledgement email). An agent
    (the desk's "Customer link") needs the right to change the ticket."""
    _check_perm(actor, Perm.TICKETS_CHANGE, ticket.tenant_id)
    import secrets
    from datetime import timedelta

    from django.urls import reverse

    from linia.tickets.models import CustomerLink
    from linia.tickets.queries import customer_token_hash

    token = secrets.token_urlsafe(24)
    now = timezone.now()
    lifetime = timedelta(days=days if days is not None else settings.CUSTOMER_LINK_DAYS)
    with transaction.atomic():
        CustomerLink.objects.create(tenant_id=ticket.tenant_id, ticket=ticket, token_hash=customer_token_hash(token),
                                    created_at=now, expires_at=now + lifetime)
        emit(ticket.tenant_id, "ticket.customer_link_issued", ticket=ticket, actor=actor,
             data={"expires_at": (now + lifetime).isoformat()})
    return settings.PUBLIC_URL + reverse("customer:ticket", args=[token])


def rate_service(ticket: Ticket, *, score: int, comment: str = "", source: str,
                 interaction: Any = None, agent: Any = None) -> Any:
    """The customer rates the service (1-5, optional comment). Rating again replaces the earlier rating of
    the same ticket, interaction and source. The customer is the actor (no user): callers check the
    customer's right to rate (a chat session token, the ticket's private link)."""
    from linia.tickets.models import Rating

    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ActionError("invalid_score", "The score must be a whole number from 1 to 5.")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ActionError("comment_too_long", "The comment may be at most 2000 characters.")
    now = timezone.now()
    with transaction.atomic():
        Ticket.objects.select_for_update().filter(pk=ticket.pk).first()  # one rating row per key, even racing
        key = {"ticket": ticket, "source": source, "interaction": interaction}
        rating = Rating.objects.filter(**key).first()
        if rating is None:
            rating = Rating(tenant_id=ticket.tenant_id, channel=ticket.channel, contact_id=ticket.contact_id,
                            created_at=now, **key)
        rating.score, rating.comment, rating.updated_at = score, comment, now
        rating.agent = agent if agent is not None else rating.agent
        rating.save()
        emit(ticket.tenant_id, "ticket.rated", ticket=ticket,
             data={"score": score, "source": source, "interaction": getattr(interaction, "pk", None),
                   "comment": bool(comment)})
    return rating


# --- the customer's private ticket page -----------------------------------------------------------

TICKET_PAGE_SOURCE = "ticket_page"
MAX_PAGE_FILES = 5


def reply_on_ticket_page(link: Any, ticket: Ticket, *, body: str, attachments: Sequence[NewAttachment] = (),
                         nonce: str = "") -> Message:
    """The customer's reply from the private page: an inbound public message by the ticket's contact that
    reopens a pending or solved ticket (as an emailed answer does). The caller checked the link. nonce
    (one per rendered form) makes a double submit store one message; it is scoped to the link so a
    guessed nonce can never match another ticket's message."""
    if len(attachments) > MAX_PAGE_FILES:
        raise ActionError("too_many_files", f"At most {MAX_PAGE_FILES} files at once.",
                          {"files": [f"at most {MAX_PAGE_FILES} files"]})
    for item in attachments:  # before any write: a refused file stores nothing
        check_attachment(item)
    clean_nonce = "".join(c for c in (nonce or "") if c.isalnum() or c in "-_")[:64]
    external_id = f"page:{link.pk}:{clean_nonce}" if clean_nonce else None
    body = (body or "").replace("\x00", "").strip()[:20000]  # NUL: PostgreSQL refuses it in text columns
    return add_message(None, ticket, body=body, kind=Message.Kind.PUBLIC,
                       direction=Message.Direction.INBOUND, channel=Channel.WEBFORM,
                       author_contact=ticket.contact if ticket.contact_id else None, attachments=attachments,
                       external_id=external_id, source=TICKET_PAGE_SOURCE)


def rate_on_ticket_page(ticket: Ticket, *, score: Any, comment: str = "") -> Any:
    """The customer's rating from the private page: only once the ticket is solved or closed; rating
    again changes it. The agent rated is the ticket's assignee."""
    from linia.tickets.models import Rating

    ticket = Ticket.objects.select_related("assignee").get(pk=ticket.pk)
    if ticket.status not in (Status.SOLVED, Status.CLOSED):
        raise ActionError("not_solved", "The service can be rated once the request is solved.",
                          {"score": ["not solved yet"]})
    try:
        value = int(str(score).strip())
    except ValueError:
        raise ActionError("invalid_score", "The score must be a whole number from 1 to 5.",
                          {"score": ["1 to 5"]}) from None
    return rate_service(ticket, score=value, comment=(comment or "").replace("\x00", ""), source=Rating.Source.TICKET_PAGE,
                        agent=ticket.assignee)


def touch_customer_link(link: Any) -> None:
    """Remember when a link was last used (at most once a minute: opening the page stays a read)."""
    from datetime import timedelta

    from linia.tickets.models import CustomerLink

    now = timezone.now()
    if link.last_used_at is None or now - link.last_used_at > timedelta(minutes=1):
        CustomerLink.objects.filter(pk=link.pk).update(last_used_at=now)


def revoke_customer_links(actor: Any, ticket: Ticket) -> int:
    """End every valid private link of the ticket at once (e.g. a customer shared one by mistake); returns
    how many. The customer gets a new one by "Customer link" or the next acknowledgement."""
    from linia.tickets.models import CustomerLink

    _check_perm(actor, Perm.TICKETS_CHANGE, ticket.tenant_id)
    now = timezone.now()
    with transaction.atomic():
        count = (CustomerLink.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, revoked_at__isnull=True,
                                             expires_at__gt=now).update(revoked_at=now))
        if count:
            emit(ticket.tenant_id, "ticket.customer_links_revoked", ticket=ticket, actor=actor, data={"count": count})
    return count
