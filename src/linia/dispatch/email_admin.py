"""Admin of the email outbox: every email Linia sent or tries to send, read-only, with "retry now".

Rows follow the tickets they belong to (scope_tickets), like the ticket and event admins.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from linia.core.errors import ActionError
from linia.core.permissions import Perm, PermissionDenied
from linia.dispatch import outbound
from linia.dispatch.models import OutboundEmail
from linia.tickets.admin import TicketLogAdmin


@admin.register(OutboundEmail)
class OutboundEmailAdmin(TicketLogAdmin):  # the outbox never drops an email
    view_perm = Perm.TICKETS_VIEW
    manage_perm = None
    list_display = ("id", "created_at", "kind", "recipient", "subject", "status", "attempts", "next_attempt_at",
                    "sent_at", "ticket", "tenant")
    list_filter = ("status", "kind", "tenant")
    search_fields = ("recipient", "subject", "=msgid", "ticket__reference")
    list_select_related = ("ticket", "tenant")
    show_full_result_count = False
    actions = ("retry_now",)


    @admin.action(description=_("Retry now (failed or dead emails)"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        done = 0
        for row in queryset.select_related("ticket"):
            if row.ticket is None or row.status not in (OutboundEmail.Status.FAILED, OutboundEmail.Status.DEAD):
                continue
            try:
                outbound.retry_outbound(request.user, row.ticket, row.pk)
                done += 1
            except (ActionError, PermissionDenied):
                continue
        self.message_user(request, ngettext("%(n)d email queued again.", "%(n)d emails queued again.", done)
                          % {"n": done}, messages.INFO)
