"""Admin of the email outbox: every email Linia sent or tries to send, read-only, with "retry now".

Rows follow the tickets they belong to (scope_tickets), like the ticket and event admins.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from linia.core.admin_scoping import admin_tenant_ids
from linia.core.errors import ActionError
from linia.core.permissions import Perm, PermissionDenied
from linia.dispatch import outbound
from linia.dispatch.models import OutboundEmail
from linia.tickets.admin import TicketScopedAdmin


@admin.register(OutboundEmail)
class OutboundEmailAdmin(TicketScopedAdmin):
    view_perm = Perm.TICKETS_VIEW
    manage_perm = None
    list_display = ("id", "created_at", "kind", "recipient", "subject", "status", "attempts", "next_attempt_at",
                    "sent_at", "ticket", "tenant")
    list_filter = ("status", "kind", "tenant")
    search_fields = ("recipient", "subject", "=msgid", "ticket__reference")
    list_select_related = ("ticket", "tenant")
    show_full_result_count = False
    actions = ("retry_now",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in OutboundEmail._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)  # already limited to the user's tenants
        if admin_tenant_ids(request, self.view_perm) is None:
            return qs
        tickets = self.scoped_tickets(request)
        assert tickets is not None
        return qs.filter(Q(ticket__isnull=True) | Q(ticket__in=tickets.values("pk")))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the outbox never drops an email

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
