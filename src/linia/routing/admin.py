"""Admin for routing configuration (queues, agent profiles, dispositions, break reasons), tenant-scoped,
and read-only views of tasks and reservations (they change only through linia.routing.actions)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linia.core.admin_scoping import TenantModelForm, TenantScopedAdmin, admin_tenant_ids, require_object
from linia.core.models import Membership, User
from linia.directory.hours import HoursError, parse_exceptions, parse_weekly
from linia.routing.actions import ROUTING_ROLES
from linia.routing.models import (
    CHANNELS,
    AgentProfile,
    BreakReason,
    ClosedAction,
    Disposition,
    Queue,
    Reservation,
    Task,
)

_WEEKLY_EXAMPLE = '{"mon": ["08:00-20:00"], ..., "sun": []} or {"always": true}; {} = always open'
_EXCEPTIONS_EXAMPLE = '{"2026-12-25": [], "2026-12-24": ["08:00-14:00"]}'
_CAPACITY_EXAMPLE = '{"chat": 2}'


class QueueForm(TenantModelForm):
    """Opening hours, exceptions and capacity caps are checked here, so that a bad value is a form error
    (the dispatcher would otherwise ignore it with a warning)."""

    class Meta:
        model = Queue
        fields = "__all__"

    def clean_opening_hours(self) -> dict[str, Any]:
        value = require_object(self.cleaned_data.get("opening_hours"), _WEEKLY_EXAMPLE)
        if value:
            try:
                parse_weekly(value)
            except HoursError as exc:
                raise ValidationError(str(exc)) from None
        return value

    def clean_hours_exceptions(self) -> dict[str, Any]:
        value = require_object(self.cleaned_data.get("hours_exceptions"), _EXCEPTIONS_EXAMPLE)
        data: Any = value
        try:
            parse_exceptions(data)
        except HoursError as exc:
            raise ValidationError(str(exc)) from None
        return value

    def clean_capacity(self) -> dict[str, Any]:
        value = require_object(self.cleaned_data.get("capacity"), _CAPACITY_EXAMPLE)
        for channel, cap in value.items():
            if channel not in CHANNELS:
                raise ValidationError(_("%(channel)s is not a channel (use %(channels)s)."),
                                      params={"channel": channel, "channels": ", ".join(CHANNELS)})
            if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
                raise ValidationError(_("The cap for %(channel)s must be a whole number of at least 1."),
                                      params={"channel": channel})
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        target = data.get("closed_overflow_queue")
        if data.get("closed_action") == ClosedAction.OVERFLOW:
            if target is None:
                self.add_error("closed_overflow_queue", _("Choose the queue that takes the contacts while closed."))
            elif self.instance.pk is not None and target.pk == self.instance.pk:
                self.add_error("closed_overflow_queue", _("Choose another queue than this one."))
        return data


@admin.register(Queue)
class QueueAdmin(TenantScopedAdmin):
    form = QueueForm
    list_display = ("code", "name", "channels", "tier", "priority", "strategy", "target_answer_seconds",
                    "is_active", "tenant")
    list_filter = ("tenant", "tier", "strategy", "is_active")
    search_fields = ("code", "name")
    fieldsets = (
        (None, {"fields": ("tenant", "code", "name", "is_active", "channels", "required_skills", "languages",
                           "priority", "tier", "strategy", "target_answer_seconds", "overflow", "max_wait_seconds",
                           "offer_timeout_seconds", "wrapup_seconds", "escalation_queue", "capacity")}),
        (_("Hours"), {"fields": ("time_zone", "opening_hours", "hours_exceptions", "closed_action",
                                 "closed_overflow_queue"),
                      "description": _("Weekly hours as JSON: %(e)s. While closed, tasks are held (not offered) or "
                                       "moved to the overflow queue.") % {"e": _WEEKLY_EXAMPLE}}),
    )


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
        # Columns the database computes (Task.line_key) are internal keys, not something to read.
        return [f.name for f in self.model._meta.fields if not getattr(f, "generated", False)]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "channel", "queue", "status", "queued_at", "answered_at", "first_response_at",
                    "assigned_to", "tenant")
    list_filter = ("tenant", "status", "channel")
    search_fields = ("external_id",)
    date_hierarchy = "queued_at"


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("id", "task", "agent", "status", "offered_at", "expires_at", "responded_at", "tenant")
    list_filter = ("tenant", "status")
