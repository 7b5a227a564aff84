"""Chat reads: a channel by its public key, a session by the visitor's token, history, the agent's transcript,
the widget's configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Q
from django.utils import timezone

from linia.intake.chat import actions
from linia.intake.chat.models import ChatChannel, ChatMessage, ChatSession, SessionStatus
from linia.intake.chat.serialize import iso, message_payload

HISTORY_LIMIT = 1000


def channel_by_key(key: str) -> ChatChannel | None:
    if not isinstance(key, str) or not 0 < len(key) <= 64 or "\x00" in key:  # PostgreSQL refuses NUL in text
        return None
    return (ChatChannel.objects.select_related("tenant", "queue")
            .filter(public_key=key, is_active=True, tenant__is_active=True).first())


def session_for_token(channel: ChatChannel, token: str | None, now: datetime | None = None) -> ChatSession | None:
    """The session of this channel holding ``token``; None when unknown, of another channel (or tenant), or
    expired (no activity for LINIA_CHAT_SESSION_DAYS)."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None  # (a NUL is fine here: only the token's hash reaches the database)
    session = (ChatSession.objects.select_related("agent")
               .filter(token_hash=actions.token_hash(token), channel_id=channel.pk, tenant_id=channel.tenant_id)
               .first())
    if session is None or session.last_activity_at < actions.expire_before(now):
        return None
    return session


def history(session: ChatSession, after_seq: int = 0, *, key: str = "", token: str = "",
            limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """MSGs with seq > after_seq, in order (the visitor's file URLs carry their token)."""
    rows = (ChatMessage.objects.filter(session=session, seq__gt=max(0, after_seq))
            .select_related("attachment", "author_user").order_by("seq")[:limit])
    return [message_payload(m, key=key, token=token) for m in rows]


def message_by_seq(session: ChatSession, seq: int) -> ChatMessage | None:
    return (ChatMessage.objects.select_related("attachment", "author_user", "message")
            .filter(session=session, seq=seq).first())


def transcript(actor: Any, task_id: int, after_seq: int = 0) -> list[dict[str, Any]]:
    """The chat of a routing task for the desk: its holder, an agent it is offered to, or a supervisor of the
    tenant. Another tenant's task is NotFound."""
    session = actions._session_for_task(actor, task_id, holder_only=False)
    rows = (ChatMessage.objects.filter(session=session, seq__gt=max(0, after_seq))
            .select_related("attachment", "author_user", "message").order_by("seq")[:HISTORY_LIMIT])
    return [message_payload(m, for_agent=True) for m in rows]


def chat_for_task(actor: Any, task_id: int) -> dict[str, Any]:
    """Who the visitor is and the chat's status, for the desk's chat tab header."""
    session = actions._session_for_task(actor, task_id, holder_only=False)
    return {"task_id": task_id, "session_id": session.pk, "status": session.status, "name": session.visitor_name,
            "email": session.email, "phone": session.phone, "topic": session.topic, "language": session.language,
            "page_url": session.page_url, "ticket_id": session.ticket_id, "last_seq": session.last_seq,
            "created_at": iso(session.created_at)}


# --- origins -------------------------------------------------------------------------------------

def _origin_parts(origin: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def origin_allowed(channel: ChatChannel, origin: str | None, host: str | None) -> bool:
    """No Origin (not a browser, or same-origin GET): allowed. This server's own host: allowed. Else one of the
    channel's allowed origins: exact, or "https://*.shop.example" for its subdomains."""
    if not origin:
        return True
    got = _origin_parts(origin)
    if got is None:
        return False
    scheme, hostname, port = got
    if host:
        own = _origin_parts(f"{scheme}://{host}")
        if own is not None and own[1:] == (hostname, port):
            return True
    for allowed in channel.allowed_origins or []:
        if not isinstance(allowed, str):
            continue
        wildcard = "://*." in allowed
        want = _origin_parts(allowed.replace("://*.", "://", 1))
        if want is None or want[0] != scheme or want[2] != port:
            continue
        if want[1] == hostname or (wildcard and hostname.endswith("." + want[1])):
            return True
    return False


# --- the widget's configuration ------------------------------------------------------------------

def config(channel: ChatChannel, language: str, now: datetime | None = None) -> dict[str, Any]:
    from linia.routing.queries import next_opening, queue_is_open

    now = now or timezone.now()
    queue = channel.queue
    is_open = queue.is_active and queue_is_open(queue, now)
    opens = None if is_open else next_opening(queue, now) if queue.is_active else None
    fallback = channel.default_language
    topics = [{"code": str(t["code"]), "label": actions.localized(t.get("labels"), language, fallback) or str(t["code"])}
              for t in channel.topics or [] if isinstance(t, dict) and t.get("code")]
    return {
        "name": channel.name,
        "greeting": actions.localized(channel.greeting, language, fallback),
        "colours": channel.colours or {},
        "language": language,
        "topics": topics,
        "consent_required": channel.consent_required,
        "consent_text": actions.localized(channel.consent_text, language, fallback),
        "open": is_open,
        "next_open": iso(opens.astimezone(UTC)) if opens is not None else None,
        "offline_text": None if is_open else actions.expected_reply_text(queue, opens, language, False),
        "max_message_chars": actions.max_message_chars(),
        "max_file_bytes": actions.max_file_bytes(),
    }


def open_sessions(tenant_id: int) -> int:
    return ChatSession.objects.filter(Q(status=SessionStatus.WAITING) | Q(status=SessionStatus.ACTIVE),
                                      tenant_id=tenant_id).count()
