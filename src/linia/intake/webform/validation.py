"""Turning a posted form into checked values: per-kind parsing, the JSON Schema (``jsonschema``) and Linia's own
checks (phone, store of the tenant, pickup time within the store's opening hours in its time zone).

Messages are translated with the active language (the view activates the visitor's)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaValidationError

from linia.core.errors import ActionError
from linia.core.models import Tenant
from linia.directory.hours import HoursError
from linia.directory.models import Store
from linia.directory.queries import store_hours
from linia.intake.webform.definition import Field, localized, spans_text, store_hours_rules
from linia.tickets.actions import NewAttachment, check_attachment
from linia.tickets.contacts import REGION_BY_LANGUAGE, normalize_email, normalize_phone

MAX_TEXT = 10_000
PICKUP_DAYS_AHEAD = 60
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DATETIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]([01]\d|2[0-3]):([0-5]\d)$")
TRUE_WORDS = frozenset({"on", "true", "1", "yes"})
SEARCH_SUFFIX = "__q"


@dataclass
class Upload:
    field: str
    attachment: NewAttachment


@dataclass
class Cleaned:
    values: dict[str, Any] = field(default_factory=dict)  # JSON values, as stored in the ticket's custom fields
    raw: dict[str, Any] = field(default_factory=dict)  # what the visitor typed, to show again after errors
    uploads: list[Upload] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    stores: dict[str, Store] = field(default_factory=dict)  # store fields → the chosen store

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def clean(tenant: Tenant, fields: list[Field], ui: Mapping[str, Any], data: Any, files: Any, *,
          language: str, now: datetime | None = None) -> Cleaned:
    """Parse and check everything; ``errors`` is empty when the submission may be filed."""
    result = Cleaned()
    for f in fields:
        _parse_field(tenant, f, data, files, result, language)
    for f in fields:
        if f.required and f.name not in result.values and f.name not in result.errors:
            result.add(f.name, _("Please tick this box to continue.") if f.kind == "consent"
                       else _("This field is required."))
    _schema_errors(fields, result, language)
    for rule in store_hours_rules(ui):
        _check_store_hours(rule, result, now or timezone.now())
    if result.errors:
        for up in result.uploads:  # a browser never fills a file input again
            if up.field not in result.errors:
                result.add(up.field, _("Please choose the file again."))
    return result


# --- per field ---------------------------------------------------------------------------------

def _text(data: Any, name: str) -> str:
    return str(data.get(name, "") or "").replace("\x00", "").strip()


def _parse_field(tenant: Tenant, f: Field, data: Any, files: Any, result: Cleaned, language: str) -> None:
    if f.kind == "multichoice":
        chosen = [str(v) for v in data.getlist(f.name)]
        result.raw[f.name] = chosen
        if chosen:
            result.values[f.name] = chosen
        return
    if f.kind == "quantities":
        _parse_quantities(f, data, result)
        return
    if f.kind == "consent":
        ticked = _text(data, f.name).lower() in TRUE_WORDS
        result.raw[f.name] = ticked
        if ticked:
            result.values[f.name] = True
        return
    if f.kind == "file":
        _parse_file(f, files.get(f.name), result)
        return
    value = _text(data, f.name)
    result.raw[f.name] = value
    if f.kind == "store":  # the picker's search box (large chains: the list shows what was searched for)
        result.raw[f"{f.name}{SEARCH_SUFFIX}"] = _text(data, f"_lf_q_{f.name}")[:100]
    if not value:
        return
    if len(value) > MAX_TEXT:
        result.add(f.name, ngettext("Please enter at most %(n)d character.", "Please enter at most %(n)d characters.",
                                    MAX_TEXT) % {"n": MAX_TEXT})
        return
    checked = _check_format(tenant, f, value, result)
    if checked is not None:
        result.values[f.name] = checked


def _check_format(tenant: Tenant, f: Field, value: str, result: Cleaned) -> Any:
    """The value to store, or None after adding an error."""
    if f.kind == "email":
        try:
            return normalize_email(value)
        except ValueError:
            result.add(f.name, _("Please enter an email address such as name@example.com."))
    elif f.kind == "phone":
        try:
            return normalize_phone(value, REGION_BY_LANGUAGE.get(tenant.default_language, "GB"))
        except ValueError:
            result.add(f.name, _("Please enter a phone number with its country code, such as +48 601 234 567."))
    elif f.kind == "date":
        try:
            return date.fromisoformat(value).isoformat() if len(value) == 10 else _raise()
        except ValueError:
            result.add(f.name, _("Please enter a date as year-month-day, such as 2026-05-31."))
    elif f.kind == "time":
        if _TIME_RE.match(value):
            return value
        result.add(f.name, _("Please enter a time as hours:minutes, such as 18:30."))
    elif f.kind == "datetime":
        match = _DATETIME_RE.match(value)
        try:
            if match:
                date.fromisoformat(match.group(1))
                return f"{match.group(1)}T{match.group(2)}:{match.group(3)}"
        except ValueError:
            pass
        result.add(f.name, _("Please enter a date and time such as 2026-05-31 18:30."))
    elif f.kind == "number":
        return _number(f, value, result)
    elif f.kind == "store":
        store = Store.objects.filter(tenant=tenant, code=value, is_active=True).first()
        if store is not None:
            result.stores[f.name] = store
            return store.code
        result.add(f.name, _("Please choose a store from the list."))
    else:
        return value
    return None


def _raise() -> str:
    raise ValueError


def _number(f: Field, value: str, result: Cleaned) -> int | float | None:
    try:
        if f.prop.get("type") == "integer":
            return int(value)
        number = float(value.replace(",", "."))
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError
        return number
    except ValueError:
        result.add(f.name, _("Please enter a whole number.") if f.prop.get("type") == "integer"
                   else _("Please enter a number."))
        return None


def _parse_quantities(f: Field, data: Any, result: Cleaned) -> None:
    items, raw = [], {}
    for index, option in enumerate(f.options):
        text = _text(data, f"{f.name}.{index}")
        raw[str(index)] = text
        if not text:
            continue
        try:
            qty = int(text)
            if not 0 <= qty <= f.max_qty:
                raise ValueError
        except ValueError:
            result.add(f.name, _("Please enter a whole number from 0 to %(max)d for each item.") % {"max": f.max_qty})
            continue
        if qty:
            items.append({"name": option, "qty": qty})
    result.raw[f.name] = raw
    if items:
        result.values[f.name] = items


def _parse_file(f: Field, upload: Any, result: Cleaned) -> None:
    if upload is None or not getattr(upload, "name", ""):
        return
    name = PurePath(upload.name).name
    suffix = PurePath(name).suffix.lower()
    if f.accept and suffix not in f.accept:
        result.add(f.name, _("Please choose a file of type %(types)s.") % {"types": ", ".join(f.accept)})
        return
    if upload.size > f.max_bytes:
        result.add(f.name, _("The file is too large: at most %(mb)s MB.") % {"mb": f"{f.max_bytes / 1048576:g}"})
        return
    item = NewAttachment(filename=name, data=upload.read(), content_type=getattr(upload, "content_type", "") or "")
    try:
        check_attachment(item)
    except ActionError:
        result.add(f.name, _("Files of this type are not accepted."))
        return
    result.uploads.append(Upload(f.name, item))
    result.values[f.name] = name


# --- the JSON Schema ---------------------------------------------------------------------------

def _schema_errors(fields: list[Field], result: Cleaned, language: str) -> None:
    by_name = {f.name: f for f in fields}
    schema = {"type": "object", "properties": {f.name: dict(f.prop) for f in fields}}
    for err in Draft202012Validator(schema).iter_errors(result.values):
        name = str(err.absolute_path[0]) if err.absolute_path else ""
        target = by_name.get(name)
        if target is None or name in result.errors:
            continue  # one message per field: the first problem is enough to act on
        result.add(name, _message(err, target, language))


def _message(err: SchemaValidationError, f: Field, language: str) -> str:
    keyword, limit = str(err.validator), err.validator_value
    count = int(limit) if isinstance(limit, int | float) else 0
    if keyword == "pattern":
        return localized(f.hints.get("error"), language, "") or _("Please check the format of this value.")
    if keyword == "minLength":
        return ngettext("Please enter at least %(n)d character.", "Please enter at least %(n)d characters.",
                        count) % {"n": count}
    if keyword == "maxLength":
        return ngettext("Please enter at most %(n)d character.", "Please enter at most %(n)d characters.",
                        count) % {"n": count}
    if keyword == "enum":
        return _("Please choose one of the options.")
    if keyword == "minimum":
        return _("Please enter at least %(n)s.") % {"n": limit}
    if keyword == "exclusiveMinimum":
        return _("Please enter more than %(n)s.") % {"n": limit}
    if keyword == "maximum":
        return _("Please enter at most %(n)s.") % {"n": limit}
    if keyword == "exclusiveMaximum":
        return _("Please enter less than %(n)s.") % {"n": limit}
    if keyword == "minItems":
        return ngettext("Please choose at least %(n)d item.", "Please choose at least %(n)d items.",
                        count) % {"n": count}
    if keyword == "maxItems":
        return ngettext("Please choose at most %(n)d item.", "Please choose at most %(n)d items.",
                        count) % {"n": count}
    if keyword == "const" and f.kind == "consent":
        return _("Please tick this box to continue.")
    return _("Please check this value.")


# --- pickup time within the store's hours ------------------------------------------------------

def local_instant(day: date, at: time, zone: str) -> datetime | None:
    """The instant a wall-clock time names in ``zone``; None when the clocks skip it (spring forward).
    A time that occurs twice (fall back) means its first occurrence."""
    tz = ZoneInfo(zone)
    wall = datetime.combine(day, at, tzinfo=tz)
    back = wall.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) != wall.replace(tzinfo=None):
        return None
    return wall


def _pickup_parts(rule: Mapping[str, str], values: Mapping[str, Any]) -> tuple[str, date, time] | None:
    if "at" in rule:
        text = values.get(rule["at"])
        if not text:
            return None
        day_text, clock = str(text).split("T")
        return rule["at"], date.fromisoformat(day_text), time.fromisoformat(clock)
    day_text, clock = values.get(rule["date"], ""), values.get(rule["time"], "")
    if not day_text or not clock:
        return None
    return rule["time"], date.fromisoformat(str(day_text)), time.fromisoformat(str(clock))


def _check_store_hours(rule: Mapping[str, str], result: Cleaned, now: datetime) -> None:
    store = result.stores.get(rule["store"])
    parts = _pickup_parts(rule, result.values)
    if store is None or parts is None:
        return
    target, day, clock = parts
    if target in result.errors:
        return
    try:
        hours = store_hours(store, exceptions_from=day - timedelta(days=1))
    except HoursError:
        result.add(target, _("This store's opening hours are not available; please choose another store."))
        return
    at = local_instant(day, clock, store.time_zone)
    if at is None:
        result.add(target, _("This time does not exist on that day because the clocks change; "
                             "please choose another time."))
        return
    if at <= now:
        result.add(target, _("Please choose a time in the future."))
        return
    if at - now > timedelta(days=PICKUP_DAYS_AHEAD):
        result.add(target, _("Please choose a day within the next %(n)d days.") % {"n": PICKUP_DAYS_AHEAD})
        return
    if not hours.is_open(at):
        spans = hours.intervals_for_date(day)
        opening = spans_text(spans, _("open 24 hours")) or _("closed")
        result.add(target, _("The store is closed at that time. Its hours on %(date)s (%(zone)s time): %(hours)s.")
                   % {"date": day.isoformat(), "zone": store.time_zone, "hours": opening})
