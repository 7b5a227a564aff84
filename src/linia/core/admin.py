"""Admin for tenants, users, memberships, API tokens and the audit log."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from linia.core import actions as core_actions
from linia.core.admin_scoping import (
    JSON_OVERRIDES,
    TenantModelForm,
    TenantScopedAdmin,
    TenantScopedInline,
    audit_diff,
    db_snapshot,
    record_change,
    record_delete,
    require_object,
    save_formset_audited,
    snapshot,
)
from linia.core.models import ApiToken, AuditLog, Membership, Tenant, User
from linia.core.permissions import Perm, is_platform_admin
from linia.tickets import statuses

# Roles come from memberships (linia.core.permissions), not from Django groups.
admin.site.unregister(Group)


class TenantForm(TenantModelForm):
    class Meta:
        model = Tenant
        fields = "__all__"

    def clean_settings(self) -> dict[str, Any]:
        value = require_object(self.cleaned_data.get("settings"), '{"status_transitions": {"new": ["open"]}}')
        transitions = value.get("status_transitions")
        if transitions is not None:
            if not isinstance(transitions, dict):
                raise ValidationError(_("status_transitions must be an object: status → list of statuses."))
            for source, targets in transitions.items():
                unknown = {source, *(targets if isinstance(targets, list) else [None])} - set(statuses.ALL)
                if unknown:
                    raise ValidationError(
                        _("status_transitions: unknown status %(s)s; use %(all)s."),
                        params={"s": ", ".join(sorted(map(str, unknown))), "all": ", ".join(statuses.ALL)})
        return value


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    """Platform admins create tenants; client staff may adjust their own tenant's settings."""

    form = TenantForm
    tenant_lookup = "pk"
    list_display = ("name", "slug", "ticket_prefix", "default_language", "time_zone", "is_active")
    list_filter = ("is_active", "default_language")
    search_fields = ("name", "slug", "ticket_prefix")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if is_platform_admin(request.user):
            return []
        return ["slug", "ticket_prefix", "is_active"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)


class PlatformAdminWrites:
    """Only platform admins add, change or delete these rows (people and roles are platform-level)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)


class MembershipInline(PlatformAdminWrites, TenantScopedInline):
    model = Membership
    fk_name = "user"
    fields = ("tenant", "role", "department", "store")
    autocomplete_fields = ("store", "department")

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return []  # here the tenant is the row's own choice, not the parent's

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)


@admin.register(User)
class UserAdmin(PlatformAdminWrites, DjangoUserAdmin):  # type: ignore[type-arg]
    """People are platform-level: only platform admins manage them (roles come from memberships)."""

    inlines = (MembershipInline,)
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_superuser", "is_active")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Locale"), {"fields": ("time_zone", "language")}),
    )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = db_snapshot(obj) if change else {}
        super().save_model(request, obj, form, change)
        changes = audit_diff(before, snapshot(obj))
        if changes or not change:
            record_change(request, "update" if change else "create", obj, changes)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Memberships are roles: audit them in their tenant like any other configuration row.
        save_formset_audited(request, formset, lambda: super(UserAdmin, self).save_formset(
            request, form, formset, change))

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # saved (the form redirects)
            user = User.objects.filter(pk=id).first()
            if user is not None:
                record_change(request, "update", user, {"password": ["(hidden)", "(changed)"]})
        return response

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        record_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            record_delete(request, obj)
        super().delete_queryset(request, queryset)


@admin.register(Membership)
class MembershipAdmin(PlatformAdminWrites, TenantScopedAdmin):
    """Platform admins assign roles; client staff see their tenant's people (changing roles would
    let them widen their own access, so it stays with the platform)."""

    list_display = ("user", "role", "tenant", "department", "store")
    list_filter = ("role", "tenant", "department")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    autocomplete_fields = ("user", "store", "department")
    list_select_related = ("user", "tenant", "department", "store")


    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return []  # a platform admin may move a membership; Membership.clean keeps it consistent


@admin.register(ApiToken)
class ApiTokenAdmin(TenantScopedAdmin):
    """Tokens are created with `linia token create`; here they are listed and revoked."""

    manage_perm = None
    list_display = ("prefix", "name", "user", "tenant", "created_at", "last_used_at", "revoked_at")
    list_filter = ("tenant",)
    search_fields = ("prefix", "name", "user__username")
    fields = ("tenant", "user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return self.allowed(request, Perm.CONFIG_MANAGE)

    @admin.action(description=_("Revoke selected tokens"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = sum(
            core_actions.revoke_api_token(request.user, token)
            for token in queryset.filter(revoked_at__isnull=True)
            if self.allowed(request, Perm.CONFIG_MANAGE, token)
        )
        self.message_user(request, _("%(n)d token(s) revoked.") % {"n": count}, messages.SUCCESS)


@admin.register(AuditLog)
class AuditLogAdmin(TenantScopedAdmin):
    """Read-only for everyone: platform admins see all rows, others their tenants' rows."""

    view_perm = Perm.AUDIT_VIEW
    manage_perm = None
    list_display = ("created_at", "actor", "action", "object_type", "object_repr", "tenant")
    list_filter = ("action", "object_type", "tenant")
    search_fields = ("object_repr", "object_id", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("actor", "tenant")
    fields = ("created_at", "tenant", "actor", "action", "object_type", "object_id", "object_repr",
              "pretty_changes")
    readonly_fields = fields
    formfield_overrides = JSON_OVERRIDES

    @admin.display(description=_("changes"))
    def pretty_changes(self, obj: AuditLog) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.changes, indent=2, ensure_ascii=False))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
