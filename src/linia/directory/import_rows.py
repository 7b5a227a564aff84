"""Reading import files (CSV, XLSX) and checking cell values: the pure part of directory imports.

No Django here: rows come in as plain values, cleaned values or a message saying what to fix go out.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers

from linia.directory.hours import HoursError
from linia.directory.hours_text import HINT, parse_hours_text, validate_weekly

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RowError:
    """One problem: row number as in the file (1 = header; 0 = the file itself), column, what to fix."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class FileProblem(ValueError):
    """The file as a whole cannot be read; the message says what to do."""


@dataclass
class Table:
    """Header (lower-cased names) and a stream of (row number, {column: value}) for non-empty rows."""

    columns: list[str]
    rows: Iterator[tuple[int, dict[str, object]]]
    total: int | None = None  # data rows, estimated before reading (for the progress bar)
    _close: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for fn in self._close:
            fn()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_table(path: Path) -> Table:
    if not path.is_file():
        raise FileProblem(f"file not found: {path}; check the path")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _open_csv(path)
    if suffix in XLSX_SUFFIXES:
        return _open_xlsx(path)
    raise FileProblem(f"unknown file type {suffix or '(no extension)'!r} of {path.name}: "
                      "save it as .csv (UTF-8 or Windows-1251) or .xlsx")


def detect_encoding(path: Path) -> tuple[str, int]:
    """("utf-8-sig" | "utf-8" | "cp1251", number of lines): one streaming pass, no whole-file read."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding, lines = "utf-8", 0
    with path.open("rb") as fh:
        first = fh.read(4)
        if first[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise FileProblem(f"{path.name} is UTF-16 text: save it as CSV UTF-8 (or .xlsx) instead")
        if first == b"PK\x03\x04":
            raise FileProblem(f"{path.name} is a spreadsheet (zip), not CSV text: rename it to .xlsx")
        if first[:3] == codecs.BOM_UTF8:
            encoding, first = "utf-8-sig", first[3:]
        chunk = first + fh.read(_CHUNK)
        while chunk:
            lines += chunk.count(b"\n")
            if encoding != "cp1251":
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    encoding = "cp1251"  # the usual encoding of Russian Excel exports
            chunk = fh.read(_CHUNK)
    if encoding != "cp1251":
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            encoding = "cp1251"  # a multi-byte character cut off at the very end
    return encoding, lines


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(raw: Sequence[object]) -> list[str]:
    names = [text(v).lstrip("\ufeff").strip().lower() for v in raw]
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise FileProblem(f"column {name!r} appears twice in the header row: keep one")
        seen.add(name)
    return names


def _open_csv(path: Path) -> Table:
    encoding, lines = detect_encoding(path)
    fh: IO[str] = path.open("r", encoding=encoding, newline="")
    try:
        first = fh.readline()
        if not first.strip():
            raise FileProblem(f"{path.name} is empty or its first line is blank: the first row must be the header")
        delimiter = _sniff_delimiter(first)
        columns = _header(next(csv.reader(io.StringIO(first), delimiter=delimiter)))
    except (FileProblem, csv.Error):
        fh.close()
        raise
    reader = csv.reader(fh, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, dict[str, object]]]:
        line = 1
        try:
            for record in reader:
                start, line = line + 1, reader.line_num + 1
                if any(record) and "".join(record).strip():
                    yield start, dict(zip(columns, record))  # noqa: B905  ragged rows are fine; strict= halves the speed
        except csv.Error as exc:
            raise FileProblem(f"{path.name} line {line + 1}: {exc}; check the quotes on that line") from exc

    return Table(columns, rows(), total=max(lines - 1, 0), _close=[fh.close])


def _open_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook  # slow import: only when an XLSX is read

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken or non-xlsx file
        raise FileProblem(f"cannot read {path.name} as XLSX ({exc}); save it again from Excel as .xlsx") from exc
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header = next(values, None)
    if header is None:
        book.close()
        raise FileProblem(f"{path.name}: the first sheet is empty; the first row must be the header")
    columns = _header(list(header))

    def rows() -> Iterator[tuple[int, dict[str, object]]]:
        for number, record in enumerate(values, start=2):  # read_only mode yields gaps as empty rows
            if any(v is not None and text(v) for v in record):
                yield number, dict(zip(columns, record, strict=False))

    total = sheet.max_row - 1 if sheet.max_row else None
    return Table(columns, rows(), total=total, _close=[book.close])


# --- cell values --------------------------------------------------------------------------------

def text(value: object) -> str:
    """A cell as text: Excel gives 1001.0 for the code typed as 1001."""
    if type(value) is str:  # the common case first: every CSV cell
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_decimal(value: object, *, places: int = 3, max_digits: int = 14) -> Decimal:
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= max_digits - places:
        return Decimal(value)  # fast path: whole numbers, most stock quantities
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}; write e.g. 12 or 12.5")
    raw = text(value).replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not raw:
        raise ValueError("empty: write a number such as 12 or 12.5")
    try:
        number = Decimal(raw) if not isinstance(value, int | Decimal) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a number: {text(value)!r}; write e.g. 12 or 12.5") from None
    if not number.is_finite():
        raise ValueError(f"not a number: {text(value)!r}; write e.g. 12 or 12.5")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"{raw} has more than {places} decimal places; round it")
    if abs(number) >= Decimal(10) ** (max_digits - places):
        raise ValueError(f"{raw} is too large (at most {max_digits - places} digits before the point)")
    return number


def parse_float(value: object, low: float, high: float) -> float | None:
    raw = text(value).replace(",", ".")
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        raise ValueError(f"not a number: {raw!r}; write e.g. 52.2297") from None
    if math.isnan(number) or not low <= number <= high:
        raise ValueError(f"{raw} is out of range {low:g}..{high:g}")
    return number


_TRUE = {"1", "true", "yes", "y", "t", "tak", "да", "oui", "active", "x", "+"}
_FALSE = {"0", "false", "no", "n", "f", "nie", "нет", "non", "inactive", "-"}


def parse_bool(value: object, default: bool = True) -> bool:
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"not yes/no: {raw!r}; write 1 or 0 (true/false, yes/no)")


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_time_zone(name: str) -> str:
    if name not in _time_zones():
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/Warsaw or Asia/Vladivostok")
    return name


def parse_datetime(value: object, tz: ZoneInfo) -> dt.datetime:
    """Aware UTC datetime from ISO 8601 (or an Excel date cell); naive values are local time in `tz`."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        raw = text(value)
        try:
            moment = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {raw!r}; write e.g. 2026-11-25T14:30:00+01:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(dt.UTC)


def normalize_phone(raw: str, region: str) -> str:
    """E.164, as contacts use, so a store calling in is recognised."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"not a phone number: {raw!r}; write e.g. +48 22 123 45 67") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a possible phone number: {raw!r}; check the digits and the country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_hours(value: object) -> dict[str, object]:
    """Stored weekly schedule from text (see hours_text) or an already structured dict."""
    if isinstance(value, Mapping):
        return validate_weekly(value)
    if value is not None and not isinstance(value, str):
        raise HoursError(f"opening hours must be text or an object, not {value!r}: {HINT}")
    if not text(value):
        return {}
    return parse_hours_text(text(value))


# --- whole records --------------------------------------------------------------------------------

STORE_TEXT_LIMITS = {"code": 40, "name": 200, "address": 300, "city": 120, "region": 120}
STORE_FIELDS = ("code", "name", "address", "city", "region", "latitude", "longitude", "phone", "time_zone",
                "opening_hours", "is_active")
PRODUCT_LIMITS = {"sku": 64, "name": 300}


def _required_text(values: Mapping[str, object], name: str, limit: int, errors: dict[str, str]) -> str:
    value = text(values.get(name))
    if not value:
        errors[name] = f"{name} is empty; fill it in"
    elif len(value) > limit:
        errors[name] = f"{name} is {len(value)} characters long; shorten it to {limit}"
    return value


def clean_store(values: Mapping[str, Any], *, default_time_zone: str, phone_region: str,
                ) -> tuple[dict[str, Any], dict[str, str]]:
    """Cleaned store fields for the keys present in `values` (model field names) and errors by field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, limit in STORE_TEXT_LIMITS.items():
        if name in values:
            if name in {"code", "name", "city"}:
                out[name] = _required_text(values, name, limit, errors)
            else:
                out[name] = text(values[name])
                if len(out[name]) > limit:
                    errors[name] = f"{name} is {len(out[name])} characters long; shorten it to {limit}"
    checks: dict[str, Callable[[Any], Any]] = {
        "latitude": lambda v: parse_float(v, -90, 90),
        "longitude": lambda v: parse_float(v, -180, 180),
        "phone": lambda v: normalize_phone(text(v), phone_region) if text(v) else "",
        "time_zone": lambda v: check_time_zone(text(v) or default_time_zone),
        "opening_hours": parse_hours,
        "is_active": parse_bool,
    }
    for name, check in checks.items():
        if name in values:
            try:
                out[name] = check(values[name])
            except ValueError as exc:
                errors[name] = str(exc)
    return out, errors


def clean_product(values: Mapping[str, Any], attribute_columns: list[str] | None = None,
                  ) -> tuple[dict[str, Any], dict[str, str]]:
    """sku/name (+ attributes from the other columns, or an "attributes" dict) and errors by field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, limit in PRODUCT_LIMITS.items():
        if name in values:
            out[name] = _required_text(values, name, limit, errors)
    if attribute_columns is not None:
        out["attributes"] = {col: cell_json(values[col]) for col in attribute_columns
                             if values.get(col) is not None and text(values[col]) != ""}
    elif "attributes" in values:
        if isinstance(values["attributes"], Mapping):
            out["attributes"] = {str(k): v for k, v in values["attributes"].items()}  # already JSON (API)
        else:
            errors["attributes"] = "attributes must be an object of name: value pairs"
    return out, errors


def cell_json(value: object) -> object:
    """A cell value as JSON: numbers stay numbers, dates become ISO text."""
    if isinstance(value, bool | int | str) or value is None:
        return value.strip() if isinstance(value, str) else value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return text(value)
