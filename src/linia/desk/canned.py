"""Canned chat responses for one chat on the agent's desk, with their placeholders filled (read path).

Placeholders are replaced literally ({customer_name}, {agent_name}, {store_hours}, {ticket_number}); anything
else in braces stays as typed, so a tenant's text can never reach Python's format machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from linia.core.errors import NotFound
from linia.core.models import User
from linia.desk.models import CannedResponse
from linia.desk.realtime_access import is_agent
from linia.directory.hours import DAYS, HoursError, format_weekly, parse_weekly
from linia.routing.models import Task, TaskStatus

PLACEHOLDERS = ("customer_name", "agent_name", "store_hours", "ticket_number")
MAX_SHOWN = 200


def _day_names() -> dict[str, str]:
    return {"mon": pgettext("weekday", "Mon"), "tue": pgettext("weekday", "Tue"),
            "wed": pgettext("weekday", "Wed"), "thu": pgettext("weekday", "Thu"),
            "fri": pgettext("weekday", "Fri"), "sat": pgettext("weekday", "Sat"),
            "sun": pgettext("weekday", "Sun")}


def hours_text(weekly: Mapping[str, object] | None) -> str:
    """"Mon–Fri 08:00–22:00; Sat 09:00–21:00; Sun closed" in the active language; "" when unknown."""
    if not weekly:
        return ""
    try:
        schedule = parse_weekly(weekly)
    except HoursError:
        return ""
    if schedule.always:
        return _("open 24/7")
    days = format_weekly(schedule)
    names = _day_names()
    parts: list[str] = []
    start = 0
    for i in range(1, len(DAYS) + 1):  # runs of consecutive days with the same hours
        if i < len(DAYS) and days[DAYS[i]] == days[DAYS[start]]:
            continue
        label = names[DAYS[start]] if i - 1 == start else f"{names[DAYS[start]]}–{names[DAYS[i - 1]]}"
        spans = ", ".join(s.replace("-", "–") for s in days[DAYS[start]]) or _("closed")
        parts.append(f"{label} {spans}")
        start = i
    return "; ".join(parts)


def _held_task(user: User, task_id: int) -> Task:
    """The agent's own chat on hand; another agent's or another tenant's task does not exist for them."""
    task = (Task.objects.select_related("tenant", "queue", "ticket__store", "ticket__contact", "interaction__contact")
            .filter(pk=task_id, assigned_to=user, status__in=(TaskStatus.ASSIGNED, TaskStatus.WRAP_UP)).first())
    if task is None or not is_agent(user, task.tenant_id):
        raise NotFound("task")
    return task


def _customer_name(task: Task) -> str:
    for contact in (task.ticket.contact if task.ticket else None, task.interaction.contact if task.interaction else None):
        if contact is not None and contact.name:
            return contact.name
    attrs: Any = task.attributes if isinstance(task.attributes, dict) else {}
    for key in ("visitor", "name", "customer"):
        if isinstance(attrs.get(key), str) and attrs[key].strip():
            return str(attrs[key]).strip()
    return ""


def _store_hours(task: Task) -> str:
    """The ticket's store, else the store of the customer's latest ticket, else the tenant's own text."""
    store = task.ticket.store if task.ticket else None
    contact = (task.ticket.contact if task.ticket else None) or (task.interaction.contact if task.interaction else None)
    if store is None and contact is not None:
        latest = contact.tickets.filter(tenant_id=task.tenant_id, store__isnull=False).select_related("store")
        found = latest.order_by("-created_at").first()
        store = found.store if found else None
    if store is not None:
        return hours_text(store.opening_hours)
    settings: Any = task.tenant.settings if isinstance(task.tenant.settings, dict) else {}
    text = settings.get("store_hours")
    return text if isinstance(text, str) else hours_text(task.queue.opening_hours)


def chat_language(task: Task) -> str:
    contact = (task.ticket.contact if task.ticket else None) or (task.interaction.contact if task.interaction else None)
    return task.language or (contact.language if contact else "") or task.tenant.default_language or "en"


def fill(body: str, values: Mapping[str, str]) -> str:
    for key in PLACEHOLDERS:
        body = body.replace("{" + key + "}", values.get(key, ""))
    return body


def responses_for_task(user: User, task_id: int) -> dict[str, Any]:
    """The tenant's active responses in the chat's language (and language-neutral ones), filled for it."""
    task = _held_task(user, task_id)
    language = chat_language(task)
    with translation.override(language):
        values = {"customer_name": _customer_name(task),
                  "agent_name": user.greeting_name,
                  "store_hours": _store_hours(task),
                  "ticket_number": task.ticket.reference if task.ticket else ""}
    rows = (CannedResponse.objects.filter(tenant_id=task.tenant_id, is_active=True)
            .filter(Q(language=language) | Q(language="")).order_by("title")[:MAX_SHOWN])
    items = [{"id": r.pk, "title": r.title, "shortcut": r.shortcut, "language": r.language,
              "text": fill(r.body, values)} for r in rows]
    return {"task_id": task.pk, "language": language, "items": items}
