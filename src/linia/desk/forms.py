"""Desk forms: the new-ticket form, and custom fields built from a category's JSON Schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from linia.directory.models import Category
from linia.tickets.models import Channel, Priority

# Channels an agent registers by hand; the others arrive through their intake adapters.
MANUAL_CHANNELS = (Channel.CALL, Channel.FAX, Channel.POST, Channel.WALK_IN, Channel.EMAIL, Channel.SMS,
                   Channel.MESSENGER, Channel.CHAT)
CF_PREFIX = "cf_"


def _schema_field(spec: dict[str, Any], required: bool) -> forms.Field:
    """One Django field for one JSON Schema property (string, number, integer, boolean, enum, date)."""
    label = str(spec.get("title") or "")
    help_text = str(spec.get("description") or "")
    common: dict[str, Any] = {"label": label, "required": required, "help_text": help_text}
    kind = spec.get("type")
    if "enum" in spec:
        choices = [("", "—")] + [(str(v), str(v)) for v in spec["enum"]]
        return forms.TypedChoiceField(choices=choices, coerce=_enum_coerce(spec["enum"]), empty_value=None, **common)
    if kind == "boolean":
        return forms.BooleanField(label=label, required=False, help_text=help_text)
    if kind == "integer":
        return forms.IntegerField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common)
    if kind == "number":
        return forms.DecimalField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common)
    if kind == "string" and spec.get("format") == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == "string" and int(spec.get("maxLength") or 0) > 200:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=spec.get("maxLength"), **common)
    return forms.CharField(max_length=spec.get("maxLength"), min_length=spec.get("minLength"), **common)


def _enum_coerce(values: list[Any]) -> Any:
    """Back from the posted text to the schema's own value (an enum may hold numbers or booleans)."""
    by_text = {str(v): v for v in values}
    return lambda text: by_text.get(text, text)


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class CustomFieldsForm(forms.Form):
    """Fields of a category's JSON Schema, prefixed cf_ so they never clash with the ticket's own fields."""

    def __init__(self, category: Category | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = category.field_schema if category is not None else {}
        properties = schema.get("properties") or {} if isinstance(schema, dict) else {}
        required = set(schema.get("required") or []) if isinstance(schema, dict) else set()
        self.keys: list[str] = []
        for key, spec in properties.items():
            if isinstance(spec, dict):
                field = _schema_field(spec, key in required)
                field.label = field.label or key.replace("_", " ").capitalize()
                self.fields[CF_PREFIX + key] = field
                self.keys.append(key)

    def values(self) -> dict[str, Any]:
        """JSON values of the filled-in fields (empty ones are left out so 'required' is checked once)."""
        out: dict[str, Any] = {}
        for key in self.keys:
            value = self.cleaned_data.get(CF_PREFIX + key)
            if value is None or value == "":
                continue
            field = self.fields[CF_PREFIX + key]
            if isinstance(field, forms.BooleanField) and not value and not field.required:
                out[key] = False
                continue
            out[key] = _to_json(value)
        return out

    def add_action_errors(self, field_errors: dict[str, list[str]]) -> None:
        for key, items in field_errors.items():
            if CF_PREFIX + key in self.fields:
                for item in items:
                    self.add_error(CF_PREFIX + key, item)


def initial_custom_values(values: dict[str, Any]) -> dict[str, Any]:
    return {CF_PREFIX + k: v for k, v in (values or {}).items()}


class NewTicketForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=[(c.value, c.label) for c in MANUAL_CHANNELS],
                                initial=Channel.CALL)
    contact_name = forms.CharField(label=_("Contact name"), max_length=200, required=False)
    contact_phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    contact_email = forms.EmailField(label=_("Email"), required=False)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}), required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.none(), required=False)
    store = forms.IntegerField(label=_("Store"), required=False, widget=forms.HiddenInput)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)

    def __init__(self, tenant: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        field.queryset = Category.objects.filter(tenant=tenant, is_active=True)  # type: ignore[attr-defined]
        language = translation.get_language() or "en"
        field.label_from_instance = lambda c: c.localized_name(language)  # type: ignore[attr-defined]
