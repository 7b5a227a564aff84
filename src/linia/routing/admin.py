"""Admin for routing configuration (queues, agent profiles, dispositions, break reasons), tenant-scoped,
and read-only views of tasks and reservations (they change only through linia.routing.actions)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from linia.core.admin_scoping import TenantScopedAdmin, admin_tenant_ids
from linia.core.models import Membership, User
from linia.routing.actions import ROUTING_ROLES
from linia.routing.models import AgentProfile, BreakReason, Disposition, Queue, Reservation, Task


@admin.register(Queue)
class QueueAdmin(TenantScopedAdmin):
    list_display = ("code", "name", "channels", "tier", "priority", "strategy", "target_answer_seconds",
                    "is_active", "tenant")
    list_filter = ("tenant", "tier", "strategy", "is_active")
    search_fields = ("code", "name")


@admin.register(Disposition)
class DispositionAdmin(TenantScopedAdmin):
    list_display = ("code", "name", "is_active", "tenant")
    list_filter = ("tenant", "is_active")
    search_fields = ("code", "name")


@admin.register(BreakReason)
class BreakReasonAdmin(TenantScopedAdmin):
    list_display = ("code", "name", "is_active", "tenant")
    list_filter = ("tenant", "is_active")
    search_fields = ("code", "name")


@admin.register(AgentProfile)
class AgentProfileAdmin(TenantScopedAdmin):
    """Profiles belong to users, who serve tenants through memberships: scoped by those memberships."""

    list_display = ("user", "presence", "tier", "extension", "not_responding")
    list_filter = ("presence", "tier")
    search_fields = ("user__username", "extension")
    readonly_fields = ("presence", "presence_reason", "presence_since", "not_responding", "idle_since",
                       "last_offer_at", "wrapup_until")

    def _agent_tenants(self, obj: Any) -> set[int]:
        return set(Membership.objects.filter(user_id=obj.user_id, role__in=ROUTING_ROLES)
                   .values_list("tenant_id", flat=True))

    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        ids = admin_tenant_ids(request, self.view_perm)
        if ids is None:
            return qs
        users = Membership.objects.filter(tenant_id__in=ids, role__in=ROUTING_ROLES).values("user_id")
        return qs.filter(user_id__in=users)

    def allowed(self, request: HttpRequest, perm: Any, obj: Any = None) -> bool:
        if perm is None:
            return False
        ids = admin_tenant_ids(request, perm)
        if ids is None or obj is None:
            return ids is None or bool(ids)
        return bool(self._agent_tenants(obj) & set(ids))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            ids = admin_tenant_ids(request, self.manage_perm or self.view_perm)
            if ids is not None:
                users = Membership.objects.filter(tenant_id__in=ids, role__in=ROUTING_ROLES).values("user_id")
                kwargs["queryset"] = User.objects.filter(pk__in=users)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(TenantScopedAdmin):
    manage_perm = None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "channel", "queue", "status", "queued_at", "answered_at", "assigned_to", "tenant")
    list_filter = ("tenant", "status", "channel")
    search_fields = ("external_id",)
    date_hierarchy = "queued_at"


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("id", "task", "agent", "status", "offered_at", "expires_at", "responded_at", "tenant")
    list_filter = ("tenant", "status")
