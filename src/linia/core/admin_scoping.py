"""Tenant scoping for the Django admin: one mixin for every tenant-owned ModelAdmin.

Platform admins (superusers) see everything. Any other staff user sees only the tenants where
linia.core.permissions grants the admin's permission *and* CONFIG_MANAGE (the admin is the
configuration UI: agents and store staff never get in, whatever their is_staff flag says).
Django's per-model auth permissions are not consulted, so client staff need no permission rows.

Rows of other tenants answer 404, foreign-key choices stay inside the object's tenant, the tenant
field is filled in for users of one tenant, and every add/change/delete writes an audit log row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

from linia.core import audit
from linia.core.models import Tenant, TenantOwned
from linia.core.permissions import Perm, has_perm, is_platform_admin, tenants_for

ADMIN_GATE = Perm.CONFIG_MANAGE
MASKED_FIELDS = frozenset({"password"})  # audited as "changed", never with the value


def admin_tenant_ids(request: HttpRequest, perm: Perm) -> list[int] | None:
    """Tenant ids where the user may use an admin guarded by `perm`; None means all (platform admin)."""
    user = request.user
    if is_platform_admin(user):
        return None
    cache: dict[Perm, list[int]] = request.__dict__.setdefault("_linia_admin_tenants", {})
    if perm not in cache:
        if not (user.is_active and user.is_staff):
            cache[perm] = []
        else:
            cache[perm] = [t.pk for t in tenants_for(user)
                           if has_perm(user, ADMIN_GATE, t) and has_perm(user, perm, t)]
    return cache[perm]


# --- JSON fields: pretty, validated, never a 500 --------------------------------------------------

class PrettyJSONField(forms.JSONField):
    """A JSON textarea shown indented; invalid JSON is a form error ("Enter a valid JSON.")."""

    widget = forms.Textarea(attrs={"rows": 10, "cols": 80, "style": "font-family: monospace"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, cls=self.encoder)


JSON_OVERRIDES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.JSONField: {"form_class": PrettyJSONField, "widget": PrettyJSONField.widget},
}


def require_object(value: Any, example: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(_("Expected a JSON object such as %(example)s."), params={"example": example})
    return value


# --- snapshots for the audit log --------------------------------------------------------------------

def snapshot(obj: Model) -> dict[str, Any]:
    """Editable field values (foreign keys as ids, many-to-many as sorted ids) for before/after diffs."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key or not field.editable:
            continue
        data[field.name] = field.value_from_object(obj)
    if obj.pk is not None:
        for m2m in obj._meta.many_to_many:
            data[m2m.name] = sorted(o.pk for o in m2m.value_from_object(obj))
    return data


def db_snapshot(obj: Model) -> dict[str, Any]:
    stored = type(obj)._default_manager.filter(pk=obj.pk).first()
    return snapshot(stored) if stored is not None else {}


def audit_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changes = audit.diff(before, after)
    for name in MASKED_FIELDS & changes.keys():
        changes[name] = ["(hidden)", "(changed)"]
    return changes


def audit_tenant(obj: Model) -> int | None:
    if isinstance(obj, Tenant):
        return obj.pk
    tenant_id = getattr(obj, "tenant_id", None)
    return tenant_id if isinstance(tenant_id, int) else None


def record_change(request: HttpRequest, action: str, obj: Model, changes: dict[str, Any]) -> None:
    tenant_id = None if action == "delete" and isinstance(obj, Tenant) else audit_tenant(obj)
    audit.record(request.user, action, obj, tenant=tenant_id, changes=changes)


def record_delete(request: HttpRequest, obj: Model) -> None:
    before = snapshot(obj)
    record_change(request, "delete", obj, audit_diff(before, dict.fromkeys(before)))


# --- forms ------------------------------------------------------------------------------------------

def _related_objects(value: Any) -> Iterable[Any]:
    if isinstance(value, QuerySet | list | tuple):
        return value
    return [value]


def save_formset_audited(request: HttpRequest, formset: Any, save: Callable[[], None]) -> None:
    """Save inline rows, recording each created, changed and deleted row in the audit log."""
    before = {f.instance.pk: db_snapshot(f.instance) for f in formset.initial_forms
              if f.instance.pk is not None and f.has_changed()}
    for deleted in formset.deleted_forms:
        if deleted.instance.pk is not None:
            record_delete(request, deleted.instance)
    save()
    for obj in formset.new_objects:
        record_change(request, "create", obj, audit_diff({}, snapshot(obj)))
    for obj, _fields in formset.changed_objects:
        changes = audit_diff(before.get(obj.pk, {}), snapshot(obj))
        if changes:
            record_change(request, "update", obj, changes)


class TenantModelForm(forms.ModelForm):  # type: ignore[type-arg]
    """Fills in and checks the tenant; rejects related objects of another tenant."""

    # Set by TenantScopedAdmin.get_form on the per-request form class: None for platform admins.
    linia_tenant_ids: ClassVar[list[int] | None] = None

    def clean_tenant(self) -> Tenant | None:
        tenant: Tenant | None = self.cleaned_data.get("tenant")
        ids = self.linia_tenant_ids
        if tenant is None and ids is not None:
            if len(ids) != 1:
                raise ValidationError(_("Choose the tenant."), code="required")
            tenant = Tenant.objects.get(pk=ids[0])
        return tenant

    def _form_tenant_id(self) -> int | None:
        tenant = self.cleaned_data.get("tenant") if "tenant" in self.fields else None
        if isinstance(tenant, Tenant):
            return tenant.pk
        tenant_id = getattr(self.instance, "tenant_id", None)
        return tenant_id if isinstance(tenant_id, int) else None

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        tenant_id = self._form_tenant_id()
        if tenant_id is None:
            return data
        foreign = [name for name, value in data.items() if name != "tenant" and any(
            isinstance(item, TenantOwned) and item.tenant_id != tenant_id for item in _related_objects(value))]
        for name in foreign:
            self.add_error(name, _("This belongs to another tenant."))
        return data

    def _get_validation_exclusions(self) -> set[str]:
        # The tenant is often not a form field (inlines, read-only on change), yet it is part of the
        # unique constraints (tenant, code): keep it in validation so duplicates are form errors.
        exclude: set[str] = super()._get_validation_exclusions()  # type: ignore[misc]
        if getattr(self.instance, "tenant_id", None) is not None and "tenant" not in self.errors:
            exclude.discard("tenant")
        return exclude


class TenantInlineFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    """Inline rows take the parent's tenant before validation."""

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form: forms.Form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        parent_tenant = getattr(self.instance, "tenant_id", None)
        instance = getattr(form, "instance", None)
        if parent_tenant is not None and instance is not None and hasattr(instance, "tenant_id"):
            instance.tenant_id = parent_tenant
        return form


# --- the mixin --------------------------------------------------------------------------------------

class TenantScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Base ModelAdmin for tenant-owned models. Set view_perm and manage_perm (None: read-only)."""

    view_perm: ClassVar[Perm] = Perm.CONFIG_MANAGE
    manage_perm: ClassVar[Perm | None] = Perm.CONFIG_MANAGE
    tenant_lookup: ClassVar[str] = "tenant"  # how querysets reach the tenant id
    form = TenantModelForm
    formfield_overrides = JSON_OVERRIDES

    # --- which rows -------------------------------------------------------------------------------
    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        ids = admin_tenant_ids(request, self.view_perm)
        return qs if ids is None else qs.filter(**{f"{self.tenant_lookup}__in": ids})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scope_queryset(request, super().get_queryset(request))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # Another tenant's object and a missing one look the same: 404 (Django would redirect).
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such object."))
        return obj

    def object_tenant_id(self, obj: Any) -> int | None:
        return audit_tenant(obj)

    # --- permissions, decided by linia.core.permissions ----------------------------------------
    def allowed(self, request: HttpRequest, perm: Perm | None, obj: Any = None) -> bool:
        if perm is None:
            return False
        ids = admin_tenant_ids(request, perm)
        if ids is None:
            return True
        return bool(ids) and (obj is None or self.object_tenant_id(obj) in ids)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allowed(request, self.view_perm, obj) or self.has_change_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allowed(request, self.manage_perm, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.allowed(request, self.manage_perm)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allowed(request, self.manage_perm, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    # --- the changelist: no other tenants' names in columns or filters ------------------------
    def _single_tenant(self, request: HttpRequest) -> bool:
        ids = admin_tenant_ids(request, self.view_perm)
        return ids is not None and len(ids) <= 1

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        shown = list(super().get_list_display(request))
        return [f for f in shown if f != "tenant"] if self._single_tenant(request) else shown

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        filters = list(super().get_list_filter(request))
        if is_platform_admin(request.user):
            return filters
        if self._single_tenant(request):
            filters = [f for f in filters if f != "tenant"]
        # Related filters list only values present in the scoped rows, never all tenants' rows.
        return [(f, admin.RelatedOnlyFieldListFilter) if isinstance(f, str) and self._is_relation(f) else f
                for f in filters]

    def _is_relation(self, name: str) -> bool:
        try:
            return bool(self.model._meta.get_field(name).is_relation)
        except Exception:  # a lookup path such as "store__city": leave to Django
            return False

    # --- forms --------------------------------------------------------------------------------
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and self._has_tenant_field() and "tenant" not in fields:
            fields.append("tenant")  # rows never move between tenants
        return fields

    def _has_tenant_field(self) -> bool:
        return any(f.name == "tenant" for f in self.model._meta.fields)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        request.__dict__["_linia_admin_obj"] = obj  # formfield_for_foreignkey limits choices to its tenant
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, TenantModelForm):
            form.linia_tenant_ids = admin_tenant_ids(request, self.manage_perm or self.view_perm)
        return form

    def _choices_tenant_ids(self, request: HttpRequest) -> list[int] | None:
        obj = request.__dict__.get("_linia_admin_obj")
        obj_tenant = self.object_tenant_id(obj) if obj is not None else None
        if obj_tenant is not None:
            return [obj_tenant]
        return admin_tenant_ids(request, self.manage_perm or self.view_perm)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        if related is Tenant and db_field.name == "tenant":
            ids = admin_tenant_ids(request, self.manage_perm or self.view_perm)
            if ids is not None:
                kwargs["queryset"] = Tenant.objects.filter(pk__in=ids)
                kwargs["required"] = False  # TenantModelForm.clean_tenant fills in the only tenant
                if len(ids) == 1:
                    kwargs["widget"] = forms.HiddenInput
                    kwargs["initial"] = ids[0]
        elif isinstance(related, type) and issubclass(related, TenantOwned) and "queryset" not in kwargs:
            kwargs["queryset"] = self._limit(request, related._default_manager.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        if isinstance(related, type) and issubclass(related, TenantOwned) and "queryset" not in kwargs:
            kwargs["queryset"] = self._limit(request, related._default_manager.all())
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _limit(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        ids = self._choices_tenant_ids(request)
        return qs if ids is None else qs.filter(tenant_id__in=ids)

    # --- saving with an audit trail ------------------------------------------------------------
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        request.__dict__.setdefault("_linia_audit_before", {})[id(obj)] = db_snapshot(obj) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # many-to-many saved: now diff
        obj = form.instance
        before = request.__dict__.get("_linia_audit_before", {}).pop(id(obj), {})
        changes = audit_diff(before, snapshot(obj))
        if changes or not change:
            record_change(request, "update" if change else "create", obj, changes)
            self.on_saved(request, obj, created=not change, changes=changes)

    def on_saved(self, request: HttpRequest, obj: Any, *, created: bool, changes: dict[str, Any]) -> None:
        """Hook for events the domain's actions would emit (called inside the admin's transaction)."""

    def on_deleted(self, request: HttpRequest, obj: Any) -> None:
        """Hook called just before a row is deleted (inside the admin's transaction)."""

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        save_formset_audited(request, formset, lambda: super(TenantScopedAdmin, self).save_formset(
            request, form, formset, change))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        record_delete(request, obj)
        self.on_deleted(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            record_delete(request, obj)
            self.on_deleted(request, obj)
        super().delete_queryset(request, queryset)


class TenantScopedInline(admin.TabularInline):  # type: ignore[type-arg]
    """Inline rows follow the parent admin's permissions and take the parent's tenant."""

    form = TenantModelForm
    formset = TenantInlineFormSet
    formfield_overrides = JSON_OVERRIDES
    extra = 0
    read_only: ClassVar[bool] = False

    def _parent(self) -> Any:
        return self.admin_site._registry[self.parent_model]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(self._parent().has_view_permission(request, obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self.read_only and bool(self._parent().has_change_permission(request, obj))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self.read_only and bool(self._parent().has_change_permission(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self.read_only and bool(self._parent().has_change_permission(request, obj))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        if isinstance(related, type) and issubclass(related, TenantOwned) and "queryset" not in kwargs:
            obj = request.__dict__.get("_linia_admin_obj")
            parent = self._parent()
            perm: Perm = getattr(parent, "manage_perm", None) or getattr(parent, "view_perm", None) or ADMIN_GATE
            obj_tenant = getattr(obj, "tenant_id", None)
            ids = [obj_tenant] if obj_tenant else admin_tenant_ids(request, perm)
            qs = related._default_manager.all()
            kwargs["queryset"] = qs if ids is None else qs.filter(tenant_id__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*(super().get_exclude(request, obj) or []), "tenant"]
