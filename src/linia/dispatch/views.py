"""Desk endpoints of outbound email: forward a ticket to a department, retry an email that did not go out."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linia.core.errors import ActionError, NotFound
from linia.core.models import Tenant
from linia.core.permissions import Perm
from linia.desk.views.common import desk_view
from linia.desk.views.ticket import _failed, _ticket_or_404
from linia.dispatch import forwarding, outbound


@require_POST
@desk_view(Perm.TICKETS_CHANGE)
def ticket_forward(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, tenant, pk)
    raw = request.POST.get("department", "")
    note = request.POST.get("note", "")
    keep = {"forward_department": int(raw) if raw.isdigit() else None, "forward_note": note}
    try:
        if not raw.isdigit():
            raise ActionError("invalid_value", _("Choose a department."), {"department": [_("required")]})
        forwarding.forward_to_department(request.user, ticket, int(raw), note)
    except NotFound:
        exc = ActionError("invalid_reference", _("Choose a department."), {"department": [_("unknown department")]})
        return _failed(request, tenant, ticket, exc, forward_errors=exc.fields, **keep)
    except ActionError as exc:
        return _failed(request, tenant, ticket, exc, forward_errors=exc.fields, **keep)
    messages.success(request, _("Forwarded to the department; the ticket waits for its reply."))
    return redirect("desk:ticket", pk=ticket.pk)


@require_POST
@desk_view(Perm.TICKETS_CHANGE)
def ticket_email_retry(request: HttpRequest, tenant: Tenant, pk: int, outbound_id: int) -> HttpResponse:
    ticket = _ticket_or_404(request, tenant, pk)
    try:
        outbound.retry_outbound(request.user, ticket, outbound_id)
    except NotFound:
        return redirect("desk:ticket", pk=ticket.pk)
    except ActionError as exc:
        return _failed(request, tenant, ticket, exc)
    messages.info(request, _("The email will be sent again now."))
    return redirect("desk:ticket", pk=ticket.pk)
