"""The desk's side of the customer page: an agent issues a new private link for the ticket's customer."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linia.core.models import Tenant
from linia.core.permissions import Perm
from linia.desk.views.common import desk_view
from linia.desk.views.ticket import _ticket_or_404, render_ticket
from linia.tickets import actions


@require_POST
@desk_view(Perm.TICKETS_CHANGE)
def ticket_customer_link(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    """Issue a link and show it in this response only (only its hash is stored, so it cannot be shown
    again); the agent copies it or puts it into a public reply."""
    ticket = _ticket_or_404(request, tenant, pk)
    url = actions.issue_customer_link(ticket, actor=request.user)
    response = render_ticket(request, tenant, ticket, extra={"customer_link_url": url})
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_POST
@desk_view(Perm.TICKETS_CHANGE)
def ticket_customer_links_revoke(request: HttpRequest, tenant: Tenant, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, tenant, pk)
    count = actions.revoke_customer_links(request.user, ticket)
    messages.success(request, _("Customer links revoked: %(count)s") % {"count": count})
    return redirect("desk:ticket", pk=ticket.pk)
