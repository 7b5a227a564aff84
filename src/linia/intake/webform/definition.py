"""A form's definition: its JSON Schema (what is asked and the rules) and UI hints (order, widgets, labels).

Field kinds come from the schema property (flat object schemas only):

=============  ===============================================================================
kind           property
=============  ===============================================================================
text           ``{"type": "string"}``
textarea       the same with ui ``"widget": "textarea"`` (long text)
email          ``{"type": "string", "format": "email"}``
phone          ``{"type": "string", "format": "phone"}`` (stored as E.164; region from the tenant's language)
choice         ``{"type": "string", "enum": [...]}`` (ui widget ``select`` (default) or ``radio``)
multichoice    ``{"type": "array", "items": {"type": "string", "enum": [...]}, "uniqueItems": true}``
date           ``{"type": "string", "format": "date"}`` (YYYY-MM-DD)
time           ``{"type": "string", "format": "time"}`` (HH:MM, local to the store / tenant)
datetime       ``{"type": "string", "format": "date-time"}`` (YYYY-MM-DDTHH:MM, local)
number         ``{"type": "integer"}`` or ``{"type": "number"}``
store          ``{"type": "string", "format": "store"}`` (a store code of the form's tenant)
file           ``{"type": "string", "format": "file"}`` (the file name; the file becomes an attachment)
consent        ``{"type": "boolean"}`` (a required one must be ticked)
quantities     ``{"type": "array", "items": {"type": "object", "properties": {"name": {"enum": [...]},
               "qty": {"type": "integer", "minimum": 1, "maximum": N}}}}`` (a list of items with amounts)
=============  ===============================================================================

UI hints (all optional)::

    {"order": ["name", "email", ...],
     "fields": {"name": {"label": {"en": "Your name", "ru": "Ваше имя"}, "help": {...}, "placeholder": {...},
                         "widget": "textarea|radio|select", "autocomplete": "name",
                         "choices": {"value": {"en": "Label"}}, "error": {"en": "shown when the pattern fails"},
                         "accept": [".pdf", ".docx"], "max_mb": 5}},
     "checks": [{"check": "store_hours", "store": "store", "date": "pickup_date", "time": "pickup_time"},
                {"check": "store_hours", "store": "store", "at": "pickup_at"}]}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

KINDS = ("text", "textarea", "email", "phone", "choice", "multichoice", "date", "time", "datetime", "number",
         "store", "file", "consent", "quantities")
WIDGETS = {"textarea": {"textarea"}, "radio": {"choice"}, "select": {"choice"}}
TEXT_FORMATS = {"email": "email", "phone": "phone", "date": "date", "time": "time", "date-time": "datetime",
                "store": "store", "file": "file"}
MAX_FILE_MB = 20
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,59}$")  # "_lf_..." inputs are the page's own (token, honeypot)


class DefinitionError(ValueError):
    """A form definition that cannot work; the message says what to fix (shown in the admin)."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    required: bool
    prop: Mapping[str, Any]
    hints: Mapping[str, Any] = field(default_factory=dict)

    def text(self, key: str, language: str, fallback: str = "") -> str:
        return localized(self.hints.get(key), language, fallback)

    def label(self, language: str) -> str:
        return self.text("label", language, str(self.prop.get("title") or self.name.replace("_", " ").capitalize()))

    @property
    def options(self) -> list[str]:
        """The allowed values of a choice, multi-choice or quantities field."""
        if self.kind == "choice":
            return [str(v) for v in self.prop.get("enum", [])]
        if self.kind == "multichoice":
            return [str(v) for v in self.prop.get("items", {}).get("enum", [])]
        if self.kind == "quantities":
            return [str(v) for v in self.prop["items"]["properties"]["name"].get("enum", [])]
        return []

    def option_label(self, value: str, language: str) -> str:
        labels = self.hints.get("choices")
        return localized(labels.get(value) if isinstance(labels, Mapping) else None, language, value)

    @property
    def max_qty(self) -> int:
        qty = self.prop.get("items", {}).get("properties", {}).get("qty", {})
        return int(qty.get("maximum", 20))

    @property
    def max_bytes(self) -> int:
        return int(float(self.hints.get("max_mb", MAX_FILE_MB)) * 1024 * 1024)

    @property
    def accept(self) -> list[str]:
        return [str(a).lower() for a in self.hints.get("accept", [])]


def spans_text(intervals: Iterable[tuple[datetime, datetime]], whole_day: str) -> str:
    """Opening intervals as "08:00–22:00, 23:00–02:00"; a span of a whole day (24/7) as ``whole_day``."""
    parts = []
    for start, end in intervals:
        if end.astimezone(UTC) - start.astimezone(UTC) >= timedelta(hours=23):  # 23: a spring-forward day
            parts.append(whole_day)
        else:
            parts.append(f"{start:%H:%M}–{end:%H:%M}")
    return ", ".join(parts)


def localized(value: Any, language: str, fallback: str = "") -> str:
    """{"en": ..., "ru": ...} → the text in ``language`` (else English, else any); a plain string as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for code in (language, "en"):
            text = value.get(code)
            if isinstance(text, str) and text.strip():
                return text
        return next((v for v in value.values() if isinstance(v, str) and v.strip()), fallback)
    return fallback


def _kind(name: str, prop: Any, hints: Mapping[str, Any]) -> str:
    if not isinstance(prop, Mapping):
        raise DefinitionError(f"field {name!r}: expected an object such as {{\"type\": \"string\"}}")
    kind_of_type = prop.get("type")
    if kind_of_type == "boolean":
        return "consent"
    if kind_of_type in ("integer", "number"):
        return "number"
    if kind_of_type == "array":
        items = prop.get("items")
        if isinstance(items, Mapping) and isinstance(items.get("enum"), list):
            return "multichoice"
        props = items.get("properties") if isinstance(items, Mapping) else None
        if (isinstance(props, Mapping) and isinstance(props.get("name"), Mapping)
                and isinstance(props["name"].get("enum"), list) and isinstance(props.get("qty"), Mapping)):
            return "quantities"
        raise DefinitionError(f"field {name!r}: a list must have items with an \"enum\" (multi-choice) or "
                              "items with \"name\" (enum) and \"qty\" (quantities)")
    if kind_of_type == "string":
        fmt = prop.get("format")
        if fmt is not None:
            if fmt not in TEXT_FORMATS:
                raise DefinitionError(f"field {name!r}: unknown format {fmt!r}; use one of "
                                      f"{', '.join(sorted(TEXT_FORMATS))}")
            return TEXT_FORMATS[str(fmt)]
        if isinstance(prop.get("enum"), list):
            return "choice"
        return "textarea" if hints.get("widget") == "textarea" else "text"
    raise DefinitionError(f"field {name!r}: \"type\" must be string, integer, number, boolean or array")


def parse(schema: Any, ui: Any = None) -> list[Field]:
    """The form's fields in display order; raises DefinitionError with a message saying what to fix."""
    if not isinstance(schema, Mapping):
        raise DefinitionError('the schema must be a JSON object such as {"type": "object", "properties": {...}}')
    try:
        Draft202012Validator.check_schema(dict(schema))
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        raise DefinitionError(f"not a valid JSON Schema{f' at {where}' if where else ''}: {exc.message}") from None
    if schema.get("type") != "object":
        raise DefinitionError('the schema must have "type": "object"')
    props = schema.get("properties")
    if not isinstance(props, Mapping) or not props:
        raise DefinitionError('the schema needs "properties" with at least one field')
    ui = ui if ui is not None else {}
    if not isinstance(ui, Mapping):
        raise DefinitionError("UI hints must be a JSON object")
    hints = ui.get("fields", {})
    if not isinstance(hints, Mapping):
        raise DefinitionError('UI hints: "fields" must be an object {field: {...}}')
    unknown = sorted(set(hints) - set(props))
    if unknown:
        raise DefinitionError(f"UI hints name fields the schema does not have: {', '.join(unknown)}")
    required = schema.get("required", [])
    missing = sorted(set(required) - set(props))
    if missing:
        raise DefinitionError(f"\"required\" names fields the schema does not have: {', '.join(missing)}")
    fields = {}
    for name, prop in props.items():
        if not _NAME_RE.match(name):
            raise DefinitionError(f"field name {name!r}: use letters, digits and _ (starting with a letter, "
                                  "at most 60)")
        field_hints = hints.get(name, {})
        if not isinstance(field_hints, Mapping):
            raise DefinitionError(f"UI hints for {name!r} must be an object")
        kind = _kind(name, prop, field_hints)
        widget = field_hints.get("widget")
        if widget is not None and kind not in WIDGETS.get(str(widget), set()):
            raise DefinitionError(f"field {name!r}: widget {widget!r} does not fit a {kind} field")
        _check_file_hints(name, kind, field_hints)
        fields[name] = Field(name, kind, name in required, prop, field_hints)
    order = ui.get("order", [])
    if not isinstance(order, list) or any(n not in fields for n in order):
        raise DefinitionError(f"UI hints: \"order\" must list field names ({', '.join(fields)})")
    ordered = [fields[n] for n in dict.fromkeys(order)] + [f for n, f in fields.items() if n not in order]
    _check_rules(ui.get("checks", []), fields)
    return ordered


def _check_file_hints(name: str, kind: str, hints: Mapping[str, Any]) -> None:
    if kind != "file":
        return
    accept = hints.get("accept", [])
    if not isinstance(accept, list) or not all(isinstance(a, str) and a.startswith(".") for a in accept):
        raise DefinitionError(f"field {name!r}: \"accept\" must be a list of extensions such as [\".pdf\"]")
    max_mb = hints.get("max_mb", MAX_FILE_MB)
    if not isinstance(max_mb, int | float) or not 0 < max_mb <= MAX_FILE_MB:
        raise DefinitionError(f"field {name!r}: \"max_mb\" must be a number above 0 and at most {MAX_FILE_MB}")


def _check_rules(rules: Any, fields: Mapping[str, Field]) -> None:
    if not isinstance(rules, list):
        raise DefinitionError('UI hints: "checks" must be a list')
    for rule in rules:
        if not isinstance(rule, Mapping) or rule.get("check") != "store_hours":
            raise DefinitionError('UI hints: each check must be {"check": "store_hours", ...}')
        wanted = {"store": "store"} | ({"at": "datetime"} if "at" in rule else {"date": "date", "time": "time"})
        for role, kind in wanted.items():
            target = fields.get(str(rule.get(role)))
            if target is None or target.kind != kind:
                raise DefinitionError(f"check store_hours: \"{role}\" must name a {kind} field")


def store_hours_rules(ui: Mapping[str, Any]) -> list[Mapping[str, str]]:
    return [r for r in ui.get("checks", []) if isinstance(r, Mapping) and r.get("check") == "store_hours"]
