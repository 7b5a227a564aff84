"""Portal pages for store and client staff. Thin: read through queries, change through actions."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linia.core.errors import ActionError, NotFound
from linia.core.models import Membership, Role
from linia.core.permissions import Perm, PermissionDenied, has_perm, is_platform_admin
from linia.desk import exports
from linia.portal import actions, queries
from linia.portal.deadlines import due_hours
from linia.tickets import statuses
from linia.tickets.actions import NewAttachment
from linia.tickets.models import Priority, Status, Ticket
from linia.tickets.queries import TicketFilter, ticket_detail

PAGE_SIZE = 25
INLINE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")  # never SVG: it can carry script
FILTER_KEYS = ("q", "status", "priority", "store_id", "open_only", "order")
PortalView = Callable[..., HttpResponseBase]


def _zone(member: Membership) -> zoneinfo.ZoneInfo:
    name = (member.store.time_zone if member.store else "") or member.tenant.time_zone
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def portal_view(*roles: str) -> Callable[[PortalView], Callable[..., HttpResponseBase]]:
    """Login required; store/client staff get their membership, others go to the desk; times in the store's
    (client staff: the tenant's) time zone."""

    def decorate(view: PortalView) -> Callable[..., HttpResponseBase]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            member = queries.portal_member(request.user)
            if member is None:
                if is_platform_admin(request.user) or Membership.objects.filter(user_id=int(request.user.pk or 0)).exists():
                    return redirect("desk:tickets")  # agents, supervisors and admins work in the desk
                return render(request, "portal/forbidden.html", {}, status=403)
            if roles and member.role not in roles:
                return render(request, "portal/forbidden.html", {"member": member}, status=403)
            if _has_nul(request):
                return render(request, "portal/forbidden.html", {"member": member, "bad_request": True}, status=400)
            with timezone.override(_zone(member)):
                try:
                    return view(request, member, *args, **kwargs)
                except PermissionDenied:
                    return render(request, "portal/forbidden.html", {"member": member}, status=403)

        return wrapper

    return decorate


def _has_nul(request: HttpRequest) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values)
               for data in (request.GET, request.POST) for key, values in data.lists())


class LoginView(auth_views.LoginView):
    """The login page; without a ?next= store and client staff land in the portal, others in the desk."""

    template_name = "registration/login.html"

    def get_default_redirect_url(self) -> str:
        if queries.portal_member(self.request.user) is not None:
            return resolve_url("portal:home")
        return str(super().get_default_redirect_url())


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """Where a login lands: store and client staff in the portal, everybody else in the desk."""
    return redirect("portal:home" if queries.portal_member(request.user) else "desk:tickets")


@portal_view()
def home(request: HttpRequest, member: Membership) -> HttpResponse:
    if member.role == Role.STORE_STAFF:
        return redirect("portal:tickets")
    return render(request, "portal/dashboard.html", {
        "member": member, "nav": "dashboard", **queries.dashboard(request.user, member, timezone.now())})


# --- lists --------------------------------------------------------------------------------------

def _filter(request: HttpRequest, member: Membership) -> tuple[TicketFilter, str | None]:
    params = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        values = request.GET.getlist(key)
        if values:
            params.setlist(key, values)
    if member.role == Role.STORE_STAFF:
        params.pop("store_id", None)  # the store's own tickets anyway
    if params.get("q", "").strip() and not params.get("order"):
        params["order"] = "relevance"
    try:
        return TicketFilter.from_params(params), None
    except ActionError:
        return TicketFilter(), _("Some filter values were not valid; showing all tickets instead.")


def _list_context(request: HttpRequest, member: Membership) -> tuple[Any, dict[str, Any]]:
    flt, problem = _filter(request, member)
    now = timezone.now()
    overdue_only = request.GET.get("overdue") == "1"
    qs = queries.member_tickets(request.user, member, flt, overdue_only=overdue_only, now=now)
    query = urlencode([(k, v) for k in (*FILTER_KEYS, "overdue") for v in request.GET.getlist(k) if v])
    return qs, {"filter_problem": problem, "overdue_only": overdue_only, "query": query, "now": now,
                "sel": {key: request.GET.getlist(key) for key in FILTER_KEYS}}


@portal_view()
def ticket_list(request: HttpRequest, member: Membership) -> HttpResponse:
    qs, context = _list_context(request, member)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context.update({
        "member": member, "nav": "tickets", "page": page,
        "rows": queries.rows(page.object_list, due_hours(member.tenant.settings), context["now"]),
        "statuses": Status.choices, "priorities": Priority.choices,
        "can_export": has_perm(request.user, Perm.EXPORT, member.tenant) and member.role == Role.CLIENT_STAFF,
    })
    return render(request, "portal/ticket_list.html", context)


def export_header() -> list[str]:
    return [_("Reference"), _("Subject"), _("Status"), _("Priority"), _("Category"), _("Store"), _("Department"),
            _("Created"), _("Due"), _("Overdue"), _("Time zone"), _("Updated")]


def _export_rows(member: Membership, qs: Any) -> Any:
    now = timezone.now()
    hours = due_hours(member.tenant.settings)
    for t in qs.iterator(chunk_size=500):
        row = queries.rows([t], hours, now)[0]
        fmt = "%Y-%m-%d %H:%M"
        yield [t.reference, t.subject, t.get_status_display(), t.get_priority_display(),
               t.category.localized_name(t.language or member.tenant.default_language) if t.category else "",
               str(t.store) if t.store else "", t.department.name if t.department else "",
               t.created_at.astimezone(row.zone).strftime(fmt), row.due.astimezone(row.zone).strftime(fmt),
               _("yes") if row.overdue else "", str(row.zone), t.updated_at.astimezone(row.zone).strftime(fmt)]


@portal_view(Role.CLIENT_STAFF)
def ticket_export(request: HttpRequest, member: Membership, fmt: str) -> HttpResponseBase:
    if not has_perm(request.user, Perm.EXPORT, member.tenant):
        raise PermissionDenied(Perm.EXPORT)
    qs, _context = _list_context(request, member)
    name = f"portal-tickets-{member.tenant.slug}-{timezone.localtime():%Y%m%d-%H%M}"
    if fmt == "xlsx":
        return exports.xlsx_response(export_header(), _export_rows(member, qs), name, _("Tickets"))
    return exports.csv_response(export_header(), _export_rows(member, qs), name)


# --- reporting a fault --------------------------------------------------------------------------

def _files(request: HttpRequest, field: str, limit_bytes: int) -> tuple[list[NewAttachment], list[str]]:
    """Uploaded files as attachments; a file over the limit is not read into memory but reported."""
    found, too_big = [], []
    for f in request.FILES.getlist(field):
        name = f.name or "file"
        if (f.size or 0) > limit_bytes:
            too_big.append(name)
            found.append(NewAttachment(filename=name, data=b"", content_type=""))
            continue
        found.append(NewAttachment(filename=name, data=f.read(), content_type=f.content_type or ""))
    return found, too_big


@portal_view(Role.STORE_STAFF)
def report(request: HttpRequest, member: Membership) -> HttpResponse:
    context: dict[str, Any] = {
        "member": member, "nav": "report", "kinds": actions.fault_kind_choices(),
        "urgencies": [(v, label) for v, label in Priority.choices if v in actions.URGENCIES],
        "assets": queries.asset_suggestions(member), "asset_hint": queries.asset_hint(member, get_language()),
        "max_photos": actions.max_photos(),
        "max_photo_mb": actions.max_photo_bytes() // (1024 * 1024), "errors": {},
        "values": {"urgency": Priority.NORMAL},
    }
    if request.method != "POST":
        return render(request, "portal/report.html", context)
    values = {k: request.POST.get(k, "") for k in ("kind", "asset", "description", "urgency")}
    too_big: list[str] = []
    if len(request.FILES.getlist("photos")) > actions.max_photos():  # refused before reading any of them
        photos = [NewAttachment("", b"")] * len(request.FILES.getlist("photos"))
    else:
        photos, too_big = _files(request, "photos", actions.max_photo_bytes())
    try:
        if too_big:
            mb = actions.max_photo_bytes() // (1024 * 1024)
            raise ActionError("invalid_report", _("The report was not sent: check the marked fields."),
                              {"photos": [_("%(name)s is larger than %(mb)d MB.") % {"name": n, "mb": mb}
                                          for n in too_big]})
        ticket = actions.report_fault(request.user, kind=values["kind"], asset=values["asset"],
                                      description=values["description"], urgency=values["urgency"], photos=photos)
    except ActionError as exc:
        fields = exc.fields if exc.code == "invalid_report" else {"photos": [exc.message]}
        context.update(values=values, errors=fields, form_error=_("The report was not sent: check the marked fields."))
        return render(request, "portal/report.html", context, status=400)
    messages.success(request, _("Fault reported as %(reference)s.") % {"reference": ticket.reference})
    return redirect("portal:ticket", pk=ticket.pk)


# --- one ticket ---------------------------------------------------------------------------------

def _ticket(request: HttpRequest, member: Membership, pk: int) -> Ticket:
    try:
        return ticket_detail(request.user, member.tenant, pk)
    except NotFound:
        raise Http404(_("No such ticket.")) from None


def _render_ticket(request: HttpRequest, member: Membership, ticket: Ticket, *, status: int = 200,
                   **extra: Any) -> HttpResponse:
    now = timezone.now()
    row = queries.rows([ticket], due_hours(member.tenant.settings), now)[0]
    allowed = statuses.transitions(member.tenant.settings).get(ticket.status, frozenset())
    context = {
        "member": member, "nav": "tickets", "ticket": ticket, "row": row,
        "thread": queries.visible_messages(member, ticket), "errors": {},
        "status_choices": [(v, label) for v, label in Status.choices if v in allowed],
        "is_store": member.role == Role.STORE_STAFF, "solved": ticket.status == Status.SOLVED,
        "closed": ticket.status == Status.CLOSED, "inline_types": INLINE_TYPES, **extra,
    }
    with timezone.override(row.zone):
        return render(request, "portal/ticket_detail.html", context, status=status)


@portal_view()
def ticket_view(request: HttpRequest, member: Membership, pk: int) -> HttpResponse:
    return _render_ticket(request, member, _ticket(request, member, pk))


def _upload_limit() -> int:
    from django.conf import settings

    return int(settings.LINIA_ATTACHMENT_MAX_BYTES)


def _failed(request: HttpRequest, member: Membership, ticket: Ticket, exc: ActionError, **extra: Any) -> HttpResponse:
    ticket.refresh_from_db()
    fields = dict(exc.fields)
    if "attachments" in fields:
        fields["files"] = fields.pop("attachments")
    return _render_ticket(request, member, ticket, status=400, action_error=_error_text(exc), errors=fields, **extra)


def _error_text(exc: ActionError) -> str:
    known = {"ticket_closed": _("The ticket is closed; report a new fault instead."),
             "invalid_transition": _("This status change is not allowed."),
             "attachment_too_large": _("A file is too large."), "attachment_type": _("Files of this type are not accepted."),
             "not_solved": _("The ticket is not solved (any more); reload the page.")}
    if exc.code == "invalid_value" and "body" in exc.fields:
        return _("Write a message or attach a file.")
    return known.get(exc.code, exc.message)


@require_POST
@portal_view()
def ticket_message(request: HttpRequest, member: Membership, pk: int) -> HttpResponse:
    """Store: add information. Client staff: reply as the client."""
    ticket = _ticket(request, member, pk)
    body = request.POST.get("body", "")
    files, too_big = _files(request, "files", _upload_limit())
    try:
        if too_big:
            raise ActionError("attachment_too_large", _("A file is too large."), {"files": too_big})
        if member.role == Role.STORE_STAFF:
            actions.add_information(request.user, ticket, body=body, files=files)
        else:
            actions.client_reply(request.user, ticket, body=body, files=files)
    except ActionError as exc:
        return _failed(request, member, ticket, exc, body=body)
    messages.success(request, _("Your message was added."))
    return redirect("portal:ticket", pk=ticket.pk)


@require_POST
@portal_view(Role.STORE_STAFF)
def ticket_confirm(request: HttpRequest, member: Membership, pk: int) -> HttpResponse:
    ticket = _ticket(request, member, pk)
    try:
        actions.confirm_fix(request.user, ticket)
    except ActionError as exc:
        return _failed(request, member, ticket, exc)
    messages.success(request, _("Thank you: the fix is confirmed and the ticket is closed."))
    return redirect("portal:ticket", pk=ticket.pk)


@require_POST
@portal_view(Role.STORE_STAFF)
def ticket_reopen(request: HttpRequest, member: Membership, pk: int) -> HttpResponse:
    ticket = _ticket(request, member, pk)
    reason = request.POST.get("reason", "")
    files, too_big = _files(request, "files", _upload_limit())
    try:
        if too_big:
            raise ActionError("attachment_too_large", _("A file is too large."), {"files": too_big})
        actions.reopen(request.user, ticket, reason=reason, files=files)
    except ActionError as exc:
        return _failed(request, member, ticket, exc, reason=reason)
    messages.success(request, _("The ticket is open again; the service has your reason."))
    return redirect("portal:ticket", pk=ticket.pk)


@require_POST
@portal_view(Role.CLIENT_STAFF)
def ticket_status(request: HttpRequest, member: Membership, pk: int) -> HttpResponse:
    ticket = _ticket(request, member, pk)
    try:
        ticket = actions.client_set_status(request.user, ticket, request.POST.get("status", ""))
    except ActionError as exc:
        return _failed(request, member, ticket, exc)
    messages.success(request, _("Status: %(status)s.") % {"status": ticket.get_status_display()})
    return redirect("portal:ticket", pk=ticket.pk)


@portal_view()
def attachment_download(request: HttpRequest, member: Membership, pk: int, attachment_id: int) -> FileResponse:
    ticket = _ticket(request, member, pk)
    attachment = queries.visible_attachment(member, ticket, attachment_id)
    if attachment is None:
        raise Http404(_("No such file."))
    inline = attachment.content_type in INLINE_TYPES and request.GET.get("inline") == "1"
    response = FileResponse(attachment.file.open("rb"), as_attachment=not inline, filename=attachment.filename,
                            content_type=attachment.content_type if inline else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response

