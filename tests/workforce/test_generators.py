"""The simulator's pure generators: rates, intraday shape, patience and handle-time distributions."""

from __future__ import annotations

import itertools
import math
import statistics
from random import Random

import pytest

from linia.workforce.simulation import (
    CALLS,
    CHATS,
    ChannelSpec,
    arrivals,
    contacts,
    day,
    flat,
    lognormal,
    patience,
)


def test_flat_arrivals_match_the_rate_over_a_long_run() -> None:
    times = arrivals(120, 200 * 3600, Random(1))  # 24,000 expected
    assert abs(len(times) - 24_000) < 4 * math.sqrt(24_000)
    assert times == sorted(times) and times[0] > 0 and times[-1] < 200 * 3600
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.fmean(gaps) == pytest.approx(30, rel=0.03)
    assert statistics.pstdev(gaps) == pytest.approx(30, rel=0.05)  # exponential gaps: sd = mean


def test_day_profile_has_mean_one_and_a_daytime_peak() -> None:
    samples = [day(h / 60) for h in range(24 * 60)]
    assert statistics.fmean(samples) == pytest.approx(1.0, rel=0.01)
    assert day(10) > 1.5 > 0.2 > day(3)
    assert day(23.99) == pytest.approx(day(0.0), abs=0.05)  # continuous over midnight


def test_day_profile_shapes_arrivals_by_hour() -> None:
    times = arrivals(100, 60 * 24 * 3600, Random(7), profile=day)  # 60 days
    per_hour = [0] * 24
    for t in times:
        per_hour[int(t // 3600) % 24] += 1
    assert sum(per_hour) == pytest.approx(100 * 24 * 60, rel=0.02)  # mean rate is the given one
    for hour in (3, 10, 18):
        expected = 100 * 60 * statistics.fmean(day(hour + m / 60) for m in range(60))
        assert per_hour[hour] == pytest.approx(expected, rel=0.1), hour
    assert per_hour[10] > 5 * per_hour[3]


def test_start_hour_shifts_the_profile() -> None:
    night = arrivals(600, 3600, Random(3), profile=day, start_hour=2)
    noon = arrivals(600, 3600, Random(3), profile=day, start_hour=11)
    assert len(noon) > 4 * len(night)


def test_patience_is_exponential() -> None:
    rng = Random(5)
    xs = [patience(90, rng) for _ in range(50_000)]
    assert statistics.fmean(xs) == pytest.approx(90, rel=0.02)
    assert sum(x > 90 for x in xs) / len(xs) == pytest.approx(math.exp(-1), abs=0.01)  # memoryless tail


def test_handle_times_are_lognormal_with_the_given_mean_and_cv() -> None:
    rng = Random(9)
    xs = [lognormal(180, 0.6, rng) for _ in range(50_000)]
    assert min(xs) > 0
    assert statistics.fmean(xs) == pytest.approx(180, rel=0.02)
    assert statistics.pstdev(xs) / statistics.fmean(xs) == pytest.approx(0.6, rel=0.05)
    assert statistics.median(xs) < statistics.fmean(xs)  # right-skewed
    logs = [math.log(x) for x in xs]
    assert statistics.pstdev(logs) == pytest.approx(math.sqrt(math.log(1.36)), rel=0.03)


def test_contacts_are_deterministic_per_seed_and_channels_independent() -> None:
    specs = [ChannelSpec("call", 60, 90, 180), ChannelSpec("chat", 30, 240, 360)]
    a = contacts(specs, 3600, seed=42)
    assert a == contacts(specs, 3600, seed=42)
    assert a != contacts(specs, 3600, seed=43)
    assert [c.arrival_s for c in a] == sorted(c.arrival_s for c in a)
    calls_only = contacts([specs[0]], 3600, seed=42)
    assert [c for c in a if c.channel == "call"] == calls_only
    assert [c.n for c in calls_only] == list(range(1, len(calls_only) + 1))


def test_zero_rates_and_zero_duration_give_nothing() -> None:
    assert arrivals(0, 3600, Random(1)) == []
    assert arrivals(10, 0, Random(1)) == []
    assert contacts([CALLS, CHATS], 3600, seed=1) == []  # the defaults have rate 0
    assert flat(13.0) == 1.0
