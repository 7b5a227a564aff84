"""Pickup time vs the chosen store's opening hours, in the store's own time zone, with holidays, store
exceptions and DST switch days."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from linia.directory.models import Holiday, StoreHoursException
from linia.intake.webform.definition import parse
from linia.intake.webform.validation import clean, local_instant
from linia.tickets.models import Ticket
from tests import factories as f
from tests.webform.conftest import World, tomorrow_at

UTC = ZoneInfo("UTC")


def _pickup_error(world: World, store: str, day: str, at: str, now: datetime) -> list[str]:
    data = QueryDict(mutable=True)
    data.update({"name": "Anna", "consent": "on", "store": store, "pickup_date": day, "pickup_time": at})
    fields = parse(world.form.schema, world.form.ui)
    result = clean(world.tenant, fields, world.form.ui, data, MultiValueDict(), language="en", now=now)
    return result.errors.get("pickup_time", [])


def test_open_and_closed_times_follow_the_stores_time_zone(world: World) -> None:
    now = datetime(2026, 6, 10, 0, 0, tzinfo=UTC)
    # Vladivostok (UTC+10) opens 09:00-21:00 local: 20:30 local is fine, 21:30 local is not.
    assert _pickup_error(world, "V-1", "2026-06-11", "20:30", now) == []
    closed = _pickup_error(world, "V-1", "2026-06-11", "21:30", now)
    assert closed and "closed" in closed[0] and "09:00–21:00" in closed[0] and "Asia/Vladivostok" in closed[0]
    # The same wall time is open in Warsaw (08:00-22:00): the store's zone decides, not the server's.
    assert _pickup_error(world, "W-1", "2026-06-11", "21:30", now) == []
    assert _pickup_error(world, "W-1", "2026-06-11", "07:59", now)


def test_past_and_far_future_times_are_refused(world: World) -> None:
    now = datetime(2026, 6, 11, 3, 0, tzinfo=UTC)  # 13:00 in Vladivostok
    assert "future" in _pickup_error(world, "V-1", "2026-06-11", "12:00", now)[0]
    assert _pickup_error(world, "V-1", "2026-06-11", "14:00", now) == []
    assert "within the next" in _pickup_error(world, "V-1", "2026-09-30", "14:00", now)[0]


def test_holidays_and_store_exceptions_close_or_shorten_the_day(world: World) -> None:
    now = datetime(2026, 12, 20, 0, 0, tzinfo=UTC)
    Holiday.objects.create(tenant=world.tenant, date=date(2026, 12, 25), name="Christmas", spans=[])
    StoreHoursException.objects.create(tenant=world.tenant, store=world.warsaw, date=date(2026, 12, 24),
                                       spans=["08:00-14:00"])
    assert "closed" in _pickup_error(world, "W-1", "2026-12-25", "12:00", now)[0]
    assert _pickup_error(world, "W-1", "2026-12-24", "13:30", now) == []
    shortened = _pickup_error(world, "W-1", "2026-12-24", "15:00", now)
    assert shortened and "08:00–14:00" in shortened[0]


@pytest.mark.parametrize(("day", "at", "ok"), [
    ("2027-03-28", "02:30", None),   # skipped by spring forward in Europe/Warsaw
    ("2027-03-28", "03:30", True),
    ("2027-10-31", "02:30", True),   # happens twice at fall back: the first one counts
])
def test_dst_switch_days(world: World, day: str, at: str, ok: bool | None) -> None:
    world.warsaw.opening_hours = {"always": True}
    world.warsaw.save()
    now = datetime(2027, 3, 20, tzinfo=UTC) if day.startswith("2027-03") else datetime(2027, 10, 20, tzinfo=UTC)
    errors = _pickup_error(world, "W-1", day, at, now)
    if ok is None:
        assert errors and "clocks change" in errors[0]
    else:
        assert errors == []


def test_local_instant_across_dst() -> None:
    assert local_instant(date(2027, 3, 28), time.fromisoformat("02:30"), "Europe/Warsaw") is None
    first = local_instant(date(2027, 10, 31), time.fromisoformat("02:30"), "Europe/Warsaw")
    assert first is not None and first.astimezone(UTC).hour == 0  # 02:30 CEST = 00:30 UTC
    # A Vladivostok night-time pickup is the previous UTC day.
    far = local_instant(date(2026, 6, 11), time.fromisoformat("08:00"), "Asia/Vladivostok")
    assert far is not None and far.astimezone(UTC) == datetime(2026, 6, 10, 22, 0, tzinfo=UTC)


def test_evening_store_closing_over_http(world: World) -> None:
    day, _at = tomorrow_at(world.vladivostok, 0)
    response = world.post({"name": "Anna", "consent": "on", "store": "V-1", "pickup_date": day,
                           "pickup_time": "22:00"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="f-pickup_time-error">The store is closed at that time', html)
    assert not Ticket.objects.exists()
    response = world.post({"name": "Anna", "consent": "on", "store": "V-1", "pickup_date": day,
                           "pickup_time": "10:00"})
    assert response.status_code == 303


def test_overnight_store_hours(world: World) -> None:
    night = f.store(world.tenant, "N-1", name="Night owl", time_zone="Europe/Warsaw",
                    opening_hours={d: ["20:00-04:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    assert night.pk
    now = datetime(2026, 6, 10, 0, 0, tzinfo=UTC)
    assert _pickup_error(world, "N-1", "2026-06-12", "02:00", now) == []  # the span from the day before
    assert _pickup_error(world, "N-1", "2026-06-12", "05:00", now)
