"""Plain-language messages for JSON Schema validation errors of a category's custom fields.

jsonschema's own messages ("'X' does not match '^[A-Z]{2}-\\d{6}$'") are for developers; agents, store staff
and customers get these instead, in their language (the caller's active translation)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from jsonschema.exceptions import ValidationError


def _type_name(kind: Any) -> str:
    names = {"string": _("text"), "integer": _("a whole number"), "number": _("a number"),
             "boolean": _("yes or no"), "array": _("a list"), "object": _("a group of fields")}
    kinds = kind if isinstance(kind, list) else [kind]
    return " / ".join(names.get(str(k), str(k)) for k in kinds)


def _with_example(message: str, schema: dict[str, Any]) -> str:
    examples = schema.get("examples") if isinstance(schema, dict) else None
    if isinstance(examples, list) and examples and isinstance(examples[0], str | int | float):
        return message + " " + _("For example: %(example)s.") % {"example": examples[0]}
    return message


def humanize(err: ValidationError) -> str:
    """One sentence for one validation error; the field it belongs to is known from err.absolute_path."""
    limit: Any = err.validator_value
    schema: dict[str, Any] = err.schema if isinstance(err.schema, dict) else {}
    match err.validator:
        case "required":
            return _("This field is required.")
        case "pattern":
            return _with_example(_("This value does not have the expected format."), schema)
        case "enum":
            choices = ", ".join(str(c) for c in list(limit)[:10]) + (" …" if len(limit) > 10 else "")
            return _("Choose one of: %(choices)s.") % {"choices": choices}
        case "const":
            return _("This value is not allowed here.")
        case "type":
            return _("Enter %(kind)s.") % {"kind": _type_name(limit)}
        case "minLength":
            return _("Enter at least %(n)s characters.") % {"n": limit}
        case "maxLength":
            return _("Enter at most %(n)s characters.") % {"n": limit}
        case "minimum" | "exclusiveMinimum":
            return _("The smallest allowed value is %(n)s.") % {"n": limit}
        case "maximum" | "exclusiveMaximum":
            return _("The largest allowed value is %(n)s.") % {"n": limit}
        case "minItems":
            return _("Choose at least %(n)s.") % {"n": limit}
        case "maxItems":
            return _("Choose at most %(n)s.") % {"n": limit}
        case "format":
            return _with_example(_("This is not a valid %(format)s.") % {"format": limit}, schema)
    return _("This value is not valid.")
