"""Ticket-view panels of outbound email: emails that did not go out, and the "forward to department" form."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from linia.directory.models import Department
from linia.dispatch.forwarding import department_for
from linia.dispatch.outbound import customer_address, failing_emails, replies_by_email
from linia.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("dispatch/_email_failures.html", takes_context=True)
def email_failures(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    return {"rows": failing_emails(ticket), "ticket": ticket, "csrf_token": context.get("csrf_token"),
            "can_change": context.get("can_change")}


@register.inclusion_tag("dispatch/_forward_form.html", takes_context=True)
def forward_panel(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    departments = Department.objects.filter(tenant_id=ticket.tenant_id, is_active=True).exclude(email="")
    chosen = context.get("forward_department")
    if chosen is None:
        suggested = department_for(ticket)
        chosen = suggested.pk if suggested else None
    return {"ticket": ticket, "departments": departments, "chosen": chosen,
            "note": context.get("forward_note", ""), "errors": context.get("forward_errors") or {},
            "csrf_token": context.get("csrf_token"), "can_change": context.get("can_change")}


@register.simple_tag
def reply_email_hint(ticket: Ticket) -> str:
    """Under the reply box of an email ticket: where a public reply goes."""
    if not replies_by_email(ticket):
        return ""
    address = customer_address(ticket)
    if not address:
        return format_html('<span class="small muted reply-email">{}</span>',
                           _("No customer email address: public replies cannot be emailed."))
    return format_html('<span class="small muted reply-email">{}</span>',
                       _("Public replies are emailed to %(address)s") % {"address": address})
