"""The customer's private ticket page, reached by the token link (no login)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from linia.tickets.queries import ticket_for_customer_token


def ticket_page(request: HttpRequest, token: str) -> HttpResponse:
    ticket = ticket_for_customer_token(token)
    if ticket is None:
        raise Http404("This link is not valid or has expired.")
    return HttpResponse(f"{ticket.reference}: {ticket.get_status_display()}", content_type="text/plain")
