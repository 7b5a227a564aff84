"""Email ingestion: every inbound message (SMTP/LMTP, IMAP, pipe) goes through `ingest_raw`.

The raw message is written (a .eml file in Django storage), then one transaction inserts its
InboundEmail row and, in a savepoint, threads it, finds or creates the contact and makes a ticket or a
message with its attachments and HTML, plus the event rows. It commits before `ingest_raw` returns, and
only then is the message acknowledged (SMTP 250, IMAP move, exit 0): the row is durable by then, with
its ticket, or marked "failed" when processing raised (the savepoint is rolled back, the row stays; a
redelivery or `linia email reprocess --failed` retries it). A crash before the commit leaves nothing
but the raw file, and the unacknowledged sender delivers again. Rows left "stored" (by `_store`, step
one alone) are finished by `reprocess_stored` (run by `linia smtpd` at start and by `linia email
reprocess`).

The same Message-ID (without one: the sha256 of the raw message) is ingested once per tenant: the
database's unique constraint decides, so parallel deliveries of one message yield one ticket message.

Decisions: mail without a usable From is kept and becomes a ticket without a contact (nothing is
lost, and no acknowledgement can go anywhere); automatic mail (auto-replies, out-of-office, bounces,
lists) is stored on the ticket it threads to or on a new ticket tagged "auto", never acknowledged and
never routed to an agent; a bounce marks the bounced addresses as failing on their contacts.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linia.core import fastsql
from linia.core.errors import ActionError
from linia.core.models import Tenant
from linia.intake.email import threading
from linia.intake.email.models import InboundEmail, Mailbox
from linia.tickets import actions as tickets
from linia.tickets.events import emit
from linia.tickets.models import (
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    Event,
    Interaction,
    Message,
    Status,
    Ticket,
)

if TYPE_CHECKING:
    from linia.intake.email.parse import ParsedAttachment, ParsedEmail

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
MAX_ATTEMPTS = 5  # reprocessing gives up on a message that failed this often (it stays "failed", visible)
AUTO_TAG = "auto"
# Shown inline by browsers or able to run script: stored as application/octet-stream (downloads only).
SAFE_TYPES = frozenset({
    "application/pdf", "application/zip", "application/msword", "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff", "image/heic",
    "text/plain", "text/csv", "audio/mpeg", "audio/wav", "audio/ogg", "video/mp4", "message/rfc822",
})
UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def max_bytes() -> int:
    return int(getattr(settings, "EMAIL_MAX_BYTES", 0) or os.environ.get("LINIA_EMAIL_MAX_BYTES")
               or DEFAULT_MAX_BYTES)


@dataclass(frozen=True)
class IngestResult:
    """created | appended | duplicate | rejected; "failed" when stored but processing raised (retried later)."""

    status: str
    ticket_id: int | None = None
    reason: str = ""  # rejected/failed: too_large, unknown_recipient, not_an_email, processing_error
    message: str = ""  # for people (SMTP reply text, CLI)
    inbound_id: int | None = None

    @property
    def accepted(self) -> bool:
        """Safely stored (or already known): the sender may forget the message."""
        return self.status != "rejected"


# --- recipients ---------------------------------------------------------------------------------


def mailboxes_for(addresses: Sequence[str]) -> list[Mailbox]:
    """Active mailboxes of active tenants named by these addresses (plus tags ignored), in address order."""
    bases = [threading.split_address(a)[0] for a in addresses if a and "@" in a]
    if not bases:
        return []
    found = {m.address: m for m in _active_mailboxes(sorted(set(bases)))}
    seen: set[int] = set()
    result = []
    for base in bases:
        box = found.get(base)
        if box is not None and box.pk not in seen:
            seen.add(box.pk)
            result.append(box)
    return result


def _active_mailboxes(addresses: list[str]) -> list[Mailbox]:
    """Mailbox.objects.select_related("tenant").filter(address__in=..., is_active=True, tenant__is_active=True)
    as one plain statement: it runs on every delivery, and compiling the ORM query cost more than the rest
    of storing the message."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {fastsql.cols(Mailbox, 'm')}, {fastsql.cols(Tenant, 't')} "  # noqa: S608
            f"FROM {quote(Mailbox._meta.db_table)} m JOIN {quote(Tenant._meta.db_table)} t ON t.id = m.tenant_id "
            f"WHERE m.address IN ({fastsql.placeholders(len(addresses))}) AND m.is_active = %s AND t.is_active = %s",
            [*addresses, True, True])
        rows = cursor.fetchall()
    result = []
    for row in rows:
        mailbox = fastsql.load(Mailbox, row)
        mailbox.tenant = fastsql.load(Tenant, row, fastsql.width(Mailbox))
        result.append(mailbox)
    return result


def recipient_known(address: str) -> bool:
    """For SMTP RCPT: does this address (with or without +tag) reach an active mailbox?"""
    return bool(mailboxes_for([address]))


def _header_addresses(parsed: ParsedEmail) -> list[str]:
    extra = getattr(parsed, "delivered_to", None) or []
    if isinstance(extra, str):
        extra = [extra]
    return [*extra, *parsed.to, *parsed.cc]


# --- step 1: store ------------------------------------------------------------------------------


def dedupe_key(parsed: ParsedEmail | None, sha256: str) -> str:
    message_id = (parsed.message_id or "").strip() if parsed is not None else ""
    if message_id and len(message_id) <= 290:
        return message_id
    if message_id:
        return "sha256mid:" + hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()
    return "sha256:" + sha256


def _raw_name(tenant_id: int | None, sha256: str) -> str:
    now = timezone.now()
    return f"email/raw/{tenant_id or 'none'}/{now:%Y/%m/%d}/{sha256}.eml"


def _save_raw(tenant_id: int | None, sha256: str, raw: bytes) -> str:
    name = _raw_name(tenant_id, sha256)
    if not isinstance(default_storage, FileSystemStorage):
        if default_storage.exists(name):  # content-addressed: the same bytes are already there
            return name
        return default_storage.save(name, ContentFile(raw))
    # Local files (the usual case): written directly, without the storage's name checks and chunking.
    # A temporary file renamed into place, so a crash mid-write never leaves a short copy under the final
    # name that a redelivery would then trust. No fsync: the row's commit is the acknowledgement point.
    path = default_storage.path(name)
    if os.path.exists(path):  # content-addressed: the same bytes are already there
        return name
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".in-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        mode = default_storage.file_permissions_mode  # as the storage would (default 0o644; None: 0o600 stays)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return name


def _reject(raw: bytes, sha256: str, *, tenant: Tenant | None, mailbox: Mailbox | None, recipients: Sequence[str],
            source: str, reason: str, message: str, keep_raw: bool, parsed: ParsedEmail | None = None
            ) -> IngestResult:
    """Record a refusal for diagnosis; the raw message is kept only when it is small and addressed to us."""
    try:
        row = InboundEmail.objects.create(
            tenant=tenant, mailbox=mailbox, raw=_save_raw(tenant.pk if tenant else None, sha256, raw) if keep_raw
            else "", sha256=sha256, size=len(raw), recipients=list(recipients)[:50], source=source,
            status=InboundEmail.Status.REJECTED, reason=reason, error=message[:2000],
            from_email=(parsed.from_email or "")[:254] if parsed else "",
            subject=_clean(parsed.subject)[:300] if parsed else "", received_at=timezone.now())
        inbound_id: int | None = row.pk
    except Exception:  # the refusal stands even if its record cannot be written
        log.exception("could not record a rejected email (%s)", reason)
        inbound_id = None
    return IngestResult("rejected", reason=reason, message=message, inbound_id=inbound_id)


def _clean(text: str | None) -> str:
    """Text every database stores: no NUL characters (PostgreSQL refuses them), no lone surrogates."""
    return (text or "").replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _new_row(name: str, raw: bytes, sha256: str, key: str, *, tenant: Tenant, mailbox: Mailbox,
             recipients: Sequence[str], source: str, parsed: ParsedEmail | None) -> InboundEmail:
    return InboundEmail(
        tenant=tenant, mailbox=mailbox, raw=name, sha256=sha256, size=len(raw), dedupe_key=key,
        header_message_id=_clean(parsed.message_id if parsed else "")[:300],
        from_email=_clean(parsed.from_email if parsed else "")[:254],
        subject=_clean(parsed.subject if parsed else "")[:300], recipients=list(recipients)[:50],
        source=source, is_auto=bool(parsed and parsed.is_auto), received_at=timezone.now())


def _store(raw: bytes, sha256: str, key: str, *, tenant: Tenant, mailbox: Mailbox, recipients: Sequence[str],
           source: str, parsed: ParsedEmail | None) -> tuple[InboundEmail, bool]:
    """(row, created), stored "stored" (unprocessed) and committed: step 1 alone. `ingest_raw` stores and
    processes a new message in one transaction instead (`_store_and_process`).

    The unique (tenant, dedupe_key) constraint finds duplicates; their raw copy is content-addressed,
    so writing it again changes nothing.
    """
    name = _save_raw(tenant.pk, sha256, raw)
    try:
        with transaction.atomic():
            row = _new_row(name, raw, sha256, key, tenant=tenant, mailbox=mailbox, recipients=recipients,
                           source=source, parsed=parsed)
            fastsql.insert(row)
    except IntegrityError:  # a parallel delivery of the same message won
        return InboundEmail.objects.get(tenant=tenant, dedupe_key=key), False
    return row, True


class _AlreadyStored(Exception):
    """The unique (tenant, dedupe_key) constraint refused the row: this message is stored already."""


def _store_and_process(raw: bytes, sha256: str, key: str, *, tenant: Tenant, mailbox: Mailbox,
                       recipients: Sequence[str], source: str, parsed: ParsedEmail | None) -> IngestResult | None:
    """Store a new message and process it in ONE transaction; None when it is stored already.

    The commit at the end makes the row durable together with its ticket (or, when processing raised,
    with its "failed" mark: processing runs in a savepoint, so its error never takes the row with it).
    Nothing is acknowledged before `ingest_raw` returns, i.e. after that commit, so the rule "stored
    before acknowledged" holds with one commit instead of two; a crash before the commit leaves nothing
    but the content-addressed raw file, and the sender delivers again. No other delivery sees the row
    before the commit, so no lock is needed.
    """
    name = _save_raw(tenant.pk, sha256, raw)
    try:
        with transaction.atomic():
            row = _new_row(name, raw, sha256, key, tenant=tenant, mailbox=mailbox, recipients=recipients,
                           source=source, parsed=parsed)
            try:
                fastsql.insert(row)
            except IntegrityError as exc:  # leave the transaction (on PostgreSQL it is aborted now)
                raise _AlreadyStored from exc
            try:
                with transaction.atomic():
                    return _finish(row, parsed)
            except Exception as exc:
                log.exception("processing inbound email %s failed", row.pk)
                _mark_failed(row.pk, exc)
                return IngestResult("failed", reason="processing_error", message=str(exc)[:500],
                                    inbound_id=row.pk)
    except _AlreadyStored:
        return None


# --- the entry point ----------------------------------------------------------------------------


def ingest_raw(raw: bytes, *, recipients: Sequence[str], source: str) -> IngestResult:
    """Store, then process one message; see the module docstring. Never call inside a transaction.

    Mail for mailboxes of several tenants is ingested once per tenant; the result is the first
    tenant's. Raises only when the message could not be stored (the sender must retry: SMTP 451).
    """
    from linia.intake.email.parse import NotAnEmail, parse_message

    sha256 = hashlib.sha256(raw).hexdigest()
    limit = max_bytes()
    boxes = mailboxes_for(recipients)
    if len(raw) > limit:
        box = boxes[0] if boxes else None
        return _reject(raw, sha256, tenant=box.tenant if box else None, mailbox=box, recipients=recipients,
                       source=source, reason="too_large", keep_raw=False,
                       message=f"message size {len(raw)} exceeds the limit of {limit} bytes")
    parsed: ParsedEmail | None
    try:
        parsed = parse_message(raw)
    except NotAnEmail as exc:
        box = boxes[0] if boxes else None
        return _reject(raw, sha256, tenant=box.tenant if box else None, mailbox=box, recipients=recipients,
                       source=source, reason="not_an_email", keep_raw=box is not None,
                       message=f"not an email message: {exc}")
    except Exception:  # a parser bug must not lose the message: store it, processing will say "failed"
        log.exception("parsing failed; storing the message unprocessed")
        parsed = None
    if not boxes and parsed is not None and not recipients:
        boxes = mailboxes_for(_header_addresses(parsed))  # pipe delivery without --recipient
    if not boxes:
        return _reject(raw, sha256, tenant=None, mailbox=None, recipients=recipients, source=source,
                       reason="unknown_recipient", keep_raw=False, parsed=parsed,
                       message="no mailbox for " + (", ".join(recipients) or "the message's recipients"))
    key = dedupe_key(parsed, sha256)
    addresses = list(recipients) or (_header_addresses(parsed) if parsed is not None else [])
    results = []
    for box in _one_per_tenant(boxes):
        result = _store_and_process(raw, sha256, key, tenant=box.tenant, mailbox=box, recipients=addresses,
                                    source=source, parsed=parsed)
        if result is None:  # stored before: finish it if it is not (a crash or error then), else a duplicate
            row = InboundEmail.objects.get(tenant=box.tenant, dedupe_key=key)
            result = process(row.pk, parsed=parsed)
            if result.status in ("created", "appended", "duplicate"):
                result = IngestResult("duplicate", result.ticket_id, inbound_id=row.pk)
        elif result.status == "duplicate":  # nothing new was made (e.g. our own outbound mail came back)
            result = _outcome(result.inbound_id or 0, result)
        results.append(result)
    return results[0]


def _outcome(inbound_id: int, result: IngestResult) -> IngestResult:
    """What processing this stored row did, whoever ran it (its email.received event says)."""
    if result.ticket_id is None:
        return result
    data = (Event.objects.filter(ticket_id=result.ticket_id, kind="email.received", data__inbound_id=inbound_id)
            .values_list("data", flat=True).first())
    if not isinstance(data, dict):
        return result  # nothing new was made (e.g. our own outbound mail came back)
    return IngestResult("created" if data.get("new_ticket") else "appended", result.ticket_id,
                        inbound_id=inbound_id)


def _one_per_tenant(boxes: list[Mailbox]) -> list[Mailbox]:
    seen: set[int] = set()
    first = []
    for box in boxes:
        if box.tenant_id not in seen:
            seen.add(box.tenant_id)
            first.append(box)
    return first


# --- step 2: process ----------------------------------------------------------------------------


def process(inbound_id: int, *, parsed: ParsedEmail | None = None) -> IngestResult:
    """Make the ticket or message of a stored (or failed: a redelivery retries it) email; a processed one
    answers "duplicate". Never raises."""
    try:
        return _process(inbound_id, parsed)
    except Exception as exc:
        log.exception("processing inbound email %s failed", inbound_id)
        try:
            _mark_failed(inbound_id, exc)
        except Exception:  # the row stays "stored": reprocessing picks it up
            log.exception("could not mark inbound email %s as failed", inbound_id)
        return IngestResult("failed", reason="processing_error", message=str(exc)[:500], inbound_id=inbound_id)


def _mark_failed(inbound_id: int, exc: BaseException) -> None:
    InboundEmail.objects.filter(pk=inbound_id, status__in=[InboundEmail.Status.STORED,
                                                            InboundEmail.Status.FAILED]).update(
        status=InboundEmail.Status.FAILED, reason="processing_error", attempts=F("attempts") + 1,
        error="".join(traceback.format_exception(exc))[-4000:])


def _process(inbound_id: int, parsed: ParsedEmail | None) -> IngestResult:
    with transaction.atomic():
        row = (InboundEmail.objects.select_for_update(of=("self",)).select_related("tenant", "mailbox")
               .get(pk=inbound_id))
        if row.status == InboundEmail.Status.PROCESSED:
            return IngestResult("duplicate", row.ticket_id, inbound_id=row.pk)
        if row.status == InboundEmail.Status.REJECTED or row.tenant is None:
            return IngestResult("rejected", reason=row.reason, message=row.error, inbound_id=row.pk)
        return _finish(row, parsed)


def _finish(row: InboundEmail, parsed: ParsedEmail | None) -> IngestResult:
    """Process a stored row (inside the caller's transaction; the row is locked or not yet committed)."""
    from linia.intake.email.parse import parse_message

    assert row.tenant is not None
    row.attempts += 1
    if parsed is None:
        with row.raw.open("rb") as fh:
            parsed = parse_message(fh.read())
    tenant = row.tenant
    language = (row.mailbox.language if row.mailbox else "") or tenant.default_language
    with translation.override(language):
        status, ticket, message = _deliver(row, tenant, parsed)
    row.status = InboundEmail.Status.PROCESSED
    row.reason = ""
    row.error = ""
    row.ticket = ticket
    row.message = message
    row.is_auto = parsed.is_auto
    row.processed_at = timezone.now()
    fastsql.save_fields(row, ("status", "reason", "error", "ticket", "message", "is_auto", "processed_at",
                              "attempts"))
    return IngestResult(status, ticket.pk, inbound_id=row.pk)


def _deliver(row: InboundEmail, tenant: Tenant, parsed: ParsedEmail) -> tuple[str, Ticket, Message]:
    """Thread, contact, ticket or message, attachments, routing task and events (inside the transaction)."""
    # The Message-ID as threading looks it up (long ones hashed the same way); without one, the content hash.
    external_id = (threading.external_id_for(parsed.message_id) if parsed.message_id
                   else threading.external_id_for(row.dedupe_key or f"inbound:{row.pk}"))
    known = _message_with(tenant.pk, external_id)
    if known is not None:  # e.g. our own outbound mail copied back to a mailbox: nothing new
        return "duplicate", known.ticket, known
    if parsed.auto_kind == "bounce":
        _mark_failing(tenant, parsed.bounced_recipients)
    match = threading.find_thread(tenant.pk, parsed, [*row.recipients, *_header_addresses(parsed)])
    department_reply = match is not None and match.department_id is not None
    contact = None if department_reply or parsed.auto_kind == "bounce" else _contact(tenant, parsed)
    body = _clean(parsed.reply_text).strip() or _clean(parsed.text).strip() or _("(no text)")
    html = _clean(parsed.html)
    follow_up_of = None
    if match is not None and match.ticket.status == Status.CLOSED:
        follow_up_of = match.ticket
        match = None
    if match is not None:
        ticket = match.ticket
        message = tickets.add_message(None, ticket, body=body, direction=Message.Direction.INBOUND,
                                      channel=Channel.EMAIL, author_contact=contact, external_id=external_id,
                                      body_html=html, reopen=not parsed.is_auto,
                                      external_id_is_new=True)  # looked up above, in this transaction
        status = "appended"
    else:
        subject = _clean(parsed.subject).strip() or _("(no subject)")
        ticket, first = tickets.create_ticket_with_message(
            None, tenant, subject=subject, channel=Channel.EMAIL, body=body, body_html=html, contact=contact,
            language=(row.mailbox.language if row.mailbox else "") or (contact.language if contact else ""),
            queue=row.mailbox.queue if row.mailbox else "", tags=[AUTO_TAG] if parsed.is_auto else (),
            external_id=external_id, external_id_is_new=True)  # looked up above, in this transaction
        assert first is not None  # the body is never empty
        message = first
        status = "created"
    interaction = fastsql.insert(Interaction(
        tenant=tenant, ticket=ticket, contact=contact, channel=Channel.EMAIL, direction="inbound",
        started_at=row.received_at, ended_at=row.received_at,
        data={"inbound_id": row.pk, "from": parsed.from_email, "subject": _clean(parsed.subject)[:300],
              "is_auto": parsed.is_auto, "auto_kind": parsed.auto_kind}))
    message.interaction = interaction
    fastsql.save_fields(message, ("interaction",))
    stored = [_store_attachment(message, item, n) for n, item in enumerate(parsed.attachments, 1)]
    if stored:
        emit(tenant.pk, "attachment.created", ticket=ticket,
             data={"message_id": message.pk, "attachment_ids": [a.pk for a in stored]})
    if status == "created" and not parsed.is_auto:
        if row.mailbox is not None and row.mailbox.queue:
            _route(row, ticket, interaction)
        if parsed.from_email:
            _acknowledge(ticket, message, parsed)
    emit(tenant.pk, "email.received", ticket=ticket, data={
        "inbound_id": row.pk, "message_id": message.pk, "new_ticket": status == "created",
        "thread": match.how if match is not None else None, "from": parsed.from_email,
        "is_auto": parsed.is_auto, "auto_kind": parsed.auto_kind, "source": row.source,
        "department_id": match.department_id if match is not None else None,
        "follow_up_of": follow_up_of.reference if follow_up_of is not None else None,
        "mailbox": row.mailbox.address if row.mailbox else None})
    if department_reply and match is not None and status == "appended":
        _department_reply(ticket, message, match.department_id)
    return status, ticket, message


def _message_with(tenant_id: int, external_id: str) -> Message | None:
    """Message.objects.filter(tenant_id=..., external_id=...).first(), hot path: almost always there is
    none, so first a plain look-up of the id (the unique constraint allows one), then the row if found."""
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE tenant_id = %s AND external_id = %s LIMIT 1",  # noqa: S608
                       [tenant_id, external_id])
        found = cursor.fetchone()
    return Message.objects.select_related("ticket").get(pk=found[0]) if found else None


def _contact(tenant: Tenant, parsed: ParsedEmail) -> Contact | None:
    if not parsed.from_email:
        return None
    found = tickets.contact_with_identity(tenant.pk, ContactIdentity.Kind.EMAIL.value, parsed.from_email.lower())
    if found is not None and (found.name or not parsed.from_name):
        return found  # a known sender: one query
    try:
        # Two new mails from one new sender in parallel: the loser's contact vanishes with its savepoint
        # and the winner's is returned.
        return tickets.find_or_create_contact(None, tenant, name=_clean(parsed.from_name),
                                              emails=[parsed.from_email])
    except ActionError:  # an address Django does not accept: the ticket is kept without a contact
        return None


def _mark_failing(tenant: Tenant, addresses: Sequence[str]) -> None:
    values = [a.strip().lower() for a in addresses if a and "@" in a]
    if values:
        ContactIdentity.objects.filter(tenant=tenant, kind=ContactIdentity.Kind.EMAIL, value__in=values).update(
            is_failing=True)


def safe_content_type(declared: str, filename: str, *, dangerous: bool = False) -> str:
    """The declared type when browsers treat it as inert data, else application/octet-stream."""
    content_type = (declared or "").split(";")[0].strip().lower()
    suffix = PurePath(filename).suffix.lower()
    if dangerous or content_type not in SAFE_TYPES or suffix in settings.LINIA_ATTACHMENT_BLOCKED_EXTENSIONS or suffix in {
            ".html", ".htm", ".svg", ".xhtml", ".xml", ".hta", ".jar", ".lnk", ".dll"}:
        return "application/octet-stream"
    return content_type


def safe_filename(name: str, n: int) -> str:
    clean = UNSAFE_NAME.sub("_", PurePath((name or "").replace("\\", "/")).name).strip(" .")
    return (clean or f"attachment-{n}")[:255]


def _store_attachment(message: Message, item: ParsedAttachment, n: int) -> Attachment:
    """Attachments are kept whatever their type (dangerous ones only ever download, never display)."""
    filename = safe_filename(_clean(item.filename), n)
    digest = hashlib.sha256(item.payload).hexdigest()
    attachment = Attachment(tenant_id=message.tenant_id, message=message, filename=filename,
                            content_type=safe_content_type(item.content_type, filename,
                                                           dangerous=getattr(item, "dangerous", False))[:120],
                            size=len(item.payload), sha256=digest)
    attachment.file.save(digest, ContentFile(item.payload), save=False)
    attachment.save()
    return attachment


def _route(row: InboundEmail, ticket: Ticket, interaction: Interaction) -> None:
    """A routing task for the new email ticket (the routing ticker offers it to an agent)."""
    from linia.routing import actions as routing

    try:
        with transaction.atomic():
            routing.create_intake_task(row.tenant_id or ticket.tenant_id, channel="email",
                                       queue=row.mailbox.queue if row.mailbox else "", language=ticket.language,
                                       external_id=f"email:{row.pk}", ticket=ticket, interaction=interaction,
                                       attributes={"reference": ticket.reference, "from": row.from_email,
                                                   "subject": ticket.subject[:200]})
    except ActionError as exc:  # a queue renamed or closed: the ticket stands, routing is logged
        log.warning("email %s: no routing task for %s: %s (%s)", row.pk, ticket.reference, exc.code, exc.message)


def _acknowledge(ticket: Ticket, message: Message, parsed: ParsedEmail) -> None:
    """The "we received your message" email (linia.dispatch queues it, rate-limited per sender)."""
    config = ticket.tenant.settings.get("email_ack") if ticket.tenant.settings else None
    if isinstance(config, dict) and config.get("enabled", True) is False:
        return  # the tenant turned acknowledgements off: no need to ask dispatch
    try:
        from linia.dispatch import outbound
    except ImportError:
        return
    hook: Any = getattr(outbound, "acknowledge_new_ticket", None)
    if hook is None:
        return
    try:
        with transaction.atomic():
            hook(ticket, message, parsed.is_auto, to=parsed.from_email)
    except Exception:  # an acknowledgement problem never loses the customer's mail
        log.exception("acknowledgement for %s failed", ticket.reference)


def _department_reply(ticket: Ticket, message: Message, department_id: int | None) -> None:
    try:
        from linia.dispatch import forwarding
    except ImportError:
        return
    hook: Any = getattr(forwarding, "on_department_reply", None)
    if hook is not None:
        hook(ticket, message, department_id=department_id)


# --- recovery -----------------------------------------------------------------------------------


def reprocess_stored(*, include_failed: bool = False, limit: int | None = None) -> list[IngestResult]:
    """Finish messages left "stored" by a crash (and, on request, retry "failed" ones)."""
    if include_failed:
        InboundEmail.objects.filter(status=InboundEmail.Status.FAILED, attempts__lt=MAX_ATTEMPTS).update(
            status=InboundEmail.Status.STORED)
    ids = list(InboundEmail.objects.filter(status=InboundEmail.Status.STORED).order_by("id")
               .values_list("pk", flat=True)[:limit])
    return [process(pk) for pk in ids]
