"""Directory imports through the public API (import_file, upsert_stock) and the `linia import` command."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections
from openpyxl import Workbook

from linia.cli import main as linia
from linia.core.errors import ActionError
from linia.core.models import AuditLog, Role, Tenant
from linia.core.permissions import PermissionDenied
from linia.directory.hours import HoursError
from linia.directory.hours_text import parse_hours_text
from linia.directory.importing import import_file, upsert_stock
from linia.directory.models import Product, Stock, Store
from linia.tickets.models import Event
from tests import factories as f

FIXTURES = Path(__file__).parent / "fixtures"
WEEK_8_22 = {d: ["08:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []}


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    """`linia import ...` in-process; Django closes connections after a command, which would end the
    test's transaction on PostgreSQL, so that one call is neutralised here."""
    monkeypatch.setattr(connections, "close_all", lambda: None)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            linia(["import", *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def tenant() -> Tenant:
    return f.tenant("lid", time_zone="Europe/Warsaw", default_language="pl")


@pytest.fixture
def stocked(tenant: Tenant) -> Iterator[Tenant]:
    f.store(tenant, "W1")
    f.store(tenant, "V1", time_zone="Asia/Vladivostok")
    Product.objects.create(tenant=tenant, sku="MILK", name="Milk")
    Product.objects.create(tenant=tenant, sku="BREAD", name="Bread")
    yield tenant


# --- opening-hours text ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("24/7", {"always": True}),
    ("Круглосуточно", {"always": True}),
    ("mon-fri 08:00-22:00; sat closed", WEEK_8_22),
    ("pn-pt 8:00-22:00", WEEK_8_22),
    ("pn-pt 8-22", WEEK_8_22),
    ("Пн-Пт 08:00-22:00\nСб, Вс выходной", WEEK_8_22),
    ("lun - ven 08.00 – 22.00", WEEK_8_22),
    ("sb-nd 10:00-14:00, 15:00-20:00", {d: [] for d in ("mon", "tue", "wed", "thu", "fri")}
     | {"sat": ["10:00-14:00", "15:00-20:00"], "sun": ["10:00-14:00", "15:00-20:00"]}),
    ("daily 22:00-06:00", {d: ["22:00-06:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}),
    ("fri-mon 00:00-24:00", {"mon": ["00:00-24:00"], "tue": [], "wed": [], "thu": [],
                             "fri": ["00:00-24:00"], "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}),
    ('{"mon": ["08:00-22:00"]}', {"mon": ["08:00-22:00"]} | {d: [] for d in ("tue", "wed", "thu", "fri", "sat", "sun")}),
])
def test_hours_text_parses_to_the_stored_format(text: str, expected: dict[str, object]) -> None:
    assert parse_hours_text(text) == expected


@pytest.mark.parametrize(("text", "hint"), [
    ("", "empty"),
    ("mon 25:00-26:00", "'25:00' is not a time"),
    ("funday 08:00-22:00", "unknown day 'funday'"),
    ("mon-fri 08:00-22:00; fri closed", "fri is given twice"),
    ("mon 0800-2200", "write HH:MM-HH:MM"),
    ("mon", "no opening times"),
    ("{bad json", "JSON is malformed"),
    ('{"mon": "08:00-22:00"}', "not a list of spans"),
    ("mon 24:00-08:00", "can only end a span"),
])
def test_bad_hours_text_says_what_to_fix(text: str, hint: str) -> None:
    with pytest.raises(HoursError) as err:
        parse_hours_text(text)
    assert hint in str(err.value)


# --- stores ---------------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def test_store_csv_with_semicolons_creates_and_reimport_is_unchanged(tenant: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "stores.csv",
                 "Code;NAME;City;Address;Hours;Phone;Latitude;Longitude;is_active\n"
                 'W1;Sklep 1;Warszawa;ul. Prosta 1;"mon-fri 08:00-22:00; sat closed";22 123 45 67;52,23;21,01;tak\n'
                 "K2;Sklep 2;Kraków;;24/7;;;;0\n")
    first = import_file(None, tenant, "stores", path)
    assert (first.ok, first.created, first.updated, first.errors) == (True, 2, 0, [])
    w1 = Store.objects.get(tenant=tenant, code="W1")
    assert (w1.opening_hours, w1.phone, w1.latitude, w1.time_zone, w1.is_active) == (
        WEEK_8_22, "+48221234567", 52.23, "Europe/Warsaw", True)
    assert Store.objects.get(code="K2").opening_hours == {"always": True}
    assert not Store.objects.get(code="K2").is_active
    again = import_file(None, tenant, "stores", path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_store_update_touches_only_columns_in_the_file(tenant: Tenant, tmp_path: Path) -> None:
    f.store(tenant, "W1", name="Old", phone="+48221234567", opening_hours={"always": True})
    path = write(tmp_path, "s.csv", "code,name,city\nW1,New name,Gdańsk\n")
    result = import_file(None, tenant, "stores", path)
    assert (result.created, result.updated) == (0, 1)
    w1 = Store.objects.get(code="W1")
    assert (w1.name, w1.city, w1.phone, w1.opening_hours) == ("New name", "Gdańsk", "+48221234567", {"always": True})


def test_cp1251_csv_with_cyrillic(tmp_path: Path) -> None:
    t = f.tenant("fe", time_zone="Asia/Vladivostok", default_language="ru")
    path = write(tmp_path, "магазины.csv",
                 "код;название;город;часы;time_zone\n"
                 "V01;Супермаркет на Светланской;Владивосток;пн-вс 08:00-23:00;\n"
                 "N02;Магазин;Находка;круглосуточно;Asia/Vladivostok\n", encoding="cp1251")
    # Russian headers are not our column names: the report says which columns to add.
    bad = import_file(None, t, "stores", path)
    assert not bad.ok and {e.column for e in bad.errors} == {"code", "name", "city"}
    assert all(e.row == 1 for e in bad.errors)
    path.write_bytes(path.read_bytes().replace("код;название;город;часы".encode("cp1251"), b"code;name;city;hours"))
    result = import_file(None, t, "stores", path)
    assert result.ok, result.errors
    v01 = Store.objects.get(tenant=t, code="V01")
    assert (v01.name, v01.city, v01.time_zone) == ("Супермаркет на Светланской", "Владивосток", "Asia/Vladivostok")
    assert v01.opening_hours["sun"] == ["08:00-23:00"]


def test_utf8_bom_csv(tenant: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "\ufeffcode,name,city\nŁ1,Łódź Centrum,Łódź\n")
    assert import_file(None, tenant, "stores", path).created == 1
    assert Store.objects.get(code="Ł1").city == "Łódź"


def test_xlsx_stores(tenant: Tenant, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Code", "Name", "City", "Latitude", "Hours"])
    sheet.append([1001, "Sklep", "Poznań", 52.4, "pn-sb 06:00-22:00"])
    sheet.append([None, None, None, None, None])  # blank rows are skipped but still counted
    sheet.append([1002, "Sklep 2", "Poznań", "north", "24/7"])
    path = tmp_path / "stores.xlsx"
    book.save(path)
    result = import_file(None, tenant, "stores", path)
    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [(4, "latitude")]
    assert "not a number" in result.errors[0].message
    result = import_file(None, tenant, "stores", path, skip_invalid=True)
    assert (result.ok, result.created, result.skipped) == (True, 1, 1)
    assert Store.objects.get(tenant=tenant).code == "1001"  # Excel's 1001.0 is the code "1001"


def test_errors_are_reported_by_row_and_column_and_nothing_is_written(tenant: Tenant, tmp_path: Path) -> None:
    f.store(tenant, "KEEP", name="Untouched")
    path = write(tmp_path, "s.csv",
                 "code,name,city,hours,time_zone,latitude\n"
                 "A1,Good,Warszawa,24/7,,\n"
                 "KEEP,Changed,Warszawa,,,\n"
                 "A2,Bad hours,Warszawa,mon 25:00-26:00,,\n"
                 "A3,Bad zone,Warszawa,,Europe/Atlantis,\n"
                 ",No code,Warszawa,,,\n"
                 "A1,Duplicate,Warszawa,,,\n"
                 "A4,Far north,Warszawa,,,95\n")
    result = import_file(None, tenant, "stores", path)
    assert not result.ok and result.rejected
    assert [(e.row, e.column) for e in result.errors] == [
        (4, "hours"), (5, "time_zone"), (6, "code"), (7, "code"), (8, "latitude")]
    assert "Europe/Atlantis" in result.errors[1].message and "IANA" in result.errors[1].message
    assert "already on row 2" in result.errors[3].message
    assert (result.created, result.updated) == (0, 0)
    assert list(Store.objects.filter(tenant=tenant).values_list("code", "name")) == [("KEEP", "Untouched")]
    assert not AuditLog.objects.filter(tenant=tenant).exists()
    assert not Event.objects.filter(tenant=tenant).exists()


def test_skip_invalid_imports_the_valid_rows(tenant: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "code,name,city\nA1,One,Warszawa\nA2,,Warszawa\nA3,Three,Łódź\n")
    result = import_file(None, tenant, "stores", path, skip_invalid=True)
    assert (result.ok, result.created, result.skipped) == (True, 2, 1)
    assert [(e.row, e.column) for e in result.errors] == [(3, "name")]
    assert set(Store.objects.values_list("code", flat=True)) == {"A1", "A3"}


def test_missing_required_column_is_reported_once_before_rows(tenant: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "code,name\n" + "A1,One\n" * 5)
    result = import_file(None, tenant, "stores", path, skip_invalid=True)
    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [(1, "city")]


def test_dry_run_counts_but_writes_nothing(tenant: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "code,name,city\nA1,One,Warszawa\n")
    result = import_file(None, tenant, "stores", path, dry_run=True)
    assert (result.ok, result.dry_run, result.created) == (True, True, 1)
    assert not Store.objects.exists()


def test_one_audit_row_and_one_event_per_import(tenant: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "code,name,city\n" + "".join(f"A{i},S{i},Warszawa\n" for i in range(30)))
    import_file(None, tenant, "stores", path)
    audits = AuditLog.objects.filter(tenant=tenant)
    assert [a.action for a in audits] == ["import.stores"]
    assert audits[0].changes["created"] == 30
    events = Event.objects.filter(tenant=tenant)
    assert [(e.kind, e.data["created"], e.data["kind"]) for e in events] == [("directory.imported", 30, "stores")]


def test_unknown_file_type_and_missing_file(tenant: Tenant, tmp_path: Path) -> None:
    with pytest.raises(ActionError, match=r"unknown file type '\.xls'"):
        import_file(None, tenant, "stores", write(tmp_path, "old.xls", "x"))
    with pytest.raises(ActionError, match="file not found"):
        import_file(None, tenant, "stores", tmp_path / "nope.csv")
    with pytest.raises(ActionError, match="cannot read"):
        import_file(None, tenant, "stores", write(tmp_path, "fake.xlsx", "not a zip"))
    with pytest.raises(ActionError, match="UTF-16"):
        import_file(None, tenant, "stores", write(tmp_path, "u16.csv", "\ufeffcode,name,city\n", "utf-16"))
    book = Workbook()
    book.save(tmp_path / "book.xlsx")
    disguised = tmp_path / "book.csv"
    disguised.write_bytes((tmp_path / "book.xlsx").read_bytes())
    with pytest.raises(ActionError, match=r"rename it to \.xlsx"):
        import_file(None, tenant, "stores", disguised)
    with pytest.raises(ActionError, match="'name' appears twice"):
        import_file(None, tenant, "stores", write(tmp_path, "dup.csv", "code,name,Name,city\n"))
    with pytest.raises(ActionError, match="empty"):
        import_file(None, tenant, "stores", write(tmp_path, "empty.csv", ""))


def test_fixture_files_import(tenant: Tenant) -> None:
    for kind in ("stores", "products", "stock"):
        result = import_file(None, tenant, kind, FIXTURES / f"{kind}.csv")
        assert result.ok and not result.errors, (kind, result.errors)
    assert Stock.objects.filter(tenant=tenant).count() == 4


# --- permissions and tenants -----------------------------------------------------------------------

def test_agent_may_not_import_but_client_staff_may(tenant: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "code,name,city\nA1,One,Warszawa\n")
    with pytest.raises(PermissionDenied):
        import_file(f.user(tenant=tenant, role=Role.AGENT), tenant, "stores", path)
    with pytest.raises(PermissionDenied):
        upsert_stock(f.user(tenant=tenant, role=Role.AGENT), tenant, [])
    assert not Store.objects.exists()
    staff = f.user(tenant=tenant, role=Role.CLIENT_STAFF)
    assert import_file(staff, tenant, "stores", path).created == 1
    assert AuditLog.objects.get(action="import.stores").actor == staff


def test_import_into_one_tenant_never_touches_another(tmp_path: Path) -> None:
    a, b = f.tenant("a"), f.tenant("b")
    f.store(b, "S1", name="B's store")
    Product.objects.create(tenant=b, sku="MILK", name="B milk")
    path = write(tmp_path, "s.csv", "code,name,city\nS1,A's store,Warszawa\n")
    assert import_file(None, a, "stores", path).created == 1
    assert Store.objects.get(tenant=b).name == "B's store"
    # B's SKU and store are unknown in A.
    bad = upsert_stock(None, a, [{"store_code": "S1", "sku": "MILK", "quantity": 1}])
    assert [(e.row, e.column) for e in bad.errors] == [(1, "sku")]
    assert not Stock.objects.exists()


# --- products ---------------------------------------------------------------------------------------

def test_products_other_columns_become_attributes(tenant: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "SKU,Name,Brand,Weight g\nMILK,Milk 2%,Łaciate,1000\nTEA,Tea,,\n")
    result = import_file(None, tenant, "products", path)
    assert result.created == 2
    assert Product.objects.get(sku="MILK").attributes == {"brand": "Łaciate", "weight g": "1000"}
    assert Product.objects.get(sku="TEA").attributes == {}
    renamed = write(tmp_path, "p2.csv", "sku,name\nMILK,Mleko\n")
    result = import_file(None, tenant, "products", renamed)
    assert (result.updated, result.unchanged) == (1, 0)
    milk = Product.objects.get(sku="MILK")
    assert (milk.name, milk.attributes["brand"]) == ("Mleko", "Łaciate")  # no attribute columns: kept


def test_duplicate_sku_in_file(tenant: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "sku,name\nA,One\nB,Two\nA,Again\n")
    result = import_file(None, tenant, "products", path)
    assert [(e.row, e.column) for e in result.errors] == [(4, "sku")]
    assert not Product.objects.exists()


# --- stock ------------------------------------------------------------------------------------------

def test_stock_csv_upsert_and_idempotent_reimport(stocked: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "stock.csv",
                 "store_code,sku,quantity,updated_at\n"
                 "W1,MILK,12,2026-11-25T08:00:00+01:00\n"
                 'W1,BREAD,"3,5",\n'
                 "V1,MILK,0,2026-11-25 08:00\n")
    first = import_file(None, stocked, "stock", path)
    assert (first.ok, first.created, first.updated, first.unchanged) == (True, 3, 0, 0)
    milk_v1 = Stock.objects.get(store__code="V1", product__sku="MILK")
    # A time without an offset is the store's local time (Vladivostok is UTC+10).
    assert milk_v1.updated_at == dt.datetime(2026, 11, 24, 22, 0, tzinfo=dt.UTC)
    assert Stock.objects.get(store__code="W1", product__sku="BREAD").quantity == Decimal("3.5")
    again = import_file(None, stocked, "stock", path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    path.write_text(path.read_text().replace("W1,MILK,12", "W1,MILK,11"))
    changed = import_file(None, stocked, "stock", path)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    assert Stock.objects.get(store__code="W1", product__sku="MILK").quantity == 11


def test_stock_errors_unknown_codes_bad_numbers(stocked: Tenant, tmp_path: Path) -> None:
    path = write(tmp_path, "stock.csv",
                 "store_code;sku;quantity;updated_at\n"
                 "W1;MILK;12;\n"
                 "NOPE;MILK;1;\n"
                 "W1;CHEESE;1;\n"
                 "W1;BREAD;lots;\n"
                 "V1;BREAD;-2;\n"
                 "V1;MILK;1;yesterday\n"
                 "W1;MILK;13;\n"
                 "V1;BREAD;1.2345;\n")
    result = import_file(None, stocked, "stock", path)
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "store_code"), (4, "sku"), (5, "quantity"), (6, "quantity"), (7, "updated_at"), (8, "sku"), (9, "quantity")]
    assert "import the store first" in result.errors[0].message
    assert "ISO 8601" in result.errors[4].message
    assert "already on row 2" in result.errors[5].message
    assert "decimal places" in result.errors[6].message
    assert not Stock.objects.exists()
    skipped = import_file(None, stocked, "stock", path, skip_invalid=True)
    assert (skipped.ok, skipped.created, skipped.skipped) == (True, 1, 7)
    assert Stock.objects.get().quantity == 12


def test_upsert_stock_is_idempotent(stocked: Tenant) -> None:
    rows: list[dict[str, object]] = [{"store_code": "W1", "sku": "MILK", "quantity": 5},
            {"store_code": "W1", "sku": "BREAD", "quantity": "7.250", "updated_at": "2026-11-25T10:00:00Z"}]
    first = upsert_stock(None, stocked, rows)
    state = list(Stock.objects.order_by("pk").values("store_id", "product_id", "quantity", "updated_at"))
    second = upsert_stock(None, stocked, rows)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert list(Stock.objects.order_by("pk").values("store_id", "product_id", "quantity", "updated_at")) == state
    third = upsert_stock(None, stocked, [{"store_code": "W1", "sku": "MILK", "quantity": 6}])
    assert (third.updated, third.unchanged) == (1, 0)
    assert Event.objects.filter(tenant=stocked, kind="directory.imported").count() == 3


def test_upsert_stock_rejects_bad_payload_as_a_whole(stocked: Tenant) -> None:
    rows: list[object] = [{"store_code": "W1", "sku": "MILK", "quantity": 5},
                          {"store_code": "W1", "sku": "MILK", "quantity": True}, "junk"]
    result = upsert_stock(None, stocked, rows)  # type: ignore[arg-type]
    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [(2, "quantity"), (3, "")]
    assert not Stock.objects.exists()


# --- the `linia import` command ------------------------------------------------------------------------

def test_cli_exit_codes(tenant: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = write(tmp_path, "s.csv", "code,name,city\nA1,One,Warszawa\n")
    code, out, _ = run_cli(monkeypatch, "stores", str(good), "--tenant", "lid")
    assert code == 0 and "1 created" in out
    bad = write(tmp_path, "b.csv", "code,name,city\n" + "".join(f"B{i},,Warszawa\n" for i in range(60)))
    code, _, err = run_cli(monkeypatch, "stores", str(bad), "--tenant", "lid")
    assert code == 2
    assert "row 2, name: name is empty" in err and "and 10 more errors" in err and "nothing was written" in err
    assert not Store.objects.filter(code__startswith="B").exists()
    code, out, _ = run_cli(monkeypatch, "stores", str(bad), "--tenant", "lid", "--skip-invalid")
    assert code == 0 and "60 skipped" in out
    code, _, err = run_cli(monkeypatch, "stores", str(good), "--tenant", "nobody")
    assert code == 2 and "unknown tenant 'nobody'" in err and "lid" in err
    code, _, err = run_cli(monkeypatch, "stores", str(tmp_path / "missing.csv"), "--tenant", "lid")
    assert code == 2 and "file not found" in err
    code, _, err = run_cli(monkeypatch, "stores", str(write(tmp_path, "x.ods", "x")), "--tenant", "lid")
    assert code == 2 and "unknown file type" in err
    code, _, _ = run_cli(monkeypatch, "shops", str(good), "--tenant", "lid")
    assert code == 2


def test_cli_dry_run(tenant: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "s.csv", "code,name,city\nA1,One,Warszawa\n")
    code, out, _ = run_cli(monkeypatch, "stores", str(path), "--tenant", "lid", "--dry-run")
    assert code == 0 and "dry run" in out and "1 created" in out
    assert not Store.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=False)
def test_linia_import_as_a_process(tmp_path: Path) -> None:
    """The installed `linia` script against a migrated SQLite database in its own LINIA_HOME."""
    env = {**os.environ, "LINIA_HOME": str(tmp_path / "home"), "DJANGO_SETTINGS_MODULE": "linia.settings"}
    env.pop("DATABASE_URL", None)
    linia_bin = str(Path(sys.executable).parent / "linia")

    def sh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([linia_bin, *args], env=env, capture_output=True, text=True, timeout=300, check=False)

    assert sh("migrate", "--skip-checks", "-v0").returncode == 0
    made = sh("shell", "-c", "from linia.core.models import Tenant; "
              "Tenant.objects.create(slug='lid', name='Lid', ticket_prefix='LID')")
    assert made.returncode == 0, made.stderr
    good = sh("import", "stores", str(FIXTURES / "stores.csv"), "--tenant", "lid")
    assert good.returncode == 0 and "2 created" in good.stdout, good.stderr
    bad_file = write(tmp_path, "bad.csv", "store_code,sku,quantity\nVL001,NOPE,1\n")
    bad = sh("import", "stock", str(bad_file), "--tenant", "lid")
    assert bad.returncode == 2
    assert "row 2, sku: unknown SKU 'NOPE'" in bad.stderr


def test_progress_lines_on_a_non_terminal(tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "s.csv", "code,name,city\n" + "".join(f"A{i},S{i},Warszawa\n" for i in range(1500)))
    import_file(None, tenant, "stores", path, progress=True)
    assert "stores: s.csv: 1500 rows read" in capsys.readouterr().err
    import_file(None, tenant, "stores", path)
    assert capsys.readouterr().err == ""


def test_a_flood_of_errors_keeps_the_first_thousand_messages_and_counts_all(stocked: Tenant) -> None:
    rows: list[dict[str, object]] = [{"store_code": f"X{i}", "sku": "MILK", "quantity": 1} for i in range(1200)]
    result = upsert_stock(None, stocked, rows, skip_invalid=True)
    assert (result.error_count, result.skipped, len(result.errors)) == (1200, 1200, 1000)
    assert result.report()[-1] == "... and 1150 more errors (1200 in all)"
    assert result.counts()["errors"] == 1200


def test_large_push_counts_across_statements(stocked: Tenant) -> None:
    Product.objects.bulk_create([Product(tenant=stocked, sku=f"P{i}", name=f"P{i}") for i in range(1300)])
    rows: list[dict[str, object]] = [
        {"store_code": code, "sku": f"P{i}", "quantity": i % 7, **({"updated_at": "2026-11-25T10:00Z"} if i % 2 else {})}
        for code in ("W1", "V1") for i in range(1300)]
    assert upsert_stock(None, stocked, rows).counts()["created"] == 2600
    assert upsert_stock(None, stocked, rows).counts() == {"created": 0, "updated": 0, "unchanged": 2600,
                                                          "skipped": 0, "errors": 0}
    for row in rows[:3] + rows[-2:]:
        row["quantity"] = 100
    again = upsert_stock(None, stocked, rows)
    assert (again.created, again.updated, again.unchanged) == (0, 5, 2595)
    assert Stock.objects.filter(tenant=stocked, quantity=100).count() == 5
