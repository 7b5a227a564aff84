"""The email outbox: rows are written in the action's transaction, then claimed, sent and retried.

Sending goes through Django's email backend (settings.EMAIL_BACKEND, chosen by the LINIA_EMAIL_BACKEND
environment variable: SMTP with EMAIL_HOST/EMAIL_PORT/... by default, a file folder in the demo). A worker
claims a row with one conditional UPDATE (status queued/failed and due, or a "sending" claim whose
lease ran out), so two workers never send the same row at once. A failed attempt is kept with its error,
an ``email.failed`` event on the ticket and the next attempt after an exponential backoff
(``LINIA_EMAIL_RETRY_BASE_SECONDS`` · 2^(attempt−1), at most ``LINIA_EMAIL_RETRY_MAX_SECONDS``); after
``LINIA_EMAIL_MAX_ATTEMPTS`` it is "dead": still shown on the ticket, and an agent can retry it.
A crash after the SMTP server accepted a message but before the row was marked sent makes it go out
again after the lease (at-least-once; the Message-ID is the same, so mail clients show it once).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta
from email import encoders
from email.mime.base import MIMEBase
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from linia.dispatch.models import OutboundEmail
from linia.tickets.events import emit
from linia.tickets.models import Attachment, ContactIdentity

log = logging.getLogger(__name__)
Status = OutboundEmail.Status


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def retry_base() -> float:
    return float(_setting("LINIA_EMAIL_RETRY_BASE_SECONDS", 60))


def retry_max() -> float:
    return float(_setting("LINIA_EMAIL_RETRY_MAX_SECONDS", 3600))


def max_attempts() -> int:
    return int(_setting("LINIA_EMAIL_MAX_ATTEMPTS", 12))


def lease_seconds() -> float:
    return float(_setting("LINIA_EMAIL_CLAIM_SECONDS", 300))


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt after ``attempts`` failed ones: base·2^(n−1), capped."""
    return timedelta(seconds=min(retry_max(), retry_base() * 2 ** max(0, attempts - 1)))


def new_msgid(address: str) -> str:
    """A fresh Message-ID (without <>) on the sending mailbox's domain."""
    domain = address.rpartition("@")[2] or "localhost"
    return make_msgid(idstring="linia", domain=domain).strip("<>")


def queue(**fields: Any) -> OutboundEmail:
    """Write an outbox row (inside the caller's transaction); a worker is woken after commit."""
    now = timezone.now()
    to = [str(a).strip() for a in fields.pop("to")]
    row = OutboundEmail.objects.create(to=to, recipient=(to[0] if to else "").lower()[:254], created_at=now,
                                       next_attempt_at=now, status=Status.QUEUED, **fields)
    transaction.on_commit(lambda: wake(row.pk))
    return row


def wake(pk: int) -> None:
    """Ask a Huey worker to send this row now; the periodic tick sends it anyway if this fails."""
    try:
        from linia.dispatch.email_tasks import send_outbound_email

        send_outbound_email(pk)
    except Exception:
        log.warning("could not enqueue outbound email %s; the outbox tick will send it", pk, exc_info=True)


def _due(now: datetime) -> Q:
    return (Q(status__in=[Status.QUEUED, Status.FAILED], next_attempt_at__lte=now)
            | Q(status=Status.SENDING, claimed_until__lt=now))


def claim(pk: int, now: datetime | None = None) -> str | None:
    """Take the row for one attempt; returns the claim token, or None when it is not due or someone has it."""
    now = now or timezone.now()
    token = secrets.token_hex(16)
    updated = OutboundEmail.objects.filter(_due(now), pk=pk).update(
        status=Status.SENDING, claim_token=token, claimed_until=now + timedelta(seconds=lease_seconds()),
        attempts=F("attempts") + 1)
    return token if updated == 1 else None


def _attachment_part(attachment: Attachment) -> MIMEBase:
    """Base64 for every type, so the bytes arrive exactly as stored (no text re-encoding)."""
    maintype, _, subtype = (attachment.content_type or "application/octet-stream").partition("/")
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    with attachment.file.open("rb") as fh:
        part.set_payload(fh.read())
    encoders.encode_base64(part)
    filename = attachment.filename
    try:
        filename.encode("ascii")
        part.add_header("Content-Disposition", "attachment", filename=filename)
    except UnicodeEncodeError:
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
    return part


def build_message(row: OutboundEmail, connection: Any = None) -> EmailMultiAlternatives:
    headers: dict[str, str] = {"Message-ID": f"<{row.msgid}>"}
    if row.in_reply_to:
        headers["In-Reply-To"] = f"<{row.in_reply_to}>"
    if row.references:
        headers["References"] = " ".join(f"<{r}>" for r in row.references.split())
    headers.update({str(k): str(v) for k, v in (row.headers or {}).items()})
    message = EmailMultiAlternatives(
        subject=row.subject, body=row.body_text, from_email=row.from_email, to=list(row.to), cc=list(row.cc or []),
        reply_to=[row.reply_to] if row.reply_to else None, headers=headers, connection=connection)
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    if row.attachment_ids:
        attachments = Attachment.objects.filter(tenant_id=row.tenant_id, pk__in=row.attachment_ids).order_by("id")
        for attachment in attachments:
            message.attach(_attachment_part(attachment))
    return message


def _connection() -> Any:
    backend = _setting("LINIA_EMAIL_BACKEND", None) or settings.EMAIL_BACKEND  # settings: LINIA_EMAIL_BACKEND env
    return get_connection(backend=backend, fail_silently=False, timeout=float(_setting("EMAIL_TIMEOUT", None) or 30))


def send_one(pk: int, now: datetime | None = None) -> str | None:
    """One attempt at one row if it is due; returns the resulting status, or None when not claimed."""
    now = now or timezone.now()
    token = claim(pk, now)
    if token is None:
        return None
    row = OutboundEmail.objects.select_related("ticket").get(pk=pk)
    try:
        build_message(row, _connection()).send()
    except Exception as exc:
        return _failed(row, token, exc, now)
    finished = timezone.now()
    with transaction.atomic():
        done = OutboundEmail.objects.filter(pk=pk, claim_token=token).update(
            status=Status.SENT, sent_at=finished, claimed_until=None, last_error="")
        if done:
            emit(row.tenant_id, "email.sent", ticket=row.ticket, data={
                "outbound_id": row.pk, "kind": row.kind, "to": row.to, "msgid": row.msgid,
                "attempts": row.attempts, "message_id": row.message_id})
    return Status.SENT


def permanent(exc: BaseException) -> bool:
    """The server refused this message for good: every recipient or the data answered 5xx (not 552,
    "storage exceeded", which may pass later). Sender or authentication refusals are configuration
    problems of every message and stay retried."""
    def final(code: int) -> bool:
        return 500 <= code < 600 and code != 552

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(final(code) for code in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return final(exc.smtp_code)
    return False


def _failed(row: OutboundEmail, token: str, exc: BaseException, now: datetime) -> str:
    """Record a failed attempt made at ``now`` (the worker's clock): retry after backoff, or give up
    (after the last attempt, or at once when the server refused the mail permanently)."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    dead = row.attempts >= max_attempts() or permanent(exc)
    status = Status.DEAD if dead else Status.FAILED
    next_at = now + backoff(row.attempts)
    with transaction.atomic():
        updated = OutboundEmail.objects.filter(pk=row.pk, claim_token=token).update(
            status=status, last_error=error, next_attempt_at=next_at, claimed_until=None)
        if updated:
            emit(row.tenant_id, "email.dead" if dead else "email.failed", ticket=row.ticket, data={
                "outbound_id": row.pk, "kind": row.kind, "to": row.to, "attempts": row.attempts,
                "error": error[:300], "next_attempt_at": None if dead else next_at.isoformat()})
            if isinstance(exc, smtplib.SMTPRecipientsRefused) and row.kind != OutboundEmail.Kind.FORWARD:
                refused = [str(a).lower() for a, (code, _m) in exc.recipients.items() if 500 <= code < 600]
                ContactIdentity.objects.filter(tenant_id=row.tenant_id, kind=ContactIdentity.Kind.EMAIL,
                                               value__in=refused).update(is_failing=True)
    log.warning("outbound email %s attempt %s failed: %s", row.pk, row.attempts, error)
    return status


def due_ids(now: datetime | None = None, limit: int = 100) -> list[int]:
    now = now or timezone.now()
    return list(OutboundEmail.objects.filter(_due(now)).order_by("next_attempt_at", "id")
                .values_list("pk", flat=True)[:limit])


def send_due(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send every due row once (the worker's tick); returns counts by resulting status."""
    counts: dict[str, int] = {}
    for pk in due_ids(now, limit):
        status = send_one(pk, now)
        if status is not None:
            counts[status] = counts.get(status, 0) + 1
    return counts


def requeue(rows: Iterable[OutboundEmail]) -> int:
    """Make failed/dead rows due now with a fresh attempt budget (an agent's "retry now")."""
    ids = [r.pk for r in rows]
    return OutboundEmail.objects.filter(pk__in=ids, status__in=[Status.FAILED, Status.DEAD]).update(
        status=Status.QUEUED, attempts=0, next_attempt_at=timezone.now())
