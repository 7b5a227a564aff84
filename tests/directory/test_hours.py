"""Opening-hours arithmetic: DST days, overnight spans, 24/7, exceptions, far zones, properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linia.directory.hours import (
    DAYS,
    HoursError,
    OpeningHours,
    Span,
    format_weekly,
    opening_hours,
    parse_exceptions,
    parse_spans,
    parse_weekly,
    weekly_to_json,
)

WAW = ZoneInfo("Europe/Warsaw")
PARIS = ZoneInfo("Europe/Paris")
EVERY_DAY_8_22 = {d: ["08:00-22:00"] for d in DAYS}


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def hours_len(interval: tuple[datetime, datetime]) -> float:
    return (utc(interval[1]) - utc(interval[0])).total_seconds() / 3600


# --- parsing -------------------------------------------------------------------------------------

def test_parse_and_format_round_trip() -> None:
    data = {"mon": ["08:00-14:00", "15:00-20:00"], "tue": ["22:00-06:00"], "wed": ["00:00-24:00"],
            "thu": [], "fri": ["07:00-24:00"], "sat": ["10:00-10:00"], "sun": []}
    weekly = parse_weekly(data)
    assert weekly.days[1] == (Span(22 * 60, 30 * 60),)
    assert format_weekly(weekly) == data
    assert parse_weekly(format_weekly(weekly)) == weekly


def test_missing_days_are_closed_and_always_is_24_7() -> None:
    assert format_weekly(parse_weekly({"mon": ["08:00-09:00"]}))["sun"] == []
    always = parse_weekly({"always": True})
    assert always.always and weekly_to_json(always) == {"always": True}
    assert format_weekly(always)["wed"] == ["00:00-24:00"]


@pytest.mark.parametrize(("data", "message"), [
    ({"tue": ["08:00-25:00"]}, "tue: '25:00' is not a time (use HH:MM)"),
    ({"mon": ["8-22"]}, "mon: '8' is not a time (use HH:MM)"),
    ({"mon": ["08:00"]}, "mon: '08:00' is not a span"),
    ({"mon": ["24:00-06:00"]}, "mon: '24:00' can only end a span"),
    ({"mon": ["08:60-09:00"]}, "mon: '08:60' is not a time"),
    ({"mon": "08:00-22:00"}, "mon: '08:00-22:00' is not a list of spans"),
    ({"mon": [8]}, "mon: 8 is not a span"),
    ({"monday": ["08:00-22:00"]}, "'monday' is not a day"),
    ({"always": "yes"}, "always: expected true or false"),
])
def test_bad_input_names_day_and_value(data: dict[str, object], message: str) -> None:
    with pytest.raises(HoursError) as err:
        parse_weekly(data)
    assert str(err.value).startswith(message)


def test_parse_spans_and_exceptions() -> None:
    assert parse_spans([]) == ()
    assert parse_spans(["15:00-20:00", "08:00-14:00"]) == (Span(480, 840), Span(900, 1200))
    assert parse_exceptions({"2026-12-25": []}) == {date(2026, 12, 25): ()}
    with pytest.raises(HoursError, match="'2026-13-01' is not a date"):
        parse_exceptions({"2026-13-01": []})
    with pytest.raises(HoursError, match="2026-12-24: '9:0' is not a time"):
        parse_exceptions({"2026-12-24": ["9:0-10:00"]})


def test_unknown_zone_and_naive_datetime_are_clear_errors() -> None:
    with pytest.raises(HoursError, match="not a time zone"):
        opening_hours(EVERY_DAY_8_22, tz="Mars/Olympus")
    with pytest.raises(HoursError, match="time-zone-aware"):
        opening_hours(EVERY_DAY_8_22, tz="Europe/Warsaw").is_open(datetime(2026, 1, 1, 12))


# --- DST days ---------------------------------------------------------------------------------------

def test_warsaw_spring_forward_skipped_hour_is_shifted_forward() -> None:
    day = date(2026, 3, 29)  # 02:00 CET -> 03:00 CEST
    assert opening_hours({"sun": ["02:00-03:00"]}, tz="Europe/Warsaw").intervals_for_date(day) == []
    [(start, end)] = opening_hours({"sun": ["02:30-04:00"]}, tz="Europe/Warsaw").intervals_for_date(day)
    assert utc(start) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # the transition instant, 03:00 CEST
    assert (start.hour, end.hour) == (3, 4)
    [night] = opening_hours({"sun": ["01:00-05:00"]}, tz="Europe/Warsaw").intervals_for_date(day)
    assert hours_len(night) == 3


def test_warsaw_fall_back_span_lasts_real_hours() -> None:
    day = date(2026, 10, 25)  # 03:00 CEST -> 02:00 CET
    h = opening_hours({"sun": ["01:00-05:00"]}, tz="Europe/Warsaw")
    [interval] = h.intervals_for_date(day)
    assert hours_len(interval) == 5
    # 02:30 happens twice; both instants are inside the span.
    assert h.is_open(datetime(2026, 10, 25, 2, 30, tzinfo=WAW, fold=0))
    assert h.is_open(datetime(2026, 10, 25, 2, 30, tzinfo=WAW, fold=1))
    assert not h.is_open(datetime(2026, 10, 25, 4, 0, tzinfo=UTC))  # 05:00 CET


def test_ordinary_day_hours_on_dst_days_in_paris() -> None:
    h = opening_hours(EVERY_DAY_8_22, tz="Europe/Paris")
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        [interval] = h.intervals_for_date(day)
        assert hours_len(interval) == 14
        assert (interval[0].hour, interval[1].hour) == (8, 22)
    # Overnight span across the spring-forward night is one hour shorter in real time.
    night = opening_hours({"sat": ["22:00-06:00"]}, tz="Europe/Paris")
    assert hours_len(night.intervals_for_date(date(2026, 3, 28))[0]) == 7
    assert hours_len(night.intervals_for_date(date(2026, 10, 24))[0]) == 9


def test_next_closing_across_fall_back() -> None:
    h = opening_hours({"sat": ["20:00-04:00"]}, tz="Europe/Warsaw")
    at = datetime(2026, 10, 24, 23, 0, tzinfo=WAW)
    closing = h.next_closing(at)
    assert closing is not None and utc(closing) == datetime(2026, 10, 25, 3, 0, tzinfo=UTC)  # 04:00 CET


# --- overnight spans, merging, 24/7, exceptions -------------------------------------------------

def test_overnight_span_runs_into_next_day() -> None:
    h = opening_hours({"fri": ["22:00-06:00"]}, tz="Europe/Warsaw")
    assert h.is_open(datetime(2026, 5, 16, 3, 0, tzinfo=WAW))  # Saturday 03:00
    assert not h.is_open(datetime(2026, 5, 16, 6, 0, tzinfo=WAW))
    assert not h.is_open(datetime(2026, 5, 15, 21, 59, tzinfo=WAW))
    [(_start, end)] = h.intervals_for_date(date(2026, 5, 15))
    assert end.date() == date(2026, 5, 16) and end.hour == 6


def test_sunday_late_and_monday_early_merge_into_one_interval() -> None:
    h = opening_hours({"sun": ["22:00-24:00"], "mon": ["00:00-06:00"]}, tz="Europe/Warsaw")
    at = datetime(2026, 5, 17, 23, 0, tzinfo=WAW)  # Sunday
    assert h.next_closing(at) == datetime(2026, 5, 18, 6, 0, tzinfo=WAW)
    assert h.next_opening(at) == datetime(2026, 5, 24, 22, 0, tzinfo=WAW)  # not Monday 00:00


def test_overlapping_spans_merge() -> None:
    h = opening_hours({"mon": ["08:00-14:00", "12:00-20:00"]}, tz="UTC")
    [interval] = h.intervals_for_date(date(2026, 5, 18))
    assert hours_len(interval) == 12


def test_always_open() -> None:
    h = opening_hours({"always": True}, tz="Asia/Kamchatka")
    at = datetime(2026, 3, 29, 1, 30, tzinfo=WAW)
    s = h.status(at)
    assert s.is_open and s.changes_at is None
    assert h.next_closing(at) is None and h.next_opening(at) is None


def test_whole_days_every_day_has_no_closing_within_lookahead() -> None:
    h = opening_hours({d: ["00:00-24:00"] for d in DAYS}, tz="Europe/Warsaw")
    assert h.next_closing(datetime(2026, 10, 25, 1, 0, tzinfo=UTC)) is None


def test_never_open() -> None:
    h = opening_hours({}, tz="Europe/Warsaw")
    at = datetime(2026, 5, 18, 12, tzinfo=UTC)
    assert h.status(at) == h.status(at).__class__(is_open=False, changes_at=None, today=[])


def test_exception_closed_day_and_shortened_day() -> None:
    h = opening_hours(EVERY_DAY_8_22, {"2026-12-25": [], "2026-12-24": ["08:00-14:00"]}, tz="Europe/Warsaw")
    eve = datetime(2026, 12, 24, 15, 0, tzinfo=WAW)
    assert not h.is_open(eve)
    assert h.is_open(datetime(2026, 12, 24, 13, 0, tzinfo=WAW))
    # Christmas closed: the next opening after Christmas Eve afternoon is the 26th.
    assert h.next_opening(eve) == datetime(2026, 12, 26, 8, 0, tzinfo=WAW)
    assert h.intervals_for_date(date(2026, 12, 25)) == []
    status = h.status(datetime(2026, 12, 24, 9, 0, tzinfo=WAW))
    assert status.changes_at == datetime(2026, 12, 24, 14, 0, tzinfo=WAW)
    assert [(a.hour, b.hour) for a, b in status.today] == [(8, 14)]


def test_exception_keeps_previous_nights_span() -> None:
    h = opening_hours({d: ["22:00-06:00"] for d in DAYS}, {"2026-12-25": []}, tz="Europe/Warsaw")
    assert h.is_open(datetime(2026, 12, 25, 5, 0, tzinfo=WAW))  # from the 24th's span
    assert not h.is_open(datetime(2026, 12, 25, 23, 0, tzinfo=WAW))


def test_exceptions_close_a_24_7_store() -> None:
    h = opening_hours({"always": True}, {"2026-12-25": []}, tz="Europe/Warsaw")
    at = datetime(2026, 12, 24, 12, tzinfo=WAW)
    assert h.next_closing(at) == datetime(2026, 12, 25, 0, 0, tzinfo=WAW)
    assert h.next_opening(at) == datetime(2026, 12, 26, 0, 0, tzinfo=WAW)


# --- far zones ------------------------------------------------------------------------------------

def test_vladivostok_store_seen_from_moscow() -> None:
    h = opening_hours(EVERY_DAY_8_22, tz="Asia/Vladivostok")  # UTC+10, Moscow UTC+3
    msk = ZoneInfo("Europe/Moscow")
    agent_now = datetime(2026, 5, 18, 0, 30, tzinfo=msk)  # 07:30 Monday in Vladivostok
    s = h.status(agent_now)
    assert not s.is_open
    assert s.changes_at is not None and s.changes_at.astimezone(msk) == datetime(2026, 5, 18, 1, 0, tzinfo=msk)
    assert s.today[0][0].date() == date(2026, 5, 18)
    # Late Moscow evening is already "tomorrow" in Vladivostok; the store closed at 15:00 Moscow time.
    evening = datetime(2026, 5, 18, 16, 0, tzinfo=msk)
    assert not h.is_open(evening)
    assert h.status(evening).today[0][0].date() == date(2026, 5, 18)
    assert h.next_opening(evening) == datetime(2026, 5, 19, 8, 0, tzinfo=ZoneInfo("Asia/Vladivostok"))


@pytest.mark.parametrize("zone", ["Asia/Kamchatka", "Asia/Yakutsk", "Asia/Vladivostok"])
def test_local_day_in_far_zones(zone: str) -> None:
    tz = ZoneInfo(zone)
    h = opening_hours({"mon": ["09:00-18:00"]}, tz=zone)
    monday_noon = datetime(2026, 1, 5, 12, tzinfo=tz)
    assert h.is_open(monday_noon)
    assert h.is_open(monday_noon.astimezone(ZoneInfo("Europe/Warsaw")))  # Sunday/Monday night in Warsaw
    assert h.next_closing(monday_noon) == datetime(2026, 1, 5, 18, tzinfo=tz)


# --- properties ------------------------------------------------------------------------------------

ZONES = ["Europe/Warsaw", "Europe/Paris", "Asia/Vladivostok", "Asia/Kamchatka", "Asia/Yakutsk",
         "America/Santiago", "Australia/Lord_Howe", "UTC"]


@st.composite
def span_text(draw: st.DrawFn) -> str:
    start = draw(st.integers(0, 47)) * 30
    end = draw(st.integers(0, 48)) * 30
    if end == start == 0:
        end = 1440
    if start == 1440:
        start = 0
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


schedules = st.one_of(
    st.just({"always": True}),
    st.dictionaries(st.sampled_from(DAYS), st.lists(span_text(), max_size=3)),
)
# Around DST switches and ordinary days in 2026, in minutes.
instants = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes),
    st.sampled_from([datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 10, 23, tzinfo=UTC),
                     datetime(2026, 4, 3, tzinfo=UTC), datetime(2026, 9, 4, tzinfo=UTC)]),
    st.integers(0, 5 * 24 * 60),
)
exception_maps = st.dictionaries(
    st.dates(date(2026, 3, 25), date(2026, 4, 10)) | st.dates(date(2026, 10, 20), date(2026, 11, 5)),
    st.lists(span_text(), max_size=2), max_size=3,
)


def build(data: dict[str, object], exc: dict[date, list[str]], zone: str) -> OpeningHours:
    return opening_hours(data, exc, tz=zone)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(schedules, exception_maps, st.sampled_from(ZONES), instants)
def test_is_open_agrees_with_intervals(data: dict[str, object], exc: dict[date, list[str]], zone: str,
                                       at: datetime) -> None:
    h = build(data, exc, zone)
    local_day = at.astimezone(ZoneInfo(zone)).date()
    intervals = h.intervals_for_date(local_day - timedelta(days=1)) + h.intervals_for_date(local_day)
    assert h.is_open(at) == any(utc(s) <= at < utc(e) for s, e in intervals)


@settings(max_examples=150, deadline=None)
@given(schedules, exception_maps, st.sampled_from(ZONES), instants)
def test_next_opening_and_closing(data: dict[str, object], exc: dict[date, list[str]], zone: str,
                                  at: datetime) -> None:
    h = build(data, exc, zone)
    second = timedelta(seconds=1)  # added in UTC: wall-clock arithmetic would fall into DST gaps
    opening = h.next_opening(at)
    if opening is not None:
        assert utc(opening) > at
        assert h.is_open(opening) and h.is_open(utc(opening) + second)
        assert not h.is_open(utc(opening) - second)
    closing = h.next_closing(at)
    if closing is not None:
        assert utc(closing) > at
        assert not h.is_open(closing)
        assert h.is_open(utc(closing) - second)
    status = h.status(at)
    assert status.changes_at == (closing if status.is_open else opening)
    if status.is_open and closing is not None and opening is not None:
        assert utc(opening) > utc(closing)  # reopening comes only after closing


@settings(max_examples=150, deadline=None)
@given(schedules, exception_maps, st.sampled_from(ZONES), st.dates(date(2026, 3, 20), date(2026, 11, 5)))
def test_intervals_sorted_disjoint_positive(data: dict[str, object], exc: dict[date, list[str]], zone: str,
                                            day: date) -> None:
    h = build(data, exc, zone)
    intervals = [(utc(s), utc(e)) for s, e in h.intervals_for_date(day)]
    for start, end in intervals:
        assert end > start
        assert end - start <= timedelta(hours=49)  # a whole day merged with an overnight 24 h span
    for (_, end), (start, _) in pairwise(intervals):
        assert end < start  # merged: touching intervals would have been joined
