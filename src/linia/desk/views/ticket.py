"""One ticket: thread, reply/note, side-panel fields, status, merge, attachments, history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linia.core.errors import ActionError, NotFound
from linia.core.models import Tenant
from linia.core.permissions import Perm, has_perm, scope_tickets
from linia.desk.forms import CustomFieldsForm, initial_custom_values
from linia.desk.messages import describe_event, translated_error
from linia.desk.views.common import desk_view
from linia.desk.views.tickets import _agents
from linia.directory.models import Category, Department
from linia.dispatch import outbound
from linia.tickets import actions, statuses
from linia.tickets.models import Attachment, Channel, Message, Priority, Status, Ticket
from linia.tickets.queries import ticket_detail, ticket_history

UPLOAD_FIELD = "files"


def _ticket_or_404(request: HttpRequest, tenant: Tenant, pk: int) -> Ticket:
    try:
        return ticket_detail(request.user, tenant, pk)
    except NotFound:
        raise Http404(_("No such ticket.")) from None


def _thread(ticket: Ticket) -> QuerySet[Message]:
    return ticket.messages.select_related("author_user", "author_contact").prefetch_related("attachments")


@dataclass
class ThreadBlock:
    """One message, or a run of consecutive chat messages shown together as the chat's transcript."""

    messages: list[Message]
    chat: bool

    @property
    def message(self) -> Message:
        return self.messages[0]


def thread_blocks(thread: Iterable[Message]) -> list[ThreadBlock]:
    blocks: list[ThreadBlock] = []
    for m in thread:
        is_chat = m.channel == Channel.CHAT and m.kind == Message.Kind.PUBLIC
        if is_chat and blocks and blocks[-1].chat:
            blocks[-1].messages.append(m)
        else:
            blocks.append(ThreadBlock([m], is_chat))
    return blocks


def _other_tickets(request: HttpRequest, tenant: Tenant, ticket: Ticket) -> QuerySet[Ticket]:
    if ticket.contact_id is None:
        return Ticket.objects.none()
    qs = scope_tickets(request.user, tenant, Ticket.objects.filter(contact_id=ticket.contact_id))
    return qs.exclude(pk=ticket.pk).order_by("-id")[:10]


def _status_choices(tenant: Tenant, ticket: Ticket) -> list[tuple[str, Any]]:
    allowed = statuses.transitions(tenant.settings).get(ticket.status, frozenset()) | {ticket.status}
    return [(value, label) for value, label in Status.choices if value in allowed]


def render_ticket(request: HttpRequest, tenant: Tenant, ticket: Ticket, *, status: int = 200,
                  extra: dict[str, Any] | None = None) -> HttpResponse:
    cf_form = (extra or {}).get("cf_form") or CustomFieldsForm(
        ticket.category, initial=initial_custom_values(ticket.custom_fields))
    history = [(event, describe_event(event)) for event in ticket_history(ticket)]
    context: dict[str, Any] = {
        "nav": "tickets", "ticket": ticket, "thread_blocks": thread_blocks(_thread(ticket)), "history": history,
        "status_choices": _status_choices(tenant, ticket), "priorities": Priority.choices,
        "categories": Category.objects.filter(tenant=tenant, is_active=True),
        "departments": Department.objects.filter(tenant=tenant, is_active=True),
        "agents": _agents(tenant), "cf_form": cf_form,
        "tags_text": ", ".join(ticket.tags.values_list("name", flat=True)),
        "identities": ticket.contact.identities.all() if ticket.contact else [],
        "other_tickets": _other_tickets(request, tenant, ticket),
        "can_change": has_perm(request.user, Perm.TICKETS_CHANGE, tenant),
        "can_merge": has_perm(request.user, Perm.TICKETS_MERGE, tenant),
        "field_errors": {}, "reply_kind": "public",
    }
    context.update(extra or {})
    return render(request, "desk/ticket_detail.html", context, status=status)


def _failed(request: HttpRequest, tenant: Tenant, ticket: Ticket, exc: ActionError,
            **extra: Any) -> HttpResponse:
    message, fields = translated_error(exc)
    context = {"action_error": message, "field_errors": fields, **extra}
    return render_ticket(request, tenant, ticket, status=400, extra=context)


@desk_view(Perm.TICKETS_VIEW)
def ticket_view(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    return render_ticket(request, tenant, _ticket_or_404(request, tenant, pk))


def uploaded(request: HttpRequest) -> list[actions.NewAttachment]:
    return [actions.NewAttachment(filename=f.name or "file", data=f.read(), content_type=f.content_type or "")
            for f in request.FILES.getlist(UPLOAD_FIELD)]


@require_POST
@desk_view(Perm.TICKETS_CHANGE)
def ticket_reply(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, tenant, pk)
    kind = request.POST.get("kind", Message.Kind.PUBLIC)
    body = request.POST.get("body", "")
    try:
        if kind == Message.Kind.PUBLIC and outbound.replies_by_email(ticket):
            outbound.send_reply(request.user, ticket, body=body, attachments=uploaded(request))  # + email
        else:
            actions.add_message(request.user, ticket, body=body, kind=kind, attachments=uploaded(request))
    except ActionError as exc:
        return _failed(request, tenant, ticket, exc, reply_body=body, reply_kind=kind)
    messages.success(request, _("Internal note added.") if kind == Message.Kind.NOTE else _("Reply sent."))
    return redirect("desk:ticket", pk=ticket.pk)


def _field_changes(request: HttpRequest, ticket: Ticket) -> tuple[dict[str, Any], CustomFieldsForm | None]:
    """Changed side-panel fields as update_ticket() keywords; the custom-field form when it did not validate."""
    post = request.POST
    changes: dict[str, Any] = {}
    current = {"priority": ticket.priority, "category": ticket.category_id, "store": ticket.store_id,
               "department": ticket.department_id, "assignee": ticket.assignee_id}
    for name, old in current.items():
        if name in post:
            raw = post.get(name, "")
            new: Any = raw if name == "priority" else (int(raw) if raw.isdigit() else None)
            if raw and name != "priority" and new is None:
                raise ActionError("invalid_value", _("Pick a value from the list."), {name: [_("not a valid id")]})
            if new != old:
                changes[name] = new
    if "tags" in post:
        tags = sorted({t.strip() for t in post.get("tags", "").split(",") if t.strip()})
        if tags != sorted(ticket.tags.values_list("name", flat=True)):
            changes["tags"] = tags
    category_id = changes.get("category", ticket.category_id)
    category = Category.objects.filter(tenant_id=ticket.tenant_id, pk=category_id).first() if category_id else None
    cf_form = CustomFieldsForm(category, post)
    if cf_form.fields and not cf_form.is_valid():
        return changes, cf_form
    # A category without custom fields leaves stored values alone unless the category itself changes.
    values = cf_form.values()
    if (cf_form.fields and values != (ticket.custom_fields or {})) or "category" in changes:
        changes["custom_fields"] = values
    return changes, None


@require_POST
@desk_view(Perm.TICKETS_CHANGE)
def ticket_update(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, tenant, pk)
    try:
        changes, bad_form = _field_changes(request, ticket)
    except ActionError as exc:
        return _failed(request, tenant, ticket, exc)
    if bad_form is not None:
        invalid = ActionError("invalid_custom_fields", _("Some fields of this category are missing or wrong."))
        return _failed(request, tenant, ticket, invalid, cf_form=bad_form)
    old_status = ticket.status
    new_status = request.POST.get("status", old_status)
    try:
        if changes:
            ticket = actions.update_ticket(request.user, ticket, **changes)
        if new_status != ticket.status:
            ticket = actions.change_status(request.user, ticket, new_status)
    except ActionError as exc:
        ticket.refresh_from_db()
        return _failed(request, tenant, ticket, exc)
    if changes or ticket.status != old_status:
        messages.success(request, _("Ticket %(reference)s updated.") % {"reference": ticket.reference})
    else:
        messages.info(request, _("Nothing was changed."))
    return redirect("desk:ticket", pk=ticket.pk)


@require_POST
@desk_view(Perm.TICKETS_MERGE)
def ticket_merge(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, tenant, pk)
    reference = request.POST.get("reference", "").strip().upper()
    target = scope_tickets(request.user, tenant, Ticket.objects.filter(reference=reference)).first()
    if target is None:
        exc = ActionError("not_found", _("No ticket %(reference)s in this tenant.") % {"reference": reference or "—"},
                          {"reference": [_("unknown reference")]})
        return _failed(request, tenant, ticket, exc, merge_reference=reference)
    try:
        target = actions.merge_tickets(request.user, ticket, target)
    except ActionError as exc:
        return _failed(request, tenant, ticket, exc, merge_reference=reference)
    messages.success(request, _("%(source)s was merged into %(target)s.")
                     % {"source": ticket.reference, "target": target.reference})
    return redirect("desk:ticket", pk=target.pk)


@desk_view(Perm.TICKETS_VIEW)
def attachment_download(request: HttpRequest, tenant: Tenant, pk: int, attachment_id: int) -> FileResponse:
    ticket = _ticket_or_404(request, tenant, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_id, tenant=tenant, message__ticket=ticket)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                        content_type=attachment.content_type)


@desk_view(Perm.TICKETS_VIEW)
def custom_fields_partial(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """htmx: the custom fields of the chosen category (values kept from the ticket being edited)."""
    raw = request.GET.get("category", "")
    category = Category.objects.filter(tenant=tenant, pk=raw).first() if raw.isdigit() else None
    initial: dict[str, Any] = {}
    ticket_id = request.GET.get("ticket", "")
    if ticket_id.isdigit():
        try:
            initial = initial_custom_values(ticket_detail(request.user, tenant, int(ticket_id)).custom_fields)
        except NotFound:
            initial = {}
    return render(request, "desk/_custom_fields.html", {"cf_form": CustomFieldsForm(category, initial=initial)})
