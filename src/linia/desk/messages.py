"""Human, translated wording for events (the history timeline) and for action errors."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linia.core.errors import ActionError
from linia.tickets.customer_page import describe_event as describe_customer_event
from linia.tickets.models import Status

FIELD_LABELS = {
    "subject": gettext_lazy("subject"), "priority": gettext_lazy("priority"), "category_id": gettext_lazy("category"),
    "store_id": gettext_lazy("store"), "department_id": gettext_lazy("department"),
    "assignee_id": gettext_lazy("assignee"), "queue": gettext_lazy("queue"), "status": gettext_lazy("status"),
    "contact_id": gettext_lazy("contact"), "channel": gettext_lazy("channel"),
}


def _status(value: Any) -> str:
    try:
        return str(Status(value).label)  # a lazy string
    except ValueError:
        return str(value)


def describe_event(event: Any) -> str:
    data = event.data or {}
    kind = event.kind
    customer_text = describe_customer_event(kind, data)  # the customer's ticket page: replies, ratings, links
    if customer_text is not None:
        return customer_text
    from linia.portal.events import describe_portal_event  # the store's confirm / reopen in the portal

    portal_text = describe_portal_event(kind)
    if portal_text is not None:
        return portal_text
    if kind == "ticket.created":
        return _("Ticket created")
    if kind == "ticket.status_changed":
        text = _("Status: %(old)s → %(new)s") % {"old": _status(data.get("from")), "new": _status(data.get("to"))}
        reason = {"customer_reply": _("customer replied"), "merged": _("merged"),
                  "client_reply": _("the client's department replied")}.get(data.get("reason", ""))
        return f"{text} ({reason})" if reason else text
    if kind == "ticket.updated":
        changed = [str(FIELD_LABELS.get(k, k)) for k in (data.get("changes") or {})]
        return _("Changed: %(fields)s") % {"fields": ", ".join(changed)} if changed else _("Fields or tags changed")
    if kind == "ticket.assigned":
        return _("Assigned") if data.get("assignee_id") else _("Unassigned")
    if kind == "message.created":
        return _("Internal note added") if data.get("kind") == "note" else (
            _("Reply sent") if data.get("direction") == "outbound" else _("Message received"))
    if kind == "attachment.created":
        return _("Attachments added")
    if kind == "ticket.merged":
        return _("Merged into %(reference)s") % {"reference": data.get("into_reference", "?")}
    if kind.startswith("email.") or kind in ("ticket.forwarded", "ticket.client_replied"):
        return _describe_email_event(kind, data)
    return _describe_intake_event(kind, data) or str(kind)


def _describe_intake_event(kind: str, data: dict[str, Any]) -> str | None:
    """Chat and web form events (linia.intake.chat, linia.intake.webform)."""
    if kind == "chat.started":
        return _("Chat started outside opening hours (no agent)") if data.get("offline") else _("Chat started")
    if kind == "chat.ended":
        return {"visitor": _("The customer left the chat"), "agent": _("The agent ended the chat")}.get(
            str(data.get("by")), _("Chat ended"))
    if kind == "chat.transcript_sent":
        to = data.get("to")
        return _("Chat transcript emailed to %(to)s") % {"to": ", ".join(to) if isinstance(to, list) else "?"}
    if kind == "webform.submitted":
        files = data.get("attachments") or 0
        text = _("Sent through the web form %(form)s") % {"form": data.get("form_key", "?")}
        return f"{text} (+{files} 📎)" if files else text
    return None


def _describe_email_event(kind: str, data: dict[str, Any]) -> str:
    """Outbound email and forwarding (linia.dispatch)."""
    to = ", ".join(data.get("to") or []) if isinstance(data.get("to"), list) else str(data.get("to") or "")
    values = {"to": to or "?", "attempts": data.get("attempts", "?"), "department": data.get("department") or "?"}
    texts = {
        "ticket.forwarded": _("Forwarded to %(department)s"),
        "ticket.client_replied": _("The client's department replied"),
        "email.queued": _("Email to %(to)s queued"),
        "email.sent": _("Email sent to %(to)s"),
        "email.failed": _("Email to %(to)s failed (attempt %(attempts)s); it will be retried"),
        "email.dead": _("Email to %(to)s failed %(attempts)s times; retry it by hand"),
        "email.retry": _("Email to be sent again"),
        "email.ack_suppressed": _("Acknowledgement to %(to)s not sent (too many per hour)"),
    }
    text = texts.get(kind)
    return text % values if text else kind


ERROR_MESSAGES = {
    "invalid_transition": gettext_lazy("This status change is not allowed."),
    "invalid_custom_fields": gettext_lazy("Some fields of this category are missing or wrong."),
    "invalid_contact": gettext_lazy("Check the phone numbers and email addresses."),
    "invalid_attachment": gettext_lazy("An attachment could not be accepted."),
    "attachment_too_large": gettext_lazy("An attachment is too large."),
    "attachment_type": gettext_lazy("Files of this type are not accepted."),
    "invalid_merge": gettext_lazy("These tickets cannot be merged."),
    "ticket_closed": gettext_lazy("The ticket is closed; open a new one."),
    "no_recipient": gettext_lazy("The customer has no email address to reply to."),
    "department_no_email": gettext_lazy("This department has no email address."),
    "not_failed": gettext_lazy("This email is not failing."),
    "invalid_reference": gettext_lazy("A chosen value does not exist in this tenant."),
    "invalid_filter": gettext_lazy("The filter is not valid; showing all tickets instead."),
}


def translated_error(exc: ActionError) -> tuple[str, dict[str, list[str]]]:
    """The top message in the agent's language (the action's own detail kept in brackets) and field errors."""
    known = ERROR_MESSAGES.get(exc.code)
    if exc.code == "invalid_value" and "body" in exc.fields:
        message = _("Write a message or attach a file.")
    elif exc.code == "invalid_value" and "subject" in exc.fields:
        message = _("Subject is required.")
    else:
        message = f"{known} ({exc.message})" if known and exc.message and exc.message != str(known) else str(
            known or exc.message)
    fields: dict[str, list[str]] = {}
    for key, items in exc.fields.items():
        fields.setdefault(key.removeprefix("custom_fields."), []).extend(str(i) for i in items)
    return message, fields
