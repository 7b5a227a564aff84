"""New ticket registered by an agent: a call, fax, letter or walk-in, with scans attached."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linia.core.errors import ActionError
from linia.core.models import Tenant
from linia.core.permissions import Perm, PermissionDenied, scope_tickets
from linia.desk.forms import CustomFieldsForm, NewTicketForm
from linia.desk.messages import translated_error
from linia.desk.views.common import desk_view
from linia.desk.views.ticket import uploaded
from linia.directory.models import Category, Store
from linia.routing import actions as routing_actions
from linia.tickets import actions
from linia.tickets.models import Ticket
from linia.tickets.queries import contact_search


def _category(tenant: Tenant, form: NewTicketForm) -> Category | None:
    raw = form.data.get("category", "") if form.is_bound else ""
    return Category.objects.filter(tenant=tenant, pk=raw).first() if str(raw).isdigit() else None


def _store(tenant: Tenant, raw: Any) -> Store | None:
    return Store.objects.filter(tenant=tenant, pk=raw).first() if str(raw or "").isdigit() else None


def _create(request: HttpRequest, tenant: Tenant, form: NewTicketForm, cf_form: CustomFieldsForm) -> Any:
    data = form.cleaned_data
    with transaction.atomic():  # no orphan contact when the ticket is refused
        contact = None
        if data["contact_name"] or data["contact_phone"] or data["contact_email"]:
            contact = actions.find_or_create_contact(
                request.user, tenant, name=data["contact_name"], phones=[data["contact_phone"]],
                emails=[data["contact_email"]])
        ticket = actions.create_ticket(
            request.user, tenant, subject=data["subject"], channel=data["channel"], body=data["description"],
            category=data["category"].pk if data["category"] else None, store=data["store"],
            priority=data["priority"], contact=contact.pk if contact else None, custom_fields=cf_form.values(),
            attachments=uploaded(request))
        task_id = _task_id(request.POST.get("task"))
        if task_id is not None:  # registered from the agent desktop's contact tab
            try:
                routing_actions.link_ticket(request.user, task_id, ticket)
            except PermissionDenied as exc:  # rolls the ticket back with the rest of this transaction
                raise ActionError("not_task_holder", _("This contact is not yours, so the ticket was not created.")) from exc
        return ticket


def _task_id(raw: Any) -> int | None:
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) < 19 else None


@desk_view(Perm.TICKETS_CREATE)
def ticket_new(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    form = NewTicketForm(tenant, request.POST or None, initial={"channel": request.GET.get("channel", "call")})
    cf_form = CustomFieldsForm(_category(tenant, form), request.POST or None)
    context: dict[str, Any] = {"nav": "new", "form": form, "cf_form": cf_form, "action_error": "",
                               "field_errors": {},
                               "task_id": _task_id(request.POST.get("task") or request.GET.get("task")),
                               "store": _store(tenant, form.data.get("store") if form.is_bound
                                               else request.GET.get("store"))}
    if request.method == "POST":
        if form.is_valid() and cf_form.is_valid():
            try:
                ticket = _create(request, tenant, form, cf_form)
            except ActionError as exc:
                message, fields = translated_error(exc)
                context.update(action_error=message, field_errors=fields)
                _attach_errors(form, cf_form, fields)
            else:
                messages.success(request, _("Ticket %(reference)s created.") % {"reference": ticket.reference})
                return redirect("desk:ticket", pk=ticket.pk)
        else:
            context["action_error"] = _("Please correct the marked fields.")
        return render(request, "desk/ticket_new.html", context, status=400)
    return render(request, "desk/ticket_new.html", context)


def _attach_errors(form: NewTicketForm, cf_form: CustomFieldsForm, fields: dict[str, list[str]]) -> None:
    mapping = {"phones": "contact_phone", "emails": "contact_email", "body": "description"}
    for key, items in fields.items():
        target = mapping.get(key, key)
        if target in form.fields:
            for item in items:
                form.add_error(target, item)
    cf_form.add_action_errors(fields)


@desk_view(Perm.CONTACTS_VIEW)
def contact_lookup(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """htmx: known customers matching the phone, email or name being typed, with their latest tickets."""
    terms = [request.GET.get(k, "").strip()[:200] for k in ("contact_phone", "contact_email", "contact_name")]
    found: dict[int, Any] = {}
    for term in (t for t in terms if len(t) >= 3):
        for contact in contact_search(request.user, tenant, term)[:5]:
            found.setdefault(contact.pk, contact)
    rows = []
    for contact in list(found.values())[:5]:
        tickets = scope_tickets(request.user, tenant, Ticket.objects.filter(contact=contact)).order_by("-id")[:3]
        rows.append((contact, list(contact.identities.all()), list(tickets)))
    return render(request, "desk/_contact_lookup.html", {"rows": rows})
