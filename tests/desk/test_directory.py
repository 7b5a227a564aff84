from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from linia.directory.models import Product, Promotion, Stock, Vacancy
from tests import factories as f
from tests.desk.conftest import Desk

pytestmark = pytest.mark.django_db
DIR = "/directory/"
CLOSED_ALL_WEEK = {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_typo_tolerant_search_shows_status_in_store_and_agent_time(desk: Desk) -> None:
    page = desk.client.get(DIR, {"q": "Svetlanskya"}).content.decode()
    assert "VL-001" in page and "Svetlanskaya 12" in page and "+74232000001" in page
    assert "openstreetmap.org" in page
    # 08:00-22:00 every day in Vladivostok; the agent works on Warsaw time (9 hours behind)
    assert re.search(r"Open now · closes 22:00|Closed · opens (\w+ )?08:00", page)
    assert re.search(r"\((\w+ )?(13|14|23|00):00 your time\)", page)  # Warsaw winter/summer time
    assert "Asia/Vladivostok" in page and "Monday" in page and "08:00–22:00" in page


def test_city_filter_and_open_now(desk: Desk) -> None:
    f.store(desk.tenant, "VL-247", name="Always open", city="Vladivostok", opening_hours={"always": True},
            time_zone="Asia/Vladivostok")
    f.store(desk.tenant, "VL-000", name="Shut", city="Vladivostok", opening_hours=CLOSED_ALL_WEEK,
            time_zone="Asia/Vladivostok")
    f.store(desk.tenant, "KH-001", name="Khabarovsk one", city="Khabarovsk", time_zone="Asia/Vladivostok")
    city = desk.client.get(DIR, {"city": "Vladivostok"}).content.decode()
    assert "VL-247" in city and "VL-000" in city and "KH-001" not in city
    assert "Open 24/7" in city and "Closed for the next two weeks" in city
    open_now = desk.client.get(DIR, {"city": "Vladivostok", "open_now": "1"}).content.decode()
    assert "VL-247" in open_now and "VL-000" not in open_now
    start = desk.client.get(DIR).content.decode()
    assert "Khabarovsk" in start and "Vladivostok" in start  # the list of cities
    partial = desk.client.get(DIR, {"q": "Khabarovsk"}, HTTP_HX_REQUEST="true").content.decode()
    assert "KH-001" in partial and "<html" not in partial
    restored = desk.client.get(DIR, {"q": "Khabarovsk"}, HTTP_HX_REQUEST="true",
                               HTTP_HX_HISTORY_RESTORE_REQUEST="true").content.decode()
    assert "<html" in restored and "KH-001" in restored  # the back button gets the whole page


def test_other_tenants_stores_are_invisible(desk: Desk) -> None:
    foreign = f.store(desk.other, "PL-9", name="Svetlanskaya copy", city="Vladivostok")
    page = desk.client.get(DIR, {"q": "Svetlanskaya"}).content.decode()
    assert "PL-9" not in page
    assert desk.client.get(reverse("desk:store", args=[foreign.pk])).status_code == 404
    picker = desk.client.get(reverse("desk:store_picker"), {"store_q": "Svetlanskaya"}).content.decode()
    assert "VL-001" in picker and "PL-9" not in picker


def test_store_page_stock_promotions_vacancies(desk: Desk) -> None:
    milk = Product.objects.create(tenant=desk.tenant, sku="MLK-1", name="Milk 3.2% 1l")
    bread = Product.objects.create(tenant=desk.tenant, sku="BRD-1", name="Rye bread")
    for product, qty in ((milk, "12"), (bread, "0")):
        Stock.objects.create(tenant=desk.tenant, store=desk.store, product=product, quantity=Decimal(qty),
                             updated_at=timezone.now())
    today = timezone.now().date()
    promo = Promotion.objects.create(tenant=desk.tenant, title="Milk week", starts_on=today - dt.timedelta(days=1),
                                     ends_on=today + dt.timedelta(days=5), texts={"en": "Two for one"})
    promo.stores.add(desk.store)
    Vacancy.objects.create(tenant=desk.tenant, position="Cashier", city="Vladivostok", text="Full time")
    Vacancy.objects.create(tenant=desk.tenant, position="Baker", city="Nakhodka")
    store_url = reverse("desk:store", args=[desk.store.pk])
    page = desk.client.get(store_url).content.decode()
    assert "Milk 3.2% 1l" in page and "Rye bread" in page
    assert "Milk week" in page and "Two for one" in page
    assert "Cashier" in page and "Baker" not in page
    stock = desk.client.get(store_url, {"q": "milk", "part": "stock"}, HTTP_HX_REQUEST="true").content.decode()
    assert "MLK-1" in stock and "BRD-1" not in stock and "<html" not in stock


def test_directory_export_csv_and_xlsx(desk: Desk) -> None:
    f.store(desk.tenant, "KH-001", name="Khabarovsk one", city="Khabarovsk")
    f.store(desk.other, "PL-9", city="Vladivostok")
    response = desk.client.get(reverse("desk:directory_export", args=["csv"]), {"city": "Vladivostok"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Code", "Name", "City"] and [r[0] for r in rows[1:]] == ["VL-001"]
    book = load_workbook(io.BytesIO(desk.client.get(reverse("desk:directory_export", args=["xlsx"])).content))
    codes = sorted(row[0].value for row in list(book.active.iter_rows())[1:])
    assert codes == ["KH-001", "VL-001"]
