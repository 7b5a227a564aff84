"""Human opening-hours text (as typed in import files and forms) -> the weekly-schedule JSON.

The stored format (Store.opening_hours) is {"mon": ["08:00-22:00"], ..., "sun": []} or {"always": true}.
Accepted text, case-insensitive, days in English, Polish, Russian or French:
    "24/7"                                   -> {"always": true}
    "mon-fri 08:00-22:00; sat 09:00-21:00; sun closed"
    "pn-pt 06:00-22:00; sb 07:00-21:00; nd 09:00-20:00"
    "пн-вс 08:00-23:00", "daily 22:00-06:00", "mon 08:00-13:00, 14:00-20:00", "pn-sb 8-22"
    a raw JSON object in the stored format.
Days not mentioned are closed. Errors are linia.directory.hours.HoursError. Pure: no Django.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from linia.directory.hours import DAYS, HoursError, format_span, parse_spans, parse_weekly, weekly_to_json

_DAY_WORDS: dict[str, tuple[str, ...]] = {
    "mon": ("mon", "monday", "pn", "pon", "poniedziałek", "poniedzialek", "пн", "пон", "понедельник",
            "lun", "lundi"),
    "tue": ("tue", "tues", "tuesday", "wt", "wto", "wtorek", "вт", "вторник", "mar", "mardi"),
    "wed": ("wed", "wednesday", "śr", "sr", "śro", "sro", "środa", "sroda", "ср", "среда", "mer", "mercredi"),
    "thu": ("thu", "thur", "thurs", "thursday", "czw", "cz", "czwartek", "чт", "четверг", "jeu", "jeudi"),
    "fri": ("fri", "friday", "pt", "pią", "pia", "piątek", "piatek", "пт", "пятница", "ven", "vendredi"),
    "sat": ("sat", "saturday", "sb", "sob", "sobota", "сб", "суббота", "sam", "samedi"),
    "sun": ("sun", "sunday", "nd", "ndz", "nie", "niedziela", "вс", "вск", "воскресенье", "dim", "dimanche"),
}
DAY_BY_WORD = {word: day for day, words in _DAY_WORDS.items() for word in words}
_ALL_DAYS_WORDS = {"daily", "everyday", "every day", "all days", "codziennie", "ежедневно", "каждый день",
                   "tous les jours", "tlj"}
_ALWAYS_WORDS = {"24/7", "24x7", "24 / 7", "always", "nonstop", "non-stop", "całodobowo", "calodobowo",
                 "круглосуточно", "24h/24", "24h/24 7j/7"}
_CLOSED_WORDS = {"closed", "off", "-", "—", "–", "zamknięte", "zamkniete", "nieczynne", "nieczynny",
                 "выходной", "закрыто", "fermé", "ferme"}
_FULL_DAY_WORDS = {"24h", "24 h", "24 hours", "całą dobę", "cala dobe", "круглосуточно", "00:00-24:00"}

_DASH = r"\s*[-–—]\s*"
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?"  # "8:00", "08.00" or a bare hour "8"
_SPAN_RE = re.compile(rf"^{_TIME}{_DASH}{_TIME}$")


HINT = 'write e.g. "mon-fri 08:00-22:00; sat 09:00-21:00; sun closed" or "24/7"'


def parse_hours_text(text: str) -> dict[str, object]:
    """The stored JSON for a human opening-hours text; raises HoursError saying what to fix."""
    value = text.strip()
    if not value:
        raise HoursError(f"opening hours are empty: {HINT}")
    if value.startswith("{"):
        return _from_json(value)
    if " ".join(value.lower().split()) in _ALWAYS_WORDS:
        return {"always": True}
    week: dict[str, list[str]] = {}
    for segment in re.split(r"[;\n|]", value):
        if segment.strip():
            _apply_segment(" ".join(segment.split()), week)
    return {day: week.get(day, []) for day in DAYS}


def _from_json(value: str) -> dict[str, object]:
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise HoursError(f"opening hours JSON is malformed ({exc.msg} at char {exc.pos})") from exc
    if not isinstance(data, dict):
        raise HoursError(f"opening hours JSON must be an object: {HINT}")
    return validate_weekly(data)


def _apply_segment(segment: str, week: dict[str, list[str]]) -> None:
    days_part, times_part = _split_segment(segment)
    days = _parse_days(days_part) if days_part else list(DAYS)
    spans = _parse_spans(times_part, segment)
    for day in days:
        if day in week:
            raise HoursError(f"{day} is given twice in {segment!r}: list each day once")
        week[day] = spans


def _split_segment(segment: str) -> tuple[str, str]:
    """("mon-fri", "08:00-22:00") from "mon-fri: 08:00-22:00"; the times start at the first digit or word."""
    lowered = segment.lower()
    for word in sorted(_CLOSED_WORDS | _FULL_DAY_WORDS, key=len, reverse=True):
        if lowered.endswith(word) and (len(lowered) == len(word) or not lowered[-len(word) - 1].isalnum()):
            head = lowered[: len(lowered) - len(word)].strip().rstrip(":").strip()
            if word not in {"-", "—", "–"} or head:
                return head, word
    match = re.search(r"\d", lowered)
    if match is None:
        raise HoursError(f"no opening times in {segment!r}: {HINT}")
    return lowered[: match.start()].strip().rstrip(":").strip(), lowered[match.start():].strip()


def _parse_days(text: str) -> list[str]:
    if text in _ALL_DAYS_WORDS:
        return list(DAYS)
    text = re.sub(_DASH, "-", text)
    days: list[str] = []
    for item in re.split(r"\s*,\s*|\s+", text):
        if not item:
            continue
        bounds = re.split(_DASH, item)
        if len(bounds) == 1:
            days.append(_day(bounds[0]))
        elif len(bounds) == 2:
            days.extend(_day_range(_day(bounds[0]), _day(bounds[1])))
        else:
            raise HoursError(f"bad day range {item!r}: write e.g. mon-fri")
    return days


def _day(word: str) -> str:
    day = DAY_BY_WORD.get(word.strip().rstrip("."))
    if day is None:
        raise HoursError(f"unknown day {word!r}: use mon, tue, wed, thu, fri, sat, sun "
                             "(or pn..nd, пн..вс, lun..dim)")
    return day


def _day_range(first: str, last: str) -> Iterable[str]:
    start, end = DAYS.index(first), DAYS.index(last)
    length = (end - start) % 7 + 1  # fri-mon wraps over the weekend
    return [DAYS[(start + i) % 7] for i in range(length)]


def _parse_spans(text: str, segment: str) -> list[str]:
    if text in _CLOSED_WORDS:
        return []
    if text in _FULL_DAY_WORDS:
        return ["00:00-24:00"]
    text = re.sub(_DASH, "-", text)
    return [_parse_span(item, segment) for item in re.split(r"\s*[,/]\s*|\s+", text) if item]


def _parse_span(item: str, segment: str) -> str:
    match = _SPAN_RE.match(item.strip())
    if match is None:
        raise HoursError(f"bad time span {item!r} in {segment!r}: write HH:MM-HH:MM, e.g. 08:00-22:00")
    h1, m1, h2, m2 = (int(g or 0) for g in match.groups())
    try:
        (span,) = parse_spans([f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"])
    except HoursError as exc:
        raise HoursError(f"{exc} in {segment!r}") from None
    return format_span(span)


def validate_weekly(data: Mapping[str, object]) -> dict[str, object]:
    """Check a stored-format schedule with linia.directory.hours and return its normalised form."""
    return weekly_to_json(parse_weekly(data))
