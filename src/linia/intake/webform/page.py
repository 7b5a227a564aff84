"""What the form template needs per field: ids, label, help, the entered value, errors, options."""

from __future__ import annotations

import re
from typing import Any

from django.urls import reverse

from linia.intake.webform.definition import Field, localized
from linia.intake.webform.models import WebForm
from linia.intake.webform.queries import large_chain, searched_store_options, store_options, store_week
from linia.intake.webform.validation import SEARCH_SUFFIX, Cleaned

_HEX = re.compile(r"^#[0-9A-Fa-f]{3}([0-9A-Fa-f]{3})?$")
DEFAULT_COLOURS = {"primary": "#0b6bcb", "on_primary": "#ffffff"}
INPUT_TYPES = {"text": "text", "email": "email", "phone": "tel", "date": "date", "time": "time",
               "datetime": "datetime-local", "number": "number"}
AUTOCOMPLETE = {"email": "email", "phone": "tel"}


def colours(form: WebForm) -> dict[str, str]:
    """Tenant colours (Tenant.settings["colours"]), overridden by the form's ui "colours"; only #hex values."""
    chosen = dict(DEFAULT_COLOURS)
    for source in (form.tenant.settings.get("colours"), (form.ui or {}).get("colours")):
        if isinstance(source, dict):
            chosen.update({k: v for k, v in source.items() if k in chosen and isinstance(v, str) and _HEX.match(v)})
    return chosen


def field_context(form: WebForm, f: Field, language: str, cleaned: Cleaned | None) -> dict[str, Any]:
    raw = cleaned.raw.get(f.name) if cleaned is not None else None
    errors = cleaned.errors.get(f.name, []) if cleaned is not None else []
    dom_id = f"f-{f.name}"
    help_text = f.text("help", language)
    described = [i for i, on in ((f"{dom_id}-help", help_text), (f"{dom_id}-error", errors)) if on]
    ctx: dict[str, Any] = {
        "name": f.name, "id": dom_id, "kind": f.kind, "label": f.label(language), "help": help_text,
        "placeholder": f.text("placeholder", language), "required": f.required, "errors": errors,
        "describedby": " ".join(described), "input_type": INPUT_TYPES.get(f.kind, "text"),
        "autocomplete": str(f.hints.get("autocomplete") or AUTOCOMPLETE.get(f.kind, "")),
        "value": raw if isinstance(raw, str) else "",
        "widget": f.hints.get("widget") or ("radio" if f.kind == "choice" and len(f.options) <= 4 else "select"),
        "group": f.kind in ("multichoice", "quantities") or (f.kind == "choice" and f.hints.get("widget") == "radio"),
    }
    if f.kind == "datetime" and ctx["value"]:
        ctx["value"] = ctx["value"].replace(" ", "T")
    if f.kind in ("choice", "multichoice"):
        chosen = set(raw) if isinstance(raw, list) else {raw}
        ctx["options"] = [{"value": v, "label": f.option_label(v, language), "selected": v in chosen,
                           "id": f"{dom_id}-{i}"} for i, v in enumerate(f.options)]
        ctx["group"] = f.kind == "multichoice" or ctx["widget"] == "radio"
    elif f.kind == "quantities":
        given = raw if isinstance(raw, dict) else {}
        ctx["rows"] = [{"name": f"{f.name}.{i}", "id": f"{dom_id}-{i}", "label": f.option_label(v, language),
                        "value": given.get(str(i), ""), "max": f.max_qty} for i, v in enumerate(f.options)]
    elif f.kind == "consent":
        ctx["checked"] = bool(raw)
        ctx["text"] = f.text("text", language) or localized(f.prop.get("description"), language, "")
    elif f.kind == "store":
        ctx["q"] = str(cleaned.raw.get(f"{f.name}{SEARCH_SUFFIX}", "")) if cleaned is not None else ""
        ctx["large"] = large_chain(form.tenant)
        ctx["store_groups"] = (searched_store_options(form.tenant, ctx["q"], ctx["value"]) if ctx["large"]
                               else store_options(form.tenant))
        ctx["found"] = sum(len(stores) for _city, stores in ctx["store_groups"])
        ctx["search_url"] = reverse("webform:stores", args=[form.public_key])
        ctx["week"] = store_week(form.tenant, ctx["value"]) if ctx["value"] else None
    elif f.kind == "file":
        ctx["accept"] = ",".join(f.accept)
        ctx["accept_text"] = ", ".join(f.accept)
        ctx["max_mb"] = f"{f.max_bytes / 1048576:g}"
    elif f.kind == "number":
        ctx["min"] = f.prop.get("minimum", "")
        ctx["max"] = f.prop.get("maximum", "")
        ctx["step"] = "1" if f.prop.get("type") == "integer" else "any"
    return ctx
