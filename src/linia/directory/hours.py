"""Opening hours of a store, in the store's time zone (pure: no Django).

Stored JSON (the contract shared with imports, the admin and the API):

- weekly: ``{"mon": ["08:00-22:00"], ..., "sun": []}``; a missing day or ``[]`` means closed;
  ``"24:00"`` may end a span; an end at or before the start means the span ends the next day
  (``"22:00-06:00"``); ``"00:00-24:00"`` is a whole day. ``{"always": true}`` means 24/7.
- exceptions: ``{date: ["10:00-16:00"]}``; ``[]`` closes the store all day. An exception replaces the
  spans that *start* on that date; an overnight span from the day before still runs into it.

24/7 is a whole-day span every day, so dated exceptions (holidays) can still close a 24/7 store.

Wall-clock semantics on DST switch days:
- a local time skipped by spring-forward is shifted forward to the first existing instant (the
  transition), so 02:00-03:00 on 2026-03-29 in Europe/Warsaw is empty and 02:30-04:00 runs 03:00-04:00;
- a local time that occurs twice at fall-back means its first occurrence, so 01:00-05:00 on
  2026-10-25 in Europe/Warsaw lasts five real hours.

Intervals are computed in UTC and returned as aware datetimes in the store's zone. Python compares and
subtracts two datetimes that share one tzinfo by wall time, ignoring ``fold``; compare or subtract
across a fall-back night only after ``.astimezone(timezone.utc)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOOKAHEAD_DAYS = 14
_DAY_MINUTES = 24 * 60
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")

Interval = tuple[datetime, datetime]


class HoursError(ValueError):
    """Bad opening-hours input; the message says what to fix."""


class Span(NamedTuple):
    """Minutes from local midnight of the day the span starts; ``start < end <= start + 1440``."""

    start: int
    end: int


@dataclass(frozen=True)
class WeeklySchedule:
    days: tuple[tuple[Span, ...], ...] = ((),) * 7  # Monday first
    always: bool = False

    def spans_for(self, weekday: int) -> tuple[Span, ...]:
        return (Span(0, _DAY_MINUTES),) if self.always else self.days[weekday]


@dataclass(frozen=True)
class OpenStatus:
    is_open: bool
    changes_at: datetime | None  # closing time when open, next opening when closed; None: not within 14 days
    today: list[Interval] = field(default_factory=list)


# --- parsing ---------------------------------------------------------------------------------

def _parse_time(text: str, *, is_end: bool) -> int:
    m = _TIME_RE.match(text.strip())
    if not m:
        raise HoursError(f"{text!r} is not a time (use HH:MM)")
    hours, minutes = int(m.group(1)), int(m.group(2))
    if hours == 24 and minutes == 0:
        if not is_end:
            raise HoursError(f"{text!r} can only end a span (a span starting at midnight starts at 00:00)")
        return _DAY_MINUTES
    if hours > 23 or minutes > 59:
        raise HoursError(f"{text!r} is not a time (use HH:MM)")
    return hours * 60 + minutes


def _parse_span(text: object) -> Span:
    if not isinstance(text, str):
        raise HoursError(f"{text!r} is not a span (use a string such as \"08:00-22:00\")")
    return _parse_span_text(text)


@lru_cache(maxsize=4096)  # schedules repeat the same few spans across thousands of stores
def _parse_span_text(text: str) -> Span:
    parts = text.replace("–", "-").split("-")
    if len(parts) != 2:
        raise HoursError(f"{text!r} is not a span (use HH:MM-HH:MM, e.g. 08:00-22:00)")
    start, end = _parse_time(parts[0], is_end=False), _parse_time(parts[1], is_end=True)
    if end <= start:  # overnight: ends the next day
        end += _DAY_MINUTES
    return Span(start, end)


def parse_spans(spans: Sequence[str]) -> tuple[Span, ...]:
    """Parse ``["08:00-14:00", "15:00-20:00"]``; ``[]`` means closed."""
    if isinstance(spans, str | bytes) or not isinstance(spans, Sequence):
        raise HoursError(f"{spans!r} is not a list of spans (use e.g. [\"08:00-22:00\"], or [] for closed)")
    return tuple(sorted(_parse_span(s) for s in spans))


def parse_weekly(data: Mapping[str, object]) -> WeeklySchedule:
    """Validate a stored weekly schedule; raise HoursError naming the day and the bad value."""
    if not isinstance(data, Mapping):
        raise HoursError("opening hours must be an object such as {\"mon\": [\"08:00-22:00\"]} or {\"always\": true}")
    for key in data:
        if key not in DAYS and key != "always":
            raise HoursError(f"{key!r} is not a day (use {', '.join(DAYS)} or always)")
    always = data.get("always", False)
    if not isinstance(always, bool):
        raise HoursError(f"always: expected true or false, not {always!r}")
    days: list[tuple[Span, ...]] = []
    for day in DAYS:
        raw = data.get(day, [])
        try:
            days.append(parse_spans(raw))  # type: ignore[arg-type]  # validated inside
        except HoursError as exc:
            raise HoursError(f"{day}: {exc}") from None
    return WeeklySchedule(days=tuple(days), always=always)


def parse_exceptions(data: Mapping[date | str, Sequence[str]]) -> dict[date, tuple[Span, ...]]:
    """Parse ``{"2026-12-24": ["08:00-14:00"], "2026-12-25": []}`` (keys: dates or ISO strings)."""
    out: dict[date, tuple[Span, ...]] = {}
    for key, spans in data.items():
        try:
            day = key if isinstance(key, date) else date.fromisoformat(key)
        except ValueError:
            raise HoursError(f"{key!r} is not a date (use YYYY-MM-DD)") from None
        try:
            out[day] = parse_spans(spans)
        except HoursError as exc:
            raise HoursError(f"{day.isoformat()}: {exc}") from None
    return out


def _format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def format_span(span: Span) -> str:
    end = span.end if span.end <= _DAY_MINUTES else span.end - _DAY_MINUTES
    return f"{_format_minute(span.start)}-{_format_minute(end)}"


def format_weekly(weekly: WeeklySchedule) -> dict[str, list[str]]:
    """All seven days as strings (24/7 shows as 00:00-24:00 every day); parse_weekly reads it back."""
    return {day: [format_span(s) for s in weekly.spans_for(i)] for i, day in enumerate(DAYS)}


def weekly_to_json(weekly: WeeklySchedule) -> dict[str, object]:
    """The stored form: ``{"always": true}`` for 24/7, else the seven days."""
    if weekly.always:
        return {"always": True}
    return dict(format_weekly(weekly))


# --- wall clock to instants ----------------------------------------------------------------------

@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"{name!r} is not a time zone (use an IANA name such as Europe/Warsaw)") from None


@lru_cache(maxsize=65536)
def _steady_offset(tz: ZoneInfo, day: date) -> timedelta | None:
    """The UTC offset in force all day long, or None on a day with a transition (DST switch)."""
    offsets = set()
    for d in (day, day + timedelta(days=1)):
        for fold in (0, 1):
            offsets.add(datetime(d.year, d.month, d.day, tzinfo=tz, fold=fold).utcoffset())
    return offsets.pop() if len(offsets) == 1 else None


def _instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of local wall time ``day + minute``; skipped times move to the transition."""
    day = day + timedelta(days=minute // _DAY_MINUTES)
    minute %= _DAY_MINUTES
    steady = _steady_offset(tz, day)
    if steady is not None:  # the common case: plain arithmetic
        return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=UTC) - steady
    naive = datetime(day.year, day.month, day.day, minute // 60, minute % 60)  # noqa: DTZ001
    late = naive.replace(tzinfo=tz).astimezone(UTC)  # fold=0: first occurrence if repeated
    if late.astimezone(tz).replace(tzinfo=None) == naive:
        return late
    # In a gap fold=0 applies the pre-transition offset (an instant after the transition) and fold=1
    # the post-transition one (an instant before it): bisect for the transition between them.
    early = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = int(min(early, late).timestamp()), int(max(early, late).timestamp())
    after = late.astimezone(tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


@lru_cache(maxsize=32768)  # chains share a few schedules: thousands of stores hit the same entries
def _day_intervals(spans: tuple[Span, ...], tz_name: str, day: date) -> tuple[Interval, ...]:
    """Merged UTC intervals of the spans starting on local date ``day``."""
    tz = _zone(tz_name)
    return tuple(_merge((_instant(day, s.start, tz), _instant(day, s.end, tz)) for s in spans))


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise HoursError("a time-zone-aware datetime is needed (got a naive one)")
    return at.astimezone(UTC)


# --- the schedule ------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpeningHours:
    weekly: WeeklySchedule
    exceptions: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)
    tz: str = "UTC"

    def __post_init__(self) -> None:
        _zone(self.tz)  # fail early with a clear message

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.tz)

    def spans_on(self, day: date) -> tuple[Span, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        return self.weekly.spans_for(day.weekday())

    def _utc_intervals(self, day: date) -> list[Interval]:
        return list(_day_intervals(self.spans_on(day), self.tz, day))

    def _timeline(self, first: date, last: date) -> list[Interval]:
        """Merged UTC intervals of all spans starting on ``first``..``last``."""
        raw: list[Interval] = []
        for offset in range((last - first).days + 1):
            raw.extend(self._utc_intervals(first + timedelta(days=offset)))
        return _merge(raw)

    def _local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def local_date(self, at: datetime) -> date:
        return _utc(at).astimezone(self.zone).date()

    def intervals_for_date(self, d: date) -> list[Interval]:
        """Intervals of the spans starting on local date ``d`` (overnight ones end the next day)."""
        return [(self._local(s), self._local(e)) for s, e in self._utc_intervals(d)]

    def is_open(self, at: datetime) -> bool:
        now = _utc(at)
        today = now.astimezone(self.zone).date()
        return any(s <= now < e for s, e in self._timeline(today - timedelta(days=1), today))

    def _scan(self, at: datetime) -> tuple[bool, datetime | None, datetime | None]:
        """(open at ``at``, next opening, next closing) from one merged timeline, widened from a few
        days to the 14-day look-ahead only when the short one does not settle both edges."""
        now = _utc(at)
        today = now.astimezone(self.zone).date()
        result: tuple[bool, datetime | None, datetime | None] = (False, None, None)
        for horizon in (2, LOOKAHEAD_DAYS):
            last = today + timedelta(days=horizon)
            # An interval reaching the window's end may go on with spans after it: not yet a closing.
            boundary = _instant(last + timedelta(days=1), 0, self.zone)
            timeline = self._timeline(today - timedelta(days=1), last)
            is_open = any(s <= now < e for s, e in timeline)
            opening = next((self._local(s) for s, _e in timeline if s > now), None)
            closing = next((e for _s, e in timeline if e > now), None)
            closing = self._local(closing) if closing is not None and closing < boundary else None
            result = (is_open, opening, closing)
            if opening is not None and closing is not None:
                break
        return result

    def next_opening(self, at: datetime) -> datetime | None:
        """First instant after ``at`` when the store opens (None if not within 14 days)."""
        return self._scan(at)[1]

    def next_closing(self, at: datetime) -> datetime | None:
        """First instant after ``at`` when the store closes (None for 24/7 or not within 14 days)."""
        return self._scan(at)[2]

    def status(self, at: datetime) -> OpenStatus:
        open_now, opening, closing = self._scan(at)
        return OpenStatus(is_open=open_now, changes_at=closing if open_now else opening,
                          today=self.intervals_for_date(self.local_date(at)))


def opening_hours(weekly: Mapping[str, object], exceptions: Mapping[date | str, Sequence[str]] | None = None,
                  tz: str = "UTC") -> OpeningHours:
    """Build from the stored JSON forms (raises HoursError)."""
    return OpeningHours(parse_weekly(weekly), parse_exceptions(exceptions or {}), tz)
