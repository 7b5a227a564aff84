"""Agent desktop and supervisor view: server-rendered shells; live state arrives over the websocket.

The pages carry only what does not change during a shift (break reasons, dispositions, queues, translated
strings); everything live (presence, offers, tasks, queue figures) comes from the consumer's snapshot and
events, so a reload or reconnect always shows the current state.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from linia.core.errors import NotFound
from linia.core.models import Membership, Tenant
from linia.core.permissions import scope_tickets
from linia.desk import exports
from linia.desk.canned import responses_for_task
from linia.desk.realtime_access import agent_tenants, is_agent, is_supervisor
from linia.desk.views.common import desk_view, forbidden
from linia.routing import queries
from linia.routing.actions import ROUTING_ROLES
from linia.routing.models import (
    BreakReason,
    Disposition,
    PresenceState,
    Queue,
    ReservationStatus,
    Task,
    TaskStatus,
)
from linia.tickets import statuses
from linia.tickets.models import Contact, Ticket
from linia.tickets.queries import contact_search

HISTORY_LIMIT = 10
CHAT_MAX_CHARS = 2000  # the composer's limit; the chat itself checks its own
# States an agent picks by hand; busy and wrap-up follow the contacts.
SELECTABLE_STATES = (PresenceState.AVAILABLE, PresenceState.BREAK, PresenceState.TRAINING, PresenceState.OTHER,
                     PresenceState.OFFLINE)


STATE_LABELS = {
    PresenceState.OFFLINE: pgettext_lazy("presence", "Offline"),
    PresenceState.AVAILABLE: pgettext_lazy("presence", "Available"),
    PresenceState.BUSY: pgettext_lazy("presence", "Busy"),
    PresenceState.WRAP_UP: pgettext_lazy("presence", "Wrap-up"),
    PresenceState.BREAK: pgettext_lazy("presence", "Break"),
    PresenceState.TRAINING: pgettext_lazy("presence", "Training"),
    PresenceState.OTHER: pgettext_lazy("presence", "Other"),
}


def _state_labels() -> dict[str, str]:
    return {str(value): str(label) for value, label in STATE_LABELS.items()}


def _task_state_labels() -> dict[str, str]:
    return {str(value): str(label) for value, label in TaskStatus.choices}


def _js_strings() -> dict[str, str]:
    """Texts the scripts show, translated here so ru/pl/en come from the same .po files as the pages."""
    return {
        "connected": _("Connected"), "connecting": _("Connecting…"),
        "offline": _("Disconnected, retrying in %(s)s s"), "denied": _("Signed out or no access: reload the page"),
        "incoming": _("Incoming"), "expires_in": _("%(s)s s to answer"), "no_tasks": _("No contact in progress."),
        "ended": _("Ended"), "wrapup_left": _("Wrap-up: %(t)s left"), "wrapup_over": _("Wrap-up time is over"),
        "done": _("Done"), "error": _("Error"), "caller": _("Caller"), "queue": _("Queue"),
        "waiting": _("Waiting"), "contact": _("Customer"), "open_tickets": _("Open tickets"),
        "store": _("Store"), "ticket_registered": _("Ticket registered"), "unknown": _("Unknown"),
        "since": _("since %(t)s"), "moved": _("Task moved."), "state_changed": _("State changed."),
        "offer_gone": _("The offer is no longer available."), "language": _("Language"),
        "call": _("Call"), "chat": _("Chat"), "email": _("Email"), "messenger": _("Messenger"),
        "ticket": _("Ticket follow-up"), "register_ticket": _("Register a ticket"),
        "complete": _("End contact"), "no_agents": _("No agents yet."), "no_queues": _("No queues yet."),
        "not_responding": _("not responding"), "subject": _("Subject"), "transfer": _("Transfer to queue"),
    }


def _chat_strings() -> dict[str, str]:
    return {
        "transfer_agent": _("Transfer to agent"), "chat_message": _("Chat message"),
        "chat_placeholder": _("Write to the customer… (/ for canned responses)"),
        "composer_hint": _("Enter sends, Shift+Enter adds a line"), "canned": _("Canned responses"),
        "end_chat": _("End chat"), "send": _("Send"), "transcript": _("Chat transcript"),
        "attachment": _("Attachment"), "customer": _("Customer"), "agent": _("Agent"), "system": _("System"),
        "not_sent": _("Not sent"), "sending": _("sending…"), "no_messages": _("No messages yet."),
        "chat_ended": _("The chat has ended."), "customer_typing": _("The customer is typing…"),
        "first_reply_in": _("First reply in %(t)s"), "first_reply_due": _("First reply: %(t)s of %(target)s"),
        "no_canned": _("No canned response matches."), "unread": _("%(n)s unread"),
        "open_ticket": _("Open the ticket"),
    }


def _colleagues(user: Any, tenant_ids: list[int]) -> list[tuple[int, str, int]]:
    """Who a contact can be handed to: the other agents and supervisors of the agent's tenants."""
    members = (Membership.objects.filter(tenant_id__in=tenant_ids, role__in=ROUTING_ROLES, user__is_active=True)
               .exclude(user=user).select_related("user").order_by("user__first_name", "user__username"))
    return [(m.user_id, m.user.display_name, m.tenant_id) for m in members]


@desk_view()
def agent_desktop(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if not is_agent(request.user, tenant.pk):
        return forbidden(request)
    tenants = agent_tenants(request.user)
    ids = [t.pk for t in tenants]
    dispositions: dict[int, list[tuple[str, str]]] = {t: [] for t in ids}
    for d in Disposition.objects.filter(tenant_id__in=ids, is_active=True).order_by("name"):
        dispositions[d.tenant_id].append((d.code, d.name))
    queues = list(Queue.objects.filter(tenant_id__in=ids, is_active=True).order_by("name"))
    context: dict[str, Any] = {
        "nav": "agent",
        "states": [(s.value, STATE_LABELS[s]) for s in SELECTABLE_STATES],
        "break_reasons": BreakReason.objects.filter(tenant=tenant, is_active=True).order_by("name"),
        "config": {
            "ws": "/ws/desk/agent/", "tz": request.user.time_zone or "UTC",  # type: ignore[union-attr]
            "user_id": request.user.pk, "states": _state_labels(), "strings": {**_js_strings(), **_chat_strings()},
            "user_name": request.user.greeting_name,  # type: ignore[union-attr]
            "dispositions": dispositions, "tenants": {t.pk: t.name for t in tenants},
            "queues": [[q.pk, q.name] for q in queues],
            "ticket_new": reverse("desk:ticket_new"),
            "context_url": reverse("desk:agent_task_context", args=[0]),
            "canned_url": reverse("desk:agent_task_canned", args=[0]),
            "chat_targets": {q.pk: q.target_answer_seconds for q in queues if "chat" in (q.channels or [])},
            "chat_max_chars": CHAT_MAX_CHARS,
            "agents": _colleagues(request.user, ids),
        },
    }
    return render(request, "desk/agent.html", context)


@desk_view()
def supervisor_view(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if not is_supervisor(request.user, tenant.pk):
        return forbidden(request)
    queues = Queue.objects.filter(tenant=tenant, is_active=True).order_by("code")
    context: dict[str, Any] = {
        "nav": "supervisor", "tenant": tenant, "queues": queues,
        "states": [(s.value, STATE_LABELS[s]) for s in SELECTABLE_STATES],
        "break_reasons": BreakReason.objects.filter(tenant=tenant, is_active=True).order_by("name"),
        "config": {
            "ws": f"/ws/desk/supervisor/?tenant={tenant.pk}", "tz": request.user.time_zone or "UTC",  # type: ignore[union-attr]
            "tenant_id": tenant.pk, "states": _state_labels(), "strings": _js_strings(),
            "task_states": _task_state_labels(),
            "queues": [[q.pk, q.code, q.name] for q in queues],
        },
    }
    return render(request, "desk/supervisor.html", context)


SUPERVISOR_TABLES = ("queues", "agents", "tasks")
EXPORTED_TASKS = 10_000


@desk_view()
def supervisor_export(request: HttpRequest, tenant: Tenant, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """One of the supervisor view's tables as it is now (``?table=queues|agents|tasks``), CSV or XLSX."""
    if not is_supervisor(request.user, tenant.pk):
        return forbidden(request)
    table = request.GET.get("table", "queues")
    if table not in SUPERVISOR_TABLES:
        return HttpResponseBadRequest(_("Unknown table %(table)s: choose queues, agents or tasks.") % {
            "table": table[:40]}, content_type="text/plain; charset=utf-8")
    if table == "tasks":
        header, rows = exports.supervisor_task_rows(
            queries.open_tasks(tenant, EXPORTED_TASKS), tenant, _task_state_labels())
        return exports.table_response("contacts", _("Contacts"), header, rows, tenant, fmt)
    snapshot = queries.supervisor_snapshot(tenant, use_cache=False)
    if table == "agents":
        header, rows = exports.supervisor_agent_rows(snapshot, tenant, _state_labels())
        return exports.table_response("agents", _("Agents"), header, rows, tenant, fmt)
    header, rows = exports.supervisor_queue_rows(snapshot)
    return exports.table_response("queues", _("Queues"), header, rows, tenant, fmt)


def _visible_task(user: Any, task_id: int) -> Task:
    """The agent's own task, or one offered to them right now; anything else does not exist for them."""
    offered = Q(reservations__agent=user, reservations__status=ReservationStatus.PENDING)
    task = (Task.objects.select_related("tenant", "queue", "ticket__contact", "interaction__contact")
            .filter(Q(assigned_to=user) | offered, pk=task_id).first())
    if task is None or not is_agent(user, task.tenant_id):
        raise Http404
    return task


def _caller(task: Task) -> str:
    attrs = task.attributes if isinstance(task.attributes, dict) else {}
    for key in ("caller", "caller_number", "from", "phone", "email"):
        value = attrs.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return ""


def _contacts(user: Any, task: Task, caller: str) -> list[Contact]:
    for linked in (task.ticket.contact if task.ticket else None, task.interaction.contact if task.interaction else None):
        if linked is not None:
            return [linked]
    return list(contact_search(user, task.tenant, caller)[:3]) if len(caller) >= 3 else []


@desk_view()
def task_context(request: HttpRequest, tenant: Tenant, task_id: int) -> HttpResponse:
    """htmx: the screen pop of a task (caller, customer, open tickets) and the customer's history."""
    task = _visible_task(request.user, task_id)
    caller = _caller(task)
    contacts = _contacts(request.user, task, caller)
    tickets = scope_tickets(request.user, task.tenant, Ticket.objects.filter(contact__in=contacts))
    tickets = tickets.select_related("store").order_by("-created_at")
    history = list(tickets[:HISTORY_LIMIT])
    open_tickets = [t for t in history if t.status not in (statuses.SOLVED, statuses.CLOSED)]
    context = {"task": task, "caller": caller, "contacts": contacts, "open_tickets": open_tickets,
               "history": history, "linked_ticket": task.ticket}
    return render(request, "desk/_rt_task_context.html", context)


@desk_view()
def task_canned(request: HttpRequest, tenant: Tenant, task_id: int) -> HttpResponse:
    """JSON: the canned responses for one of the agent's chats, placeholders filled for it."""
    try:
        data = responses_for_task(request.user, task_id)  # type: ignore[arg-type]
    except NotFound:
        return JsonResponse({"error": "not_found", "message": _("No such task.")}, status=404)
    return JsonResponse(data)
