"""The desk ticket view's "Customer" panel: the customer's ratings and the "Customer link" action."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from linia.tickets import customer_page
from linia.tickets.models import Ticket
from linia.tickets.queries import active_customer_links, ticket_ratings

register = template.Library()


@register.inclusion_tag("tickets/customer/_desk_panel.html", takes_context=True)
def customer_panel(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    return {"ticket": ticket, "ratings": list(ticket_ratings(ticket)[:5]),
            "link_url": context.get("customer_link_url"), "link_days": settings.CUSTOMER_LINK_DAYS,
            # the sentence put into a reply is in the customer's language, not the agent's
            "customer_lang": customer_page.choose_language(asked=None, cookie=None, ticket=ticket,
                                                           accept_language=""),
            "active_links": active_customer_links(ticket), "csrf_token": context.get("csrf_token"), "can_change": context.get("can_change")}
