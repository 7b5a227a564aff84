"""Admin for the store directory: stores and their hours, holidays, departments, categories, products,
stock, promotions and vacancies. Tenant scoping and auditing come from TenantScopedAdmin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from linia.core.admin_scoping import TenantModelForm, TenantScopedAdmin, TenantScopedInline, require_object
from linia.core.permissions import Perm
from linia.directory.hours import HoursError, parse_spans, parse_weekly
from linia.directory.models import (
    Category,
    Department,
    Holiday,
    Product,
    Promotion,
    Stock,
    Store,
    StoreHoursException,
    Vacancy,
)
from linia.tickets.events import emit

_WEEKLY_EXAMPLE = '{"mon": ["08:00-22:00"], ..., "sun": []} or {"always": true}'


def _clean_spans(value: Any) -> list[str]:
    try:
        parse_spans(value)
    except HoursError as exc:
        raise ValidationError(str(exc)) from None
    return list(value)


class StoreForm(TenantModelForm):
    class Meta:
        model = Store
        fields = "__all__"

    def clean_opening_hours(self) -> dict[str, Any]:
        value = require_object(self.cleaned_data.get("opening_hours"), _WEEKLY_EXAMPLE)
        try:
            parse_weekly(value)
        except HoursError as exc:
            raise ValidationError(str(exc)) from None
        return value


class SpansForm(TenantModelForm):
    def clean_spans(self) -> list[str]:
        return _clean_spans(self.cleaned_data.get("spans"))


class StoreHoursExceptionForm(SpansForm):
    class Meta:
        model = StoreHoursException
        fields = "__all__"


class HolidayForm(SpansForm):
    class Meta:
        model = Holiday
        fields = "__all__"


class DirectoryEventsAdmin(TenantScopedAdmin):
    """Emits the same events as linia.directory.actions (store.saved, product.deleted, ...)."""

    view_perm = manage_perm = Perm.DIRECTORY_MANAGE
    event_name: str = ""
    key_field: str = ""

    def on_saved(self, request: HttpRequest, obj: Any, *, created: bool, changes: dict[str, Any]) -> None:
        emit(obj.tenant_id, f"{self.event_name}.saved", actor=request.user,
             data={f"{self.event_name}_id": obj.pk, self.key_field: getattr(obj, self.key_field),
                   "created": created, "fields": sorted(changes)})

    def on_deleted(self, request: HttpRequest, obj: Any) -> None:
        emit(obj.tenant_id, f"{self.event_name}.deleted", actor=request.user,
             data={f"{self.event_name}_id": obj.pk, self.key_field: getattr(obj, self.key_field)})


class StoreHoursExceptionInline(TenantScopedInline):
    model = StoreHoursException
    form = StoreHoursExceptionForm
    fields = ("date", "spans", "note")
    ordering = ("-date",)


@admin.register(Store)
class StoreAdmin(DirectoryEventsAdmin):
    event_name, key_field = "store", "code"
    form = StoreForm
    inlines = (StoreHoursExceptionInline,)
    list_display = ("code", "name", "city", "region", "address", "time_zone", "is_active", "tenant")
    list_filter = ("is_active", "tenant", "region", "time_zone")
    search_fields = ("code", "name", "city", "address", "region")
    list_select_related = ("tenant",)
    fieldsets = (
        (None, {"fields": ("tenant", "code", "name", "is_active")}),
        (_("Location"), {"fields": ("address", "city", "region", "latitude", "longitude", "phone")}),
        (_("Hours"), {"fields": ("time_zone", "opening_hours"),
                      "description": _("Weekly hours as JSON: %(e)s. Spans may run overnight (22:00-06:00).")
                      % {"e": _WEEKLY_EXAMPLE}}),
    )


@admin.register(Holiday)
class HolidayAdmin(TenantScopedAdmin):
    view_perm = manage_perm = Perm.DIRECTORY_MANAGE
    form = HolidayForm
    list_display = ("date", "name", "region", "spans", "tenant")
    list_filter = ("tenant", "region")
    search_fields = ("name", "region")
    date_hierarchy = "date"


@admin.register(Department)
class DepartmentAdmin(TenantScopedAdmin):
    view_perm = manage_perm = Perm.CONFIG_MANAGE
    list_display = ("name", "code", "kind", "email", "region", "is_active", "tenant")
    list_filter = ("kind", "is_active", "tenant")
    search_fields = ("name", "code", "email", "region")


class CategoryForm(TenantModelForm):
    class Meta:
        model = Category
        fields = "__all__"

    def clean_field_schema(self) -> dict[str, Any]:
        value = require_object(self.cleaned_data.get("field_schema"),
                               '{"type": "object", "properties": {"receipt": {"type": "string"}}}')
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "(top)"
            raise ValidationError(_("Not a valid JSON Schema at %(where)s: %(msg)s"),
                                  params={"where": where, "msg": exc.message}) from None
        return value

    def clean_names(self) -> dict[str, Any]:
        value = require_object(self.cleaned_data.get("names"), '{"ru": "Жалоба", "pl": "Reklamacja"}')
        if not all(isinstance(v, str) for v in value.values()):
            raise ValidationError(_("Each name must be a string."))
        return value

    def clean_parent(self) -> Category | None:
        parent: Category | None = self.cleaned_data.get("parent")
        node, seen = parent, set()
        while node is not None and self.instance.pk is not None and node.pk not in seen:
            if node.pk == self.instance.pk:
                raise ValidationError(_("A category cannot be inside itself or its own subcategory."))
            seen.add(node.pk)
            node = node.parent
        return parent


@admin.register(Category)
class CategoryAdmin(TenantScopedAdmin):
    view_perm = manage_perm = Perm.CONFIG_MANAGE
    form = CategoryForm
    list_display = ("name", "code", "parent", "default_department", "is_active", "tenant")
    list_filter = ("is_active", "tenant", "default_department")
    search_fields = ("name", "code")
    autocomplete_fields = ("parent", "default_department")
    list_select_related = ("parent", "default_department", "tenant")


class ProductForm(TenantModelForm):
    class Meta:
        model = Product
        fields = "__all__"

    def clean_attributes(self) -> dict[str, Any]:
        return require_object(self.cleaned_data.get("attributes"), '{"brand": "…", "weight_g": 500}')


@admin.register(Product)
class ProductAdmin(DirectoryEventsAdmin):
    event_name, key_field = "product", "sku"
    form = ProductForm
    list_display = ("sku", "name", "updated_at", "tenant")
    list_filter = ("tenant",)
    search_fields = ("sku", "name")


@admin.register(Stock)
class StockAdmin(TenantScopedAdmin):
    view_perm = manage_perm = Perm.DIRECTORY_MANAGE
    list_display = ("store", "product", "quantity", "updated_at", "tenant")
    list_filter = ("tenant",)
    search_fields = ("store__code", "store__name", "product__sku", "product__name")
    autocomplete_fields = ("store", "product")
    list_select_related = ("store", "product", "tenant")
    show_full_result_count = False  # a million rows: skip the second COUNT(*)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"updated_at": timezone.now(), **super().get_changeform_initial_data(request)}


class PromotionForm(TenantModelForm):
    class Meta:
        model = Promotion
        fields = "__all__"

    def clean_texts(self) -> dict[str, Any]:
        return require_object(self.cleaned_data.get("texts"), '{"pl": "…", "en": "…"}')

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The promotion ends before it starts."))
        return data


@admin.register(Promotion)
class PromotionAdmin(TenantScopedAdmin):
    view_perm = manage_perm = Perm.DIRECTORY_MANAGE
    form = PromotionForm
    list_display = ("title", "starts_on", "ends_on", "tenant")
    list_filter = ("tenant",)
    search_fields = ("title",)
    date_hierarchy = "starts_on"
    autocomplete_fields = ("stores",)


@admin.register(Vacancy)
class VacancyAdmin(TenantScopedAdmin):
    view_perm = manage_perm = Perm.DIRECTORY_MANAGE
    list_display = ("position", "store", "city", "is_open", "tenant")
    list_filter = ("is_open", "tenant")
    search_fields = ("position", "city", "store__name", "store__code")
    autocomplete_fields = ("store",)
    list_select_related = ("store", "tenant")
