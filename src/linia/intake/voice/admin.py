"""Admin: phone lines are configured per tenant; calls and CTI events (accepted and refused) are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from linia.core.admin_scoping import TenantScopedAdmin
from linia.core.permissions import Perm
from linia.intake.voice.models import Call, CtiEvent, Line, RejectedCtiEvent


@admin.register(Line)
class LineAdmin(TenantScopedAdmin):
    view_perm = manage_perm = Perm.CONFIG_MANAGE
    list_display = ("number", "name", "kind", "mode", "pbx_queue", "queue", "tenant")
    list_filter = ("kind", "mode", "tenant")
    search_fields = ("number", "name", "pbx_queue")


class ReadOnlyAdmin(TenantScopedAdmin):
    view_perm = Perm.CONFIG_MANAGE
    manage_perm = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ("pbx_call_id", "caller", "line", "state", "abandoned", "agent_extension", "queued_at",
                    "answered_at", "ended_at", "tenant")
    list_filter = ("state", "abandoned", "tenant")
    search_fields = ("pbx_call_id", "caller", "agent_extension")
    date_hierarchy = "queued_at"


@admin.register(CtiEvent)
class CtiEventAdmin(ReadOnlyAdmin):
    list_display = ("pbx_call_id", "sequence", "event", "source", "received_at", "tenant")
    list_filter = ("event", "source", "tenant")
    search_fields = ("pbx_call_id",)


@admin.register(RejectedCtiEvent)
class RejectedCtiEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "code", "source", "pbx_call_id", "message", "tenant")
    list_filter = ("code", "source", "tenant")
    search_fields = ("pbx_call_id", "message")
