"""Ticket list with filters, saved filters, exports and the tenant switcher."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from linia.core.errors import ActionError, NotFound
from linia.core.models import Role, Tenant, User
from linia.core.permissions import Perm, has_perm
from linia.core.tenancy import switch_tenant
from linia.desk import exports
from linia.desk.messages import translated_error
from linia.desk.models import SavedFilter
from linia.desk.views.common import desk_view
from linia.directory.models import Category, Department, Store
from linia.tickets import actions
from linia.tickets.models import Channel, Priority, Status, Ticket
from linia.tickets.queries import TicketFilter, ticket_detail, ticket_list

PAGE_SIZE = 50
ORDER_LABELS = [("-created", gettext_lazy("Newest first")), ("created", gettext_lazy("Oldest first")),
                ("-updated", gettext_lazy("Recently updated")), ("updated", gettext_lazy("Least recently updated")),
                ("priority", gettext_lazy("Priority")), ("number", gettext_lazy("Number")),
                ("relevance", gettext_lazy("Best match"))]
FILTER_KEYS = ("q", "status", "priority", "channel", "category_id", "store_id", "department_id", "assignee", "tag",
               "contact_id", "created_from", "created_to", "open_only", "order")


def _params(request: HttpRequest) -> QueryDict:
    """The query string; a text search without an explicit order lists best matches first."""
    params = request.GET.copy()
    if params.get("q", "").strip() and not params.get("order"):
        params["order"] = "relevance"
    return params


FILTER_LABELS = {"q": gettext_lazy("Text"), "status": gettext_lazy("Status"), "priority": gettext_lazy("Priority"),
                 "channel": gettext_lazy("Channel"), "category_id": gettext_lazy("Category"),
                 "store_id": gettext_lazy("Store"), "department_id": gettext_lazy("Department"),
                 "assignee": gettext_lazy("Assignee"), "tag": gettext_lazy("Tag"),
                 "contact_id": gettext_lazy("Contact"), "created_from": gettext_lazy("Created from"),
                 "created_to": gettext_lazy("Created to"), "open_only": gettext_lazy("Open only"),
                 "order": gettext_lazy("Sort")}


def _filter_problems(error: ActionError | None) -> list[tuple[str, str, str]]:
    """(label, parameter, what is wrong) for each bad filter value."""
    if error is None:
        return []
    return [(str(FILTER_LABELS.get(key, key)), key, "; ".join(items)) for key, items in error.fields.items()]


def _filter_from(request: HttpRequest) -> tuple[TicketFilter, ActionError | None]:
    """The filter in the query string; a bad one falls back to no filter plus an error to show."""
    try:
        return TicketFilter.from_params(_params(request)), None
    except ActionError as exc:
        return TicketFilter.from_params(QueryDict()), exc


def filter_query(params: Any) -> str:
    """A query string from TicketFilter.to_params() (values may be lists)."""
    items: list[tuple[str, str]] = []
    for key, value in dict(params).items():
        values = value if isinstance(value, list | tuple) else [value]
        items.extend((key, str(v)) for v in values if v not in (None, "", False))
    return urlencode(items)


def _tickets(request: HttpRequest, tenant: Tenant, flt: TicketFilter) -> QuerySet[Ticket]:
    return ticket_list(request.user, tenant, flt).select_related("contact", "store", "category", "assignee")


def saved_filters(user: Any, tenant: Tenant) -> QuerySet[SavedFilter]:
    return SavedFilter.objects.filter(Q(user=user) | Q(shared=True), tenant=tenant).select_related("user")


def _agents(tenant: Tenant) -> QuerySet[User]:
    return User.objects.filter(memberships__tenant=tenant, is_active=True,
                               memberships__role__in=[Role.AGENT, Role.SUPERVISOR]).order_by("username").distinct()


@desk_view(Perm.TICKETS_VIEW)
def ticket_list_view(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    flt, error = _filter_from(request)
    page = Paginator(_tickets(request, tenant, flt), PAGE_SIZE).get_page(request.GET.get("page"))
    query = "" if error else filter_query(flt.to_params())
    context = {
        "nav": "tickets", "page": page, "filter_error": error, "filter_problems": _filter_problems(error), "query": query,
        "sel": {key: _params(request).getlist(key) for key in FILTER_KEYS},
        "search_q": request.GET.get("q", ""),
        "statuses": Status.choices, "priorities": Priority.choices, "channels": Channel.choices, "orders": ORDER_LABELS,
        "categories": Category.objects.filter(tenant=tenant, is_active=True),
        "departments": Department.objects.filter(tenant=tenant, is_active=True),
        "agents": _agents(tenant),
        "filter_store": _selected_store(tenant, request.GET.get("store_id")),
        "saved_filters": saved_filters(request.user, tenant),
        "can_export": has_perm(request.user, Perm.EXPORT, tenant),
        "can_change": has_perm(request.user, Perm.TICKETS_CHANGE, tenant),
    }
    return render(request, "desk/ticket_list.html", context, status=200)


def _selected_store(tenant: Tenant, raw: str | None) -> Store | None:
    return Store.objects.filter(tenant=tenant, pk=raw).first() if raw and raw.isdigit() else None


@desk_view(Perm.EXPORT)
def ticket_export(request: HttpRequest, tenant: Tenant, fmt: str) -> HttpResponse | StreamingHttpResponse:
    flt, error = _filter_from(request)
    if error is not None:
        messages.error(request, _("The export was not made: %(error)s") % {"error": error.message})
        return redirect(reverse("desk:tickets") + "?" + request.GET.urlencode())
    return exports.tickets_response(_tickets(request, tenant, flt), tenant, fmt)


@require_POST
@desk_view(Perm.TICKETS_VIEW)
def saved_filter_create(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    name = request.POST.get("name", "").strip()[:80]
    query = request.POST.get("query", "")
    back = reverse("desk:tickets") + ("?" + query if query else "")
    if not name:
        messages.error(request, _("Give the filter a name to save it."))
        return redirect(back)
    try:
        flt = TicketFilter.from_params(QueryDict(query))
    except ActionError as exc:
        messages.error(request, _("This filter cannot be saved: %(error)s") % {"error": exc.message})
        return redirect(back)
    try:
        SavedFilter.objects.create(tenant=tenant, user=cast(User, request.user), name=name,
                                   params=dict(flt.to_params()), shared=bool(request.POST.get("shared")))
    except IntegrityError:
        messages.error(request, _("You already have a filter named “%(name)s”.") % {"name": name})
        return redirect(back)
    messages.success(request, _("Filter “%(name)s” saved.") % {"name": name})
    return redirect(back)


@desk_view(Perm.TICKETS_VIEW)
def saved_filter_open(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    saved = get_object_or_404(saved_filters(request.user, tenant), pk=pk)
    query = filter_query(saved.params)
    return redirect(reverse("desk:tickets") + ("?" + query if query else ""))


@require_POST
@desk_view(Perm.TICKETS_VIEW)
def saved_filter_delete(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    saved = get_object_or_404(SavedFilter, pk=pk, tenant=tenant, user=request.user)
    saved.delete()
    messages.success(request, _("Filter “%(name)s” deleted.") % {"name": saved.name})
    return redirect("desk:tickets")


@require_POST
def switch_tenant_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    raw = request.POST.get("tenant", "")
    tenant = switch_tenant(request, int(raw)) if raw.isdigit() else None
    if tenant is None:
        messages.error(request, _("You are not a member of that tenant."))
    else:
        messages.success(request, _("Now working in %(tenant)s.") % {"tenant": tenant.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("desk:tickets")
    return HttpResponseRedirect(target)


BULK_LIMIT = 200


def _bulk_apply(user: Any, tenant: Tenant, ids: list[int], status: str, assignee: str) -> tuple[int, list[str]]:
    """Apply status/assignee to each visible ticket through the actions; returns (changed, problems)."""
    changed, problems = 0, []
    for pk in ids:
        try:
            ticket = ticket_detail(user, tenant, pk)
        except NotFound:
            problems.append(_("#%(id)s: not found") % {"id": pk})
            continue
        try:
            if assignee:
                target = user.pk if assignee == "me" else (None if assignee == "none" else int(assignee))
                if target != ticket.assignee_id:
                    ticket = actions.update_ticket(user, ticket, assignee=target)
            if status and status != ticket.status:
                actions.change_status(user, ticket, status)
            changed += 1
        except ActionError as exc:
            problems.append(f"{ticket.reference}: {translated_error(exc)[0]}")
    return changed, problems


@require_POST
@desk_view(Perm.TICKETS_CHANGE)
def bulk_update(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    query = request.POST.get("query", "")
    back = reverse("desk:tickets") + ("?" + query if query else "")
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()][:BULK_LIMIT]
    status, assignee = request.POST.get("status", ""), request.POST.get("assignee", "")
    if assignee not in ("", "me", "none") and not assignee.isdigit():
        assignee = ""
    if not ids or not (status or assignee):
        messages.error(request, _("Tick some tickets and choose a status or an assignee."))
        return redirect(back)
    changed, problems = _bulk_apply(request.user, tenant, ids, status, assignee)
    if changed:
        messages.success(request, ngettext("%(n)d ticket updated.", "%(n)d tickets updated.", changed) % {"n": changed})
    if problems:
        messages.error(request, _("Not changed: %(problems)s") % {"problems": "; ".join(problems)})
    return redirect(back)
