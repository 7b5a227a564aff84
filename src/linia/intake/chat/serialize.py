"""Payload shapes of the chat protocol (docs/chat.md): MSG and STATE, the same over HTTP and websockets."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from linia.intake.chat.models import ChatMessage, ChatSession, SessionStatus
from linia.routing.models import Task, TaskStatus


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def agent_public(user: Any) -> dict[str, Any] | None:
    """What a visitor sees of an agent: a first name (or the login name), no surname, no id."""
    if user is None:
        return None
    name = (user.first_name or "").strip() or user.get_username()
    return {"name": name, "avatar_url": None}


def visitor_file_path(key: str, token: str, seq: int) -> str:
    """Path (on this server) of a message's file for the visitor holding ``token``."""
    return reverse("chat:file", args=[key, token, seq])


def message_payload(msg: ChatMessage, *, for_agent: bool = False, key: str = "", token: str = "") -> dict[str, Any]:
    """MSG. A visitor's file URL needs the visitor's own token: consumers and views fill it in
    (``with_file_url``); for agents it is the desk's download of the ticket attachment."""
    attachment = None
    att = msg.attachment if msg.attachment_id is not None else None
    if att is not None:
        url: str | None = None
        if for_agent and msg.message is not None:
            url = reverse("desk:attachment", args=[msg.message.ticket_id, att.pk])
        elif key and token:
            url = visitor_file_path(key, token, msg.seq)
        attachment = {"name": att.filename, "url": url, "content_type": att.content_type, "size": att.size}
    payload: dict[str, Any] = {
        "type": "message", "seq": msg.seq, "client_id": msg.client_id, "sender": msg.sender, "text": msg.text,
        "agent": agent_public(msg.author_user) if msg.sender == "agent" else None,
        "attachment": attachment, "created_at": iso(msg.created_at),
    }
    if for_agent and msg.author_user_id is not None:
        payload["author_id"] = msg.author_user_id
    return payload


def with_file_url(payload: dict[str, Any], key: str, token: str) -> dict[str, Any]:
    attachment = payload.get("attachment")
    if not attachment or attachment.get("url"):
        return payload
    return {**payload, "attachment": {**attachment, "url": visitor_file_path(key, token, payload["seq"])}}


def queue_position(task: Task | None) -> int | None:
    """1 = next to be served; None when not waiting."""
    if task is None or task.status not in (TaskStatus.QUEUED, TaskStatus.RESERVED):
        return None
    ahead = Task.objects.filter(queue_id=task.queue_id, status__in=(TaskStatus.QUEUED, TaskStatus.RESERVED),
                                queued_at__lt=task.queued_at).count()
    return ahead + 1


def state_payload(session: ChatSession, task: Task | None = None) -> dict[str, Any]:
    """STATE: status, the agent (when one holds the chat) and the place in the queue (while waiting)."""
    position = queue_position(task) if session.status == SessionStatus.WAITING else None
    return {"type": "state", "status": session.status,
            "agent": agent_public(session.agent) if session.status == SessionStatus.ACTIVE else None,
            "queue_position": position}
