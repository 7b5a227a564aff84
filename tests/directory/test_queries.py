"""Directory read paths on real rows: hours with exceptions and holidays, search, cache, isolation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from linia.core.errors import NotFound
from linia.directory import queries
from linia.directory.models import Holiday, Product, Promotion, Stock, Store, StoreHoursException, Vacancy
from tests import factories as f

pytestmark = pytest.mark.django_db

WAW = ZoneInfo("Europe/Warsaw")
VVO = ZoneInfo("Asia/Vladivostok")
NOON_WAW = datetime(2026, 5, 18, 12, 0, tzinfo=WAW)  # a Monday


# --- hours ---------------------------------------------------------------------------------------

def test_store_exception_over_region_holiday_over_all_region_holiday() -> None:
    t = f.tenant()
    south = f.store(t, region="małopolskie")
    north = f.store(t, region="pomorskie")
    Holiday.objects.create(tenant=t, date=date(2026, 5, 18), name="National", region="", spans=[])
    Holiday.objects.create(tenant=t, date=date(2026, 5, 18), name="Local fair", region="Małopolskie",
                           spans=["10:00-14:00"])
    assert not queries.store_status(north, NOON_WAW).is_open  # national holiday: closed
    status = queries.store_status(south, NOON_WAW)  # regional hours win over the national holiday
    assert status.is_open and status.changes_at == datetime(2026, 5, 18, 14, 0, tzinfo=WAW)
    StoreHoursException.objects.create(tenant=t, store=south, date=date(2026, 5, 18), spans=["12:30-13:00"])
    assert not queries.store_status(south, NOON_WAW).is_open
    assert queries.store_status(south, NOON_WAW).changes_at == datetime(2026, 5, 18, 12, 30, tzinfo=WAW)


def test_region_holiday_skips_other_regions() -> None:
    t = f.tenant()
    store = f.store(t, region="mazowieckie")
    Holiday.objects.create(tenant=t, date=date(2026, 5, 18), name="Elsewhere", region="śląskie", spans=[])
    assert queries.store_status(store, NOON_WAW).is_open


def test_other_tenants_holidays_do_not_apply() -> None:
    a, b = f.tenant(), f.tenant()
    store = f.store(a)
    Holiday.objects.create(tenant=b, date=date(2026, 5, 18), name="B only", spans=[])
    assert queries.store_status(store, NOON_WAW).is_open


def test_store_hours_in_store_zone_with_exceptions_from() -> None:
    t = f.tenant(time_zone="Asia/Vladivostok")
    store = f.store(t, opening_hours={"always": True})
    StoreHoursException.objects.create(tenant=t, store=store, date=date(2026, 1, 1), spans=[])
    hours = queries.store_hours(store)
    assert hours.tz == "Asia/Vladivostok" and date(2026, 1, 1) in hours.exceptions
    assert date(2026, 1, 1) not in queries.store_hours(store, exceptions_from=date(2026, 1, 2)).exceptions
    new_year_morning = datetime(2026, 1, 1, 9, 0, tzinfo=VVO)
    assert not queries.store_status(store, new_year_morning).is_open
    assert queries.store_status(store, new_year_morning + timedelta(days=1)).is_open


# --- search and the cached index ------------------------------------------------------------------------

def test_search_with_typos_and_exact_code_first() -> None:
    t = f.tenant()
    prosta = f.store(t, "PL-0001", name="Biedronka Prosta", city="Warszawa", address="ul. Prosta 5")
    f.store(t, "PL-0002", name="Biedronka Prostka", city="Kraków", address="ul. Długa 1")
    f.store(t, "PL-0003", name="Biedronka Łódź", city="Łódź", address="ul. Piotrkowska 12")
    assert [s.code for s in queries.search_stores(t, "prosta")] == ["PL-0001", "PL-0002"]
    assert [s.code for s in queries.search_stores(t, "piotrkowska lodz")] == ["PL-0003"]
    assert queries.search_stores(t, "pl-0001")[0] == prosta
    assert [s.code for s in queries.search_stores(t, "biedronka", city="Krakw")] == ["PL-0002"]
    assert queries.search_stores(t, "") == [] and queries.search_stores(t, "qqqzzz") == []


def test_index_follows_renames_new_deleted_and_inactive_stores() -> None:
    t = f.tenant()
    store = f.store(t, name="Sklep Zielony", city="Gdańsk")
    assert queries.search_stores(t, "zielony") == [store]
    store.name = "Sklep Niebieski"
    store.save()
    assert queries.search_stores(t, "zielony") == []
    assert queries.search_stores(t, "niebieski") == [store]
    other = f.store(t, name="Sklep Niebieski Dwa", city="Gdynia")
    assert set(queries.search_stores(t, "niebieski")) == {store, other}
    other.is_active = False
    other.save()
    assert queries.search_stores(t, "niebieski") == [store]
    store.delete()
    assert queries.search_stores(t, "niebieski") == []


def test_returned_stores_are_copies() -> None:
    t = f.tenant()
    f.store(t, name="Alfa")
    first = queries.search_stores(t, "alfa")[0]
    first.name = "changed in one request"
    assert queries.search_stores(t, "alfa")[0].name == "Alfa"


def test_invalidate_after_bulk_update_without_timestamp() -> None:
    t = f.tenant()
    store = f.store(t, name="Alfa")
    assert queries.search_stores(t, "alfa") == [store]
    Store.objects.filter(pk=store.pk).update(name="Beta")  # bypasses updated_at
    queries.invalidate_store_index(t.pk)
    assert queries.search_stores(t, "beta")[0].pk == store.pk


def test_tenant_isolation() -> None:
    a, b = f.tenant(), f.tenant()
    mine = f.store(a, "A-1", name="Market Centrum", city="Warszawa")
    theirs = f.store(b, "B-1", name="Market Centrum", city="Warszawa")
    assert queries.search_stores(a, "market centrum") == [mine]
    assert queries.search_stores(b, "B-1") == [theirs]
    assert queries.search_stores(a, "B-1") == []
    assert [s for s, _ in queries.stores_in_city(a, "warszawa", NOON_WAW)] == [mine]
    with pytest.raises(NotFound):
        queries.product_stock(a, theirs)
    with pytest.raises(NotFound):
        queries.active_promotions(a, theirs)


# --- city lists --------------------------------------------------------------------------------------

def test_stores_open_now_and_in_city() -> None:
    t = f.tenant(time_zone="Asia/Vladivostok")
    day = f.store(t, name="Day", city="Владивосток", opening_hours={d: ["08:00-22:00"] for d in
                                                                 ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    night = f.store(t, name="Night", city="Владивосток", opening_hours={"sun": ["22:00-06:00"]})
    always = f.store(t, name="Always", city="Владивосток", opening_hours={"always": True})
    f.store(t, name="Elsewhere", city="Хабаровск", opening_hours={"always": True})
    sunday_late = datetime(2026, 5, 17, 23, 0, tzinfo=VVO)
    moscow = sunday_late.astimezone(ZoneInfo("Europe/Moscow"))  # the agent's clock; same instant
    open_now = queries.stores_open_now(t, "Vladivostk", moscow)
    assert [s for s, _ in open_now] == [always, night]
    assert open_now[1][1].changes_at == datetime(2026, 5, 18, 6, 0, tzinfo=VVO)
    listed = queries.stores_in_city(t, "vladivostok", moscow)
    assert [s for s, _ in listed] == [always, night, day]
    assert listed[2][1].changes_at == datetime(2026, 5, 18, 8, 0, tzinfo=VVO)  # "opens at"
    assert queries.stores_in_city(t, "Berlin") == []


def test_store_statuses_in_bulk_match_one_by_one() -> None:
    t, other = f.tenant(), f.tenant()
    stores = [f.store(t, opening_hours={"mon": ["08:00-11:00"]}), f.store(t), f.store(t, opening_hours={}), f.store(t)]
    StoreHoursException.objects.create(tenant=t, store=stores[1], date=date(2026, 5, 18), spans=[])
    foreign = f.store(other)
    bulk = queries.store_statuses(t, [*stores, foreign], NOON_WAW)
    assert [s for s, _ in bulk] == stores
    assert [st for _, st in bulk] == [queries.store_status(s, NOON_WAW) for s in stores]
    assert [st.is_open for _, st in bulk] == [False, False, False, True]


def test_broken_hours_data_shows_closed_without_breaking_the_list() -> None:
    t = f.tenant()
    good = f.store(t, name="Good", city="Poznań")
    bad = f.store(t, name="Bad", city="Poznań", opening_hours={"mon": ["25:00-26:00"]})
    listed = queries.stores_in_city(t, "Poznan", NOON_WAW)
    assert [(s, st.is_open) for s, st in listed] == [(good, True), (bad, False)]
    with pytest.raises(ValueError, match="mon: '25:00' is not a time"):
        queries.store_status(bad, NOON_WAW)


# --- stock, promotions, vacancies, map ----------------------------------------------------------------

def test_product_stock_by_sku_or_name() -> None:
    t = f.tenant()
    store, other_store = f.store(t), f.store(t)
    now = timezone.now()
    milk = Product.objects.create(tenant=t, sku="MLK-1", name="Mleko 2% 1l")
    milk_lf = Product.objects.create(tenant=t, sku="MLK-10", name="Mleko bez laktozy")
    bread = Product.objects.create(tenant=t, sku="BRD-1", name="Chleb MLK-1 style")
    for product in (milk, milk_lf, bread):
        Stock.objects.create(tenant=t, store=store, product=product, quantity=Decimal(3), updated_at=now)
    Stock.objects.create(tenant=t, store=other_store, product=milk, quantity=Decimal(9), updated_at=now)
    assert [s.product.sku for s in queries.product_stock(t, store, "MLK-1")] == ["MLK-1", "BRD-1", "MLK-10"]
    assert [s.product.sku for s in queries.product_stock(t, store, "mleko laktozy")] == ["MLK-10"]
    assert len(queries.product_stock(t, store)) == 3
    assert len(queries.product_stock(t, store, limit=2)) == 2


def test_active_promotions() -> None:
    t = f.tenant()
    store, other = f.store(t), f.store(t)
    everywhere = Promotion.objects.create(tenant=t, title="All", starts_on=date(2026, 5, 1), ends_on=date(2026, 5, 31))
    here = Promotion.objects.create(tenant=t, title="Here", starts_on=date(2026, 5, 10), ends_on=date(2026, 5, 20))
    here.stores.add(store)
    there = Promotion.objects.create(tenant=t, title="There", starts_on=date(2026, 5, 1), ends_on=date(2026, 5, 31))
    there.stores.add(other)
    Promotion.objects.create(tenant=t, title="Past", starts_on=date(2026, 4, 1), ends_on=date(2026, 4, 30))
    on = date(2026, 5, 18)
    assert queries.active_promotions(t, store, on) == [here, everywhere]
    assert set(queries.active_promotions(t, on=on)) == {everywhere, here, there}
    assert queries.active_promotions(t, store, date(2026, 5, 25)) == [everywhere]


def test_open_vacancies_by_city() -> None:
    t, other = f.tenant(), f.tenant()
    store = f.store(t, city="Wrocław")
    cashier = Vacancy.objects.create(tenant=t, position="Cashier", store=store)
    driver = Vacancy.objects.create(tenant=t, position="Driver", city="Kraków")
    Vacancy.objects.create(tenant=t, position="Closed", city="Kraków", is_open=False)
    Vacancy.objects.create(tenant=other, position="Foreign", city="Kraków")
    assert queries.open_vacancies(t) == [cashier, driver]
    assert queries.open_vacancies(t, "wroclaw") == [cashier]
    assert queries.open_vacancies(t, "Krakow") == [driver]


def test_map_url() -> None:
    t = f.tenant()
    pinned = f.store(t, latitude=43.1155, longitude=131.8855)
    assert queries.map_url(pinned) == (
        "https://www.openstreetmap.org/?mlat=43.115500&mlon=131.885500#map=17/43.115500/131.885500")
    unpinned = f.store(t, address="ul. Prosta 5", city="Warszawa")
    assert queries.map_url(unpinned) == "https://www.openstreetmap.org/search?query=ul.+Prosta+5%2C+Warszawa"


def test_product_stock_ignores_nul_characters() -> None:
    t = f.tenant()
    s = f.store(t)
    assert queries.product_stock(t, s, "mi\x00lk") == []
