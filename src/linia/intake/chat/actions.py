"""Every chat state change: one transaction that checks, changes state, writes the event and pushes after
commit.

Never lose a message: a message is stored (chat row + the same text as a tickets.Message on the session's
ticket) before it is acknowledged; a repeated client id returns the stored message (same seq) and stores
nothing; seq numbers come from the session row, incremented under its lock, so they are gapless and in
commit order. Lock order: the chat session row, then the ticket (add_message), then routing tasks.

Visitor-facing messages of errors are translated with the active language: callers activate the visitor's
language (views, the visitor consumer) before calling.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from linia.core import fastsql, languages
from linia.core.errors import ActionError, Conflict, NotFound
from linia.core.models import Role, Tenant
from linia.core.permissions import PermissionDenied, is_platform_admin, membership
from linia.directory.models import Category
from linia.intake.chat import realtime
from linia.intake.chat.models import ChatChannel, ChatMessage, ChatSession, Sender, SessionStatus
from linia.intake.chat.serialize import agent_public, message_payload, state_payload
from linia.routing.models import OPEN_TASK, ReservationStatus, Task, TaskStatus
from linia.tickets import actions as tickets
from linia.tickets.contacts import REGION_BY_LANGUAGE, normalize_email, normalize_phone
from linia.tickets.events import emit
from linia.tickets.models import Channel, Contact, Interaction, Message, Ticket
from linia.tickets.models import Status as TicketStatus

log = logging.getLogger(__name__)

EXTERNAL_PREFIX = "chat:"
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
OPEN_STATUSES = (SessionStatus.WAITING, SessionStatus.ACTIVE, SessionStatus.OFFLINE)


def max_message_chars() -> int:
    return int(getattr(settings, "LINIA_CHAT_MAX_MESSAGE_CHARS", os.environ.get("LINIA_CHAT_MAX_MESSAGE_CHARS", "2000")))


def max_file_bytes() -> int:
    """Chat files are smaller than ticket attachments by default (10 MB), never larger."""
    chat = int(getattr(settings, "LINIA_CHAT_MAX_FILE_BYTES",
                       os.environ.get("LINIA_CHAT_MAX_FILE_BYTES", str(10 * 1024 * 1024))))
    return min(chat, settings.LINIA_ATTACHMENT_MAX_BYTES)


def session_days() -> int:
    """How long a visitor's token stays valid after the chat's last activity."""
    return int(getattr(settings, "LINIA_CHAT_SESSION_DAYS", os.environ.get("LINIA_CHAT_SESSION_DAYS", "7")))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- input checks --------------------------------------------------------------------------------

def clean_text(value: Any, field: str = "text", *, required: bool = True) -> str:
    """Plain text as typed (never interpreted as HTML), control characters removed, size-limited."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ActionError("invalid_value", _("The message must be text."), {field: [_("must be text")]})
    text = _CONTROL.sub("", value).strip()
    if required and not text:
        raise ActionError("empty", _("The message is empty."), {field: [_("required")]})
    limit = max_message_chars()
    if len(text) > limit:
        raise ActionError("too_long", _("The message is too long (at most %(n)s characters).") % {"n": limit},
                          {field: [_("at most %(n)s characters") % {"n": limit}]})
    return text


def clean_client_id(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not CLIENT_ID_RE.match(value):
        raise ActionError("invalid_client_id", _("The message id is not valid."),
                          {"client_id": [_("1-64 letters, digits or - _ . :")]})
    return value


def _short(value: Any, field: str, limit: int, errors: dict[str, list[str]]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.setdefault(field, []).append(_("must be text"))
        return ""
    text = _CONTROL.sub("", value).strip()
    if len(text) > limit:
        errors.setdefault(field, []).append(_("at most %(n)s characters") % {"n": limit})
    return text[:limit]


@dataclass
class StartInput:
    name: str = ""
    email: str = ""
    phone: str = ""
    topic: str = ""
    consent: bool = False
    language: str = ""
    page_url: str = ""
    text: str = ""


def parse_start(channel: ChatChannel, data: Any) -> StartInput:
    """The pre-chat form, checked; all problems at once as field errors (translated)."""
    if not isinstance(data, dict):
        raise ActionError("invalid_request", _("Send the form as a JSON object."))
    errors: dict[str, list[str]] = {}
    out = StartInput()
    out.name = _short(data.get("name"), "name", 200, errors)
    if not out.name and "name" not in errors:
        errors["name"] = [_("Please enter your name.")]
    out.language = pick_language(channel, data.get("language"))
    region = REGION_BY_LANGUAGE.get(out.language, REGION_BY_LANGUAGE.get(channel.tenant.default_language, "GB"))
    raw_email = _short(data.get("email"), "email", 254, errors)
    if raw_email:
        try:
            out.email = normalize_email(raw_email)
        except ValueError:
            errors.setdefault("email", []).append(_("This is not a valid email address."))
    raw_phone = _short(data.get("phone"), "phone", 40, errors)
    if raw_phone:
        try:
            out.phone = normalize_phone(raw_phone, region)
        except ValueError:
            errors.setdefault("phone", []).append(_("This is not a valid phone number."))
    if not raw_email and not raw_phone and "email" not in errors:
        errors["email"] = [_("Please give an email address or a phone number so that we can answer you.")]
    out.topic = _short(data.get("topic"), "topic", 60, errors)
    codes = [str(t.get("code")) for t in channel.topics or [] if isinstance(t, dict) and t.get("code")]
    if codes and out.topic not in codes and "topic" not in errors:
        errors["topic"] = [_("Please choose a topic.")]
    consent = data.get("consent", False)
    out.consent = consent is True
    if channel.consent_required and not out.consent:
        errors["consent"] = [_("Please accept the terms to start the chat.")]
    page_url = _short(data.get("page_url"), "page_url", 500, errors)
    out.page_url = page_url if page_url.startswith(("http://", "https://")) else ""
    try:
        out.text = clean_text(data.get("text"), "text", required=False)
    except ActionError as exc:
        errors.update(exc.fields)
    if errors:
        raise ActionError("invalid_form", _("Please check the form."), errors)
    return out


def pick_language(channel: ChatChannel, wanted: Any) -> str:
    return languages.pick(wanted, fallbacks=(channel.default_language,))


def localized(mapping: Any, language: str, fallback: str) -> str:
    if not isinstance(mapping, dict):
        return ""
    for lang in (language, "en", fallback):  # English is the likelier second language of a visitor
        if isinstance(mapping.get(lang), str):
            return str(mapping[lang])
    return next((str(v) for v in mapping.values() if isinstance(v, str)), "")


def topic_entry(channel: ChatChannel, code: str) -> dict[str, Any] | None:
    return next((t for t in channel.topics or [] if isinstance(t, dict) and t.get("code") == code), None)


# --- starting a chat -----------------------------------------------------------------------------

@dataclass
class Started:
    session: ChatSession
    token: str
    offline: bool
    expected_reply: str | None


def start_session(channel: ChatChannel, data: Any, *, now: datetime | None = None) -> Started:
    """The visitor's pre-chat form: contact, ticket, interaction and (when the queue is open) a routing task,
    all in one transaction; then the chat is offered to agents. Outside the queue's hours the chat is
    "offline": the first message becomes a ticket and the visitor is told when to expect the answer."""
    from linia.routing import actions as routing
    from linia.routing.queries import next_opening, queue_is_open

    form = parse_start(channel, data)
    now = now or timezone.now()
    queue = channel.queue
    offline = not (queue.is_active and queue_is_open(queue, now))
    if offline and not form.text:
        raise ActionError("text_required", _("We are offline now: please write your question, we will answer it."),
                          {"text": [_("required while we are offline")]})
    tenant = channel.tenant
    token = secrets.token_urlsafe(32)
    expected: str | None = None
    with transaction.atomic():
        contact = tickets.find_or_create_contact(None, tenant, name=form.name, phones=[form.phone] if form.phone else [],
                                                 emails=[form.email] if form.email else [], language=form.language)
        ticket = tickets.create_ticket(None, tenant, subject=_subject(channel, form), channel=Channel.CHAT,
                                       category=_category(channel, form.topic), contact=contact,
                                       language=form.language, queue=queue.code)
        interaction = Interaction.objects.create(
            tenant=tenant, ticket=ticket, contact=contact, channel=Channel.CHAT, started_at=now,
            data={"chat_channel": channel.pk, "page_url": form.page_url, "topic": form.topic})
        session = ChatSession.objects.create(
            tenant=tenant, channel=channel, token_hash=token_hash(token), visitor_name=form.name, email=form.email,
            phone=form.phone, topic=form.topic, language=form.language, consent_at=now if form.consent else None,
            page_url=form.page_url, contact=contact, ticket=ticket, interaction=interaction,
            status=SessionStatus.OFFLINE if offline else SessionStatus.WAITING, created_at=now,
            last_activity_at=now)
        if not offline:
            session.task = routing.create_intake_task(
                tenant, channel="chat", queue=queue, language=form.language, ticket=ticket, interaction=interaction,
                external_id=f"{EXTERNAL_PREFIX}{session.pk}", now=now,
                attributes={"chat_session_id": session.pk, "visitor": form.name, "topic": form.topic,
                            "language": form.language, "page_url": form.page_url})
            session.save(update_fields=["task"])
        if form.text:
            _append(session, Sender.VISITOR, form.text, client_id=None, now=now)
        emit(tenant.pk, "chat.started", ticket=ticket,
             data={"session_id": session.pk, "channel_id": channel.pk, "offline": offline,
                   "task_id": session.task_id})
        if offline:
            expected = expected_reply_text(queue, next_opening(queue, now), form.language, bool(form.email))
            _append(session, Sender.SYSTEM, expected, client_id=None, now=now)
            if form.email:
                _email_customer_link(session, ticket, form.email, expected)
        else:
            transaction.on_commit(lambda: routing.dispatch_after_change([tenant.pk]))
    return Started(session, token, offline, expected)


def _subject(channel: ChatChannel, form: StartInput) -> str:
    """In the tenant's language (agents read it), with the topic when there is one."""
    with translation.override(channel.tenant.default_language):
        entry = topic_entry(channel, form.topic)
        label = localized(entry.get("labels"), channel.tenant.default_language, channel.default_language) if entry else ""
        return _("Chat: %(topic)s") % {"topic": label} if label else _("Chat with %(name)s") % {"name": form.name}


def _category(channel: ChatChannel, topic: str) -> Category | None:
    entry = topic_entry(channel, topic)
    code = entry.get("category") if entry else None
    if not code:
        return None
    category = Category.objects.filter(tenant_id=channel.tenant_id, code=str(code), is_active=True).first()
    if category is None:
        return None
    try:
        tickets.validate_custom_fields(category, {})
    except ActionError:  # the category needs fields a chat does not ask for: the agent sets it later
        return None
    return category


def expected_reply_text(queue: Any, opens: datetime | None, language: str, has_email: bool) -> str:
    """What an offline visitor is told, in the visitor's language, with the time in the queue's zone."""
    zone = queue.time_zone or Tenant.objects.filter(pk=queue.tenant_id).values_list("time_zone", flat=True).first()
    with translation.override(language):
        if opens is not None:
            local = timezone.localtime(opens, ZoneInfo(zone or "UTC"))
            when = formats.date_format(local, "DATETIME_FORMAT")
            text = _("We are offline now. We will answer your message after we open at %(time)s (%(zone)s).") % {
                "time": when, "zone": zone or "UTC"}
        else:
            text = _("We are offline now. We will answer your message as soon as we can.")
        if has_email:
            text += " " + _("We will also send you a link to follow your request by email.")
        return text


def _email_customer_link(session: ChatSession, ticket: Ticket, email: str, expected: str) -> None:
    from linia.dispatch import outbox, tokens
    from linia.dispatch.models import OutboundEmail

    link = tickets.issue_customer_link(ticket)
    address, name = tokens.mailbox_address(ticket)
    from email.utils import formataddr

    with translation.override(session.language or "en"):
        subject = _("We received your message [%(reference)s]") % {"reference": ticket.reference}
        body = "\n\n".join([
            _("Hello %(name)s,") % {"name": session.visitor_name},
            _("thank you for your message. Your request number is %(reference)s.") % {"reference": ticket.reference},
            expected,
            _("Follow your request and reply here: %(link)s") % {"link": link},
        ])
    row = outbox.queue(tenant_id=ticket.tenant_id, kind=OutboundEmail.Kind.ACK, ticket=ticket, message=None,
                       from_email=formataddr((name, address)) if name else address, to=[email],
                       reply_to=tokens.reply_address(ticket), subject=subject, body_text=body, body_html="",
                       msgid=outbox.new_msgid(address), headers={"Auto-Submitted": "auto-replied",
                                                                 "X-Linia-Ticket": ticket.reference})
    emit(ticket.tenant_id, "email.queued", ticket=ticket, data={"outbound_id": row.pk, "kind": row.kind, "to": [email]})


# --- appending messages --------------------------------------------------------------------------

def _append(session: ChatSession, sender: str, text: str, *, client_id: str | None, author: Any = None,
            file: tickets.NewAttachment | None = None, now: datetime | None = None) -> tuple[ChatMessage, bool]:
    """On a session locked by the caller (or just created in its transaction): store one message with the
    next seq, also on the ticket, and push it. Callers with a client id have looked it up under the same lock
    (a repeat returns the stored message); the unique constraint still holds."""
    now = now or timezone.now()
    seq = session.last_seq + 1
    ticket_message = None
    if sender != Sender.SYSTEM and session.ticket_id is not None:
        ticket_message = _on_ticket(session, sender, text, author, file, seq)
    session.last_seq = seq
    session.last_activity_at = now
    fastsql.save_fields(session, ["last_seq", "last_activity_at"])
    attachment = ticket_message.attachments.first() if ticket_message is not None and file is not None else None
    msg = fastsql.insert(ChatMessage(
        tenant_id=session.tenant_id, session=session, seq=seq, sender=sender, client_id=client_id,
        author_user=author if sender == Sender.AGENT else None, text=text, attachment=attachment,
        message=ticket_message, created_at=now))
    _push_message(session, msg)
    return msg, True


def _on_ticket(session: ChatSession, sender: str, text: str, author: Any, file: tickets.NewAttachment | None,
               seq: int) -> Message | None:
    """The same message on the ticket (the transcript stays there); agent replies record the chat's first
    response through add_message's routing hook. A visitor's text to a closed ticket stays in the chat only.
    The session was locked by _lock_with, which read the ticket's status with it."""
    ticket = Ticket(pk=session.ticket_id, tenant_id=session.tenant_id)
    visitor = sender == Sender.VISITOR
    if visitor and getattr(session, "_ticket_status_now", None) == TicketStatus.CLOSED:
        if file is not None:
            raise ActionError("ticket_closed", "The ticket is closed; open a new one.")
        log.info("chat %s: ticket closed, message %s kept in the chat only", session.pk, seq)
        return None
    # The status is known open: no savepoint of its own. Closed meanwhile (PostgreSQL): its error ends this
    # action too, and the widget's resend then finds the ticket closed.
    return tickets.add_message(
        None if visitor else author, ticket, body=text, channel=Channel.CHAT,
        direction=Message.Direction.INBOUND if visitor else Message.Direction.OUTBOUND,
        author_contact=Contact(pk=session.contact_id, tenant_id=session.tenant_id)
        if visitor and session.contact_id else None,
        attachments=[file] if file is not None else [], external_id=f"{EXTERNAL_PREFIX}{session.pk}:{seq}",
        external_id_is_new=True, savepoint=False)


def _push_message(session: ChatSession, msg: ChatMessage) -> None:
    realtime.to_visitor(session.pk, message_payload(msg))
    holder = _holder(session)
    if holder is not None and session.task_id is not None:
        realtime.to_agent(holder, {"kind": "chat.message", "task_id": session.task_id,
                                   "message": message_payload(msg, for_agent=True)})


def _task_row(session: ChatSession) -> tuple[int | None, str] | None:
    """(assigned agent, status) of the chat's routing task now (transfers and completion happen in routing).
    Read once per action: _sync_holder leaves it on the session for the push that follows."""
    if session.task_id is None:
        return None
    cached: tuple[int | None, str] | None = getattr(session, "_task_row_now", None)
    if cached is not None:
        return cached
    rows = list(Task.objects.filter(pk=session.task_id).order_by().values_list("assigned_to_id", "status")[:1])
    row = rows[0] if rows else None
    session._task_row_now = row  # type: ignore[attr-defined]
    return row


def _holder(session: ChatSession) -> int | None:
    row = _task_row(session)
    if row is None or row[1] != TaskStatus.ASSIGNED or row[0] is None:
        return None
    return int(row[0])


def _sync_holder(session: ChatSession) -> bool:
    """On a locked session: follow the routing task (accepted, transferred, back in the queue, completed).
    Pushes STATE to the visitor and chat.state to the agent when it changed; returns whether it did."""
    if session.status not in (SessionStatus.WAITING, SessionStatus.ACTIVE):
        return False
    row = _task_row(session)
    if row is not None and row[1] not in OPEN_TASK:  # completed or abandoned in routing: the chat is over
        _end_locked(session, actor=None, by="routing", now=timezone.now())
        return True
    holder = int(row[0]) if row is not None and row[1] == TaskStatus.ASSIGNED and row[0] is not None else None
    status = SessionStatus.ACTIVE if holder is not None else SessionStatus.WAITING
    if status == session.status and holder == session.agent_id:
        return False
    session.status, session.agent_id = status, holder
    session.save(update_fields=["status", "agent"])
    _push_state(session)
    return True


def _push_state(session: ChatSession, *, agent_id: int | None = None) -> None:
    task = Task.objects.filter(pk=session.task_id).first() if session.task_id else None
    realtime.to_visitor(session.pk, state_payload(session, task))
    if session.task_id is not None:
        realtime.to_agent(agent_id or session.agent_id or _holder(session),
                          {"kind": "chat.state", "task_id": session.task_id, "status": session.status})


def _locked(session_id: int) -> ChatSession:
    return ChatSession.objects.select_for_update().get(pk=session_id)


@dataclass
class _Held:
    """What one message needs under the session lock, read in one statement (a chat sends many)."""

    session: ChatSession
    task_tenant_id: int | None
    repeat_id: int | None  # the message already stored under the client id, if any


def _lock_sql(where: str) -> str:
    """Lock the session row and read, with it, its routing task's (holder, status, tenant) and the id of a
    message already stored under a client id (first parameter)."""
    session, task, message, ticket = (fastsql.table(m) for m in (ChatSession, Task, ChatMessage, Ticket))
    return (f"SELECT {fastsql.cols(ChatSession, 's')}, t.assigned_to_id, t.status, t.tenant_id, "  # noqa: S608
            f"(SELECT m.id FROM {message} m WHERE m.session_id = s.id AND m.client_id = %s), tk.status "
            f"FROM {session} s LEFT JOIN {task} t ON t.id = s.task_id LEFT JOIN {ticket} tk ON tk.id = s.ticket_id "
            f"WHERE {where}{fastsql.for_update('s')}")


def _held(row: tuple[Any, ...] | None) -> _Held | None:
    if row is None:
        return None
    session = fastsql.load(ChatSession, row)
    holder, status, task_tenant, repeat, ticket_status = row[fastsql.width(ChatSession):]
    if session.task_id is not None:
        session._task_row_now = (holder, status) if status is not None else None  # type: ignore[attr-defined]
    session._ticket_status_now = ticket_status  # type: ignore[attr-defined]
    return _Held(session, task_tenant, repeat)


def _lock_with(session_id: int, client_id: str | None) -> _Held:
    held = _held(fastsql.fetch_one(_lock_sql("s.id = %s"), [client_id, session_id]))
    if held is None:
        raise ChatSession.DoesNotExist(f"chat session {session_id}")
    return held


def _stored(held: _Held) -> ChatMessage | None:
    return ChatMessage.objects.get(pk=held.repeat_id) if held.repeat_id is not None else None


# --- the visitor ---------------------------------------------------------------------------------

def visitor_send(session: ChatSession, text: Any, client_id: Any) -> tuple[ChatMessage, bool]:
    """A visitor's message; (message, created). A repeated client id: the stored message, created False."""
    client_id = clean_client_id(client_id)
    text = clean_text(text)
    with transaction.atomic():
        held = _lock_with(session.pk, client_id)
        found = _stored(held)  # a resend after a lost ack is answered even when the chat has ended since
        if found is not None:
            return found, False
        locked = held.session
        _sync_holder(locked)  # may find the chat completed in routing meanwhile
        if locked.status == SessionStatus.ENDED:
            raise Conflict("ended", _("This chat has ended. Start a new chat to write again."))
        return _append(locked, Sender.VISITOR, text, client_id=client_id, author=None)


def visitor_file(session: ChatSession, *, filename: str, data: bytes, content_type: str,
                 client_id: Any) -> tuple[ChatMessage, bool]:
    """A visitor's image or file: checked (size, blocked types), stored on the ticket, sent as a message."""
    client_id = clean_client_id(client_id)
    limit = max_file_bytes()
    if len(data) > limit:
        raise ActionError("file_too_large", _("The file is too large (at most %(mb)s MB).") % {
            "mb": max(1, limit // (1024 * 1024))}, {"file": [_("too large")]})
    item = tickets.NewAttachment(filename=filename, data=data, content_type=content_type)
    try:
        tickets.check_attachment(item)
    except ActionError as exc:
        raise ActionError("file_type" if exc.code == "attachment_type" else "invalid_file",
                          _("This type of file is not accepted.") if exc.code == "attachment_type"
                          else _("The file could not be accepted."), {"file": [_("not accepted")]}) from None
    with transaction.atomic():
        held = _lock_with(session.pk, client_id)
        found = _stored(held)
        if found is not None:
            return found, False
        locked = held.session
        _sync_holder(locked)
        if locked.status == SessionStatus.ENDED:
            raise Conflict("ended", _("This chat has ended. Start a new chat to write again."))
        try:
            return _append(locked, Sender.VISITOR, "", client_id=client_id, file=item)
        except ActionError as exc:
            if exc.code == "ticket_closed":
                raise Conflict("ended", _("This chat has ended. Start a new chat to write again.")) from None
            raise


def visitor_typing(session: ChatSession, on: bool) -> None:
    holder = _holder(session)
    if holder is not None and session.task_id is not None:  # nothing stored: outside a transaction it goes at once
        realtime.to_agent(holder, {"kind": "chat.typing", "task_id": session.task_id, "on": bool(on)})


def visitor_end(session: ChatSession) -> ChatSession:
    """The visitor closes the chat. A chat still waiting leaves the queue (abandoned); an agent's task stays
    with the agent to complete in routing."""
    return _end(session.pk, actor=None, by="visitor")


def _end(session_id: int, *, actor: Any, by: str) -> ChatSession:
    with transaction.atomic():
        session = _locked(session_id)
        if session.status != SessionStatus.ENDED:
            _end_locked(session, actor=actor, by=by, now=timezone.now())
    return session


def _end_locked(session: ChatSession, *, actor: Any, by: str, now: datetime) -> None:
    """On a locked session: ended for good (a system message says so); a chat still waiting leaves the queue."""
    from linia.routing import actions as routing

    previous_agent = session.agent_id
    session.status, session.ended_at = SessionStatus.ENDED, now
    session.save(update_fields=["status", "ended_at"])
    if session.interaction_id is not None:
        Interaction.objects.filter(pk=session.interaction_id, ended_at__isnull=True).update(ended_at=now)
    if session.task_id is not None and Task.objects.filter(
            pk=session.task_id, status__in=(TaskStatus.QUEUED, TaskStatus.RESERVED)).exists():
        try:
            with transaction.atomic():
                routing.abandon_task(None, session.task_id, reason=f"chat ended by {by}")
        except ActionError as exc:  # taken meanwhile: the agent completes it
            log.info("chat %s: task not abandoned (%s)", session.pk, exc.code)
    emit(session.tenant_id, "chat.ended", ticket=Ticket(pk=session.ticket_id, tenant_id=session.tenant_id)
         if session.ticket_id else None, actor=actor, data={"session_id": session.pk, "by": by})
    with translation.override(session.language or "en"):
        text = _("The visitor left the chat.") if by == "visitor" else _("The chat has ended.")
    _append(session, Sender.SYSTEM, text, client_id=None, now=now)
    _push_state(session, agent_id=previous_agent)


# --- the agent (called by the desk) --------------------------------------------------------------

def _session_for_task(actor: Any, task_id: int, *, holder_only: bool = True) -> ChatSession:
    """The chat of a routing task the actor holds. Another tenant's task, or a task without a chat, is
    NotFound; a task of the actor's tenant held by someone else is PermissionDenied."""
    task = Task.objects.filter(pk=task_id).only("tenant_id", "assigned_to_id", "status").first()
    if task is None or actor is None or not getattr(actor, "is_authenticated", False):
        raise NotFound("chat")
    member = membership(actor, task.tenant_id)
    admin = is_platform_admin(actor)
    if member is None and not admin:
        raise NotFound("chat")
    session = ChatSession.objects.filter(task_id=task_id, tenant_id=task.tenant_id).first()
    if session is None:
        raise NotFound("chat")
    holds = task.assigned_to_id == actor.pk and task.status == TaskStatus.ASSIGNED
    if holder_only and not holds:
        raise PermissionDenied("chat.reply", "only the agent who holds this chat may do this")
    if not holder_only and not holds and not admin and (member is None or member.role != Role.SUPERVISOR):
        offered = task.reservations.filter(agent_id=actor.pk, status=ReservationStatus.PENDING).exists()
        if not offered:
            raise PermissionDenied("chat.view", "only the chat's agent or a supervisor may read it")
    return session


def agent_send(actor: Any, task_id: int, text: str, client_id: str | None = None) -> ChatMessage:
    """The holding agent's message to the visitor; records the chat's first response (routing hook)."""
    text = clean_text(text)
    client_id = clean_client_id(client_id)
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotFound("chat")
    with transaction.atomic():  # the checks of _session_for_task, on the row locked for the message
        # by s.task_id alone: SQLite then uses its index (with the tenant test in SQL it scanned the tenant's chats)
        held = _held(fastsql.fetch_one(_lock_sql("s.task_id = %s"), [client_id, task_id]))
        if held is None or held.task_tenant_id != held.session.tenant_id:
            raise NotFound("chat")
        if membership(actor, held.task_tenant_id) is None and not is_platform_admin(actor):
            raise NotFound("chat")
        locked = held.session
        holder, status = getattr(locked, "_task_row_now", None) or (None, None)
        if holder != actor.pk or status != TaskStatus.ASSIGNED:
            raise PermissionDenied("chat.reply", "only the agent who holds this chat may do this")
        found = _stored(held)
        if found is not None:
            return found
        _sync_holder(locked)
        if locked.status == SessionStatus.ENDED:
            raise Conflict("ended", _("This chat has ended."))
        msg, _created = _append(locked, Sender.AGENT, text, client_id=client_id, author=actor)
    return msg


def agent_typing(actor: Any, task_id: int, on: bool) -> None:
    session = _session_for_task(actor, task_id)
    if session.status in (SessionStatus.WAITING, SessionStatus.ACTIVE):
        payload = {"type": "typing", "on": bool(on), "agent": (agent_public(actor) or {}).get("name", "")}
        realtime.to_visitor(session.pk, payload)


def agent_end(actor: Any, task_id: int) -> None:
    """The agent ends the chat for the visitor; completing the task stays in routing."""
    session = _session_for_task(actor, task_id)
    _end(session.pk, actor=actor, by="agent")


def sync_task(task_id: int) -> None:
    """Call after a chat task was accepted or transferred (the desk does): the visitor sees the agent (or
    waits again) at once, not only at the next message."""
    session = ChatSession.objects.filter(task_id=task_id).only("pk").first()
    if session is None:
        return
    with transaction.atomic():
        _sync_holder(_locked(session.pk))


def sync_session(session: ChatSession) -> ChatSession:
    """As sync_task, for the visitor's (re)connect; returns the fresh session."""
    with transaction.atomic():
        locked = _locked(session.pk)
        _sync_holder(locked)
    locked.__dict__.pop("_task_row_now", None)  # the caller keeps this object: no stale task row on it
    return locked


# --- after the chat: transcript, rating ----------------------------------------------------------

def email_transcript(session: ChatSession, email: Any) -> None:
    """The chat's messages by email (through the outbox) to the address the visitor gives."""
    from email.utils import formataddr

    from linia.dispatch import outbox, tokens
    from linia.dispatch.models import OutboundEmail

    if not isinstance(email, str) or not email.strip():
        raise ActionError("invalid_email", _("Please enter your email address."), {"email": [_("required")]})
    try:
        address_to = normalize_email(email)
    except ValueError:
        raise ActionError("invalid_email", _("This is not a valid email address."),
                          {"email": [_("This is not a valid email address.")]}) from None
    if session.ticket_id is None:
        raise NotFound("chat")
    ticket = Ticket.objects.select_related("tenant").get(pk=session.ticket_id)
    rows = list(ChatMessage.objects.filter(session=session).select_related("author_user", "attachment")
                .order_by("seq"))
    zone = ZoneInfo(ticket.tenant.time_zone or "UTC")
    with translation.override(session.language or "en"):
        lines = [_("Transcript of your chat (%(reference)s)") % {"reference": ticket.reference}, ""]
        for item in rows:
            names: dict[str, str] = {Sender.VISITOR: session.visitor_name or _("You"), Sender.SYSTEM: "—"}
            who = names.get(item.sender) or str((agent_public(item.author_user) or {}).get("name") or _("Agent"))
            text = item.text or (_("[file: %(name)s]") % {"name": item.attachment.filename} if item.attachment else "")
            lines.append(f"[{timezone.localtime(item.created_at, zone):%Y-%m-%d %H:%M}] {who}: {text}")
        subject = _("Your chat transcript [%(reference)s]") % {"reference": ticket.reference}
    address, name = tokens.mailbox_address(ticket)
    with transaction.atomic():
        row = outbox.queue(tenant_id=ticket.tenant_id, kind=OutboundEmail.Kind.REPLY, ticket=ticket, message=None,
                           from_email=formataddr((name, address)) if name else address, to=[address_to],
                           reply_to=tokens.reply_address(ticket), subject=subject, body_text="\n".join(lines),
                           body_html="", msgid=outbox.new_msgid(address),
                           headers={"X-Linia-Ticket": ticket.reference})
        emit(ticket.tenant_id, "chat.transcript_sent", ticket=ticket,
             data={"session_id": session.pk, "outbound_id": row.pk, "to": [address_to]})


def rate(session: ChatSession, score: Any, comment: Any) -> Any:
    """The visitor's rating (1-5 and a comment) of this chat, kept for the quality reports."""
    if session.ticket_id is None:
        raise NotFound("chat")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ActionError("invalid_score", _("Choose a score from 1 to 5."), {"score": [_("1 to 5")]})
    if comment is not None and not isinstance(comment, str):
        raise ActionError("invalid_value", _("The comment must be text."), {"comment": [_("must be text")]})
    comment = _CONTROL.sub("", comment or "").strip()
    if len(comment) > 2000:
        raise ActionError("comment_too_long", _("The comment is too long (at most 2000 characters)."),
                          {"comment": [_("at most %(n)s characters") % {"n": 2000}]})
    ticket = Ticket.objects.get(pk=session.ticket_id)
    interaction = Interaction.objects.filter(pk=session.interaction_id).first() if session.interaction_id else None
    agent = session.agent
    if agent is None:
        last = (ChatMessage.objects.filter(session=session, sender=Sender.AGENT).select_related("author_user")
                .order_by("-seq").first())
        agent = last.author_user if last is not None else None
    return tickets.rate_service(ticket, score=score, comment=comment, source="chat", interaction=interaction,
                                agent=agent)


# --- configuration -------------------------------------------------------------------------------

def ensure_chat_channel(tenant: Tenant, *, queue: Any = None, name: str = "", greeting: dict[str, str] | None = None,
                        colours: dict[str, str] | None = None, topics: list[dict[str, Any]] | None = None,
                        allowed_origins: list[str] | None = None, public_key: str | None = None) -> ChatChannel:
    """The tenant's chat channel (created once; later runs keep what an admin changed). The demo calls it."""
    from linia.routing.models import Queue

    key = public_key or f"demo-{tenant.slug}"
    found = ChatChannel.objects.filter(public_key=key).first()
    if found is not None:
        if found.tenant_id != tenant.pk:
            raise ActionError("key_taken", "This public key belongs to another tenant.")
        return found
    if queue is None:
        queue = next((q for q in Queue.objects.filter(tenant=tenant, is_active=True).order_by("code")
                      if "chat" in (q.channels or [])), None)
        if queue is None:
            raise ActionError("no_chat_queue", "The tenant has no active queue serving chat.")
    return ChatChannel.objects.create(
        tenant=tenant, public_key=key, name=name or f"{tenant.name} chat", queue=queue,
        allowed_origins=allowed_origins or [], greeting=greeting or {}, colours=colours or {
            "primary": "#0b6bcb", "on_primary": "#ffffff"},
        default_language=tenant.default_language if tenant.default_language in settings.CUSTOMER_LANGUAGES else "en",
        topics=topics or [])


def expire_before(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=session_days())
