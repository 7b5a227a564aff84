"""Admin for web forms: tenant-scoped (TenantScopedAdmin); a form whose schema or UI hints cannot work is a
clear form error, never a saved broken form."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from linia.core.admin_scoping import TenantModelForm, TenantScopedAdmin, require_object
from linia.intake.webform.definition import DefinitionError, parse
from linia.intake.webform.models import Submission, WebForm
from linia.intake.webform.queries import valid_origin
from linia.tickets.events import emit

_TEXTS_EXAMPLE = '{"en": "...", "ru": "...", "pl": "...", "fr": "..."}'


def _texts(value: Any) -> dict[str, Any]:
    texts: dict[str, Any] = dict(require_object(value if value not in (None, "") else {}, _TEXTS_EXAMPLE))
    wrong = [k for k, v in texts.items() if k not in settings.CUSTOMER_LANGUAGES or not isinstance(v, str)]
    if wrong:
        raise ValidationError(_("Use language codes %(codes)s with text values; check: %(keys)s."),
                              params={"codes": ", ".join(settings.CUSTOMER_LANGUAGES), "keys": ", ".join(wrong)})
    return texts


class WebFormForm(TenantModelForm):
    class Meta:
        model = WebForm
        fields = "__all__"

    def clean_titles(self) -> dict[str, Any]:
        return _texts(self.cleaned_data.get("titles"))

    def clean_intros(self) -> dict[str, Any]:
        return _texts(self.cleaned_data.get("intros"))

    def clean_success_texts(self) -> dict[str, Any]:
        return _texts(self.cleaned_data.get("success_texts"))

    def clean_allowed_origins(self) -> list[str]:
        value = self.cleaned_data.get("allowed_origins") or []
        if not isinstance(value, list):
            raise ValidationError(_('Expected a list such as ["https://shop.example.com"].'))
        wrong = [str(v) for v in value if not valid_origin(v)]
        if wrong:
            raise ValidationError(_("Not an origin (scheme://host[:port], no path): %(values)s"),
                                  params={"values": ", ".join(wrong)})
        return [str(v) for v in value]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "schema" in data and "ui" in data:
            try:
                parse(data["schema"], data["ui"] if data["ui"] not in (None, "") else {})
            except DefinitionError as exc:
                # The message names the field or rule to fix; it goes where the mistake most likely is.
                target = "ui" if str(exc).startswith(("UI hints", "check ")) else "schema"
                self.add_error(target, str(exc))
        return data


@admin.register(WebForm)
class WebFormAdmin(TenantScopedAdmin):
    form = WebFormForm
    list_display = ("name", "public_key", "category", "queue", "is_active", "page", "tenant")
    list_filter = ("is_active", "tenant")
    search_fields = ("name", "public_key")
    list_select_related = ("tenant", "category")
    fieldsets = (
        (None, {"fields": ("tenant", "name", "public_key", "is_active", "default_language")}),
        (_("Texts"), {"fields": ("titles", "intros", "success_texts", "subject")}),
        (_("Fields"), {"fields": ("schema", "ui"),
                       "description": _("Fields as a JSON Schema object; UI hints give order, labels per language "
                                        "and widgets. See docs/webforms.md.")}),
        (_("Routing"), {"fields": ("category", "department", "queue")}),
        (_("Embedding"), {"fields": ("allowed_origins",)}),
    )

    @admin.display(description=_("page"))
    def page(self, obj: WebForm) -> str:
        url = reverse("webform:form", args=[obj.public_key])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    def on_saved(self, request: HttpRequest, obj: Any, *, created: bool, changes: dict[str, Any]) -> None:
        emit(obj.tenant_id, "webform.saved", actor=request.user,
             data={"form_id": obj.pk, "key": obj.public_key, "created": created, "fields": sorted(changes)})


@admin.register(Submission)
class SubmissionAdmin(TenantScopedAdmin):
    manage_perm = None  # read-only: submissions are made by visitors
    list_display = ("created_at", "form", "ticket", "language", "tenant")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "form", "ticket")
    readonly_fields = ("form", "submission_id", "ticket", "language", "ip", "created_at")
