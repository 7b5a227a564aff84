"""End to end in Debian's chromium against a real `linia serve`: a store employee reports a fault with a photo,
an agent sees it in the desk list and solves it, the store employee confirms the fix; the regional service
reads its dashboard. Screenshots of each screen go to test-artifacts/portal/.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.liveserver import linia_env, live_linia

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "portal"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (run scripts/setup_browser.sh)"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing (run scripts/setup_browser.sh)"),
]

SEED = """
from linia.core.models import Membership, Role, Tenant, User
from linia.directory.models import Category, Department, Store
t = Tenant.objects.create(slug="dyskont", name="Dyskont", ticket_prefix="DP", time_zone="Europe/Warsaw",
                          default_language="pl")
region = Department.objects.create(tenant=t, code="tech-maz", name="Serwis Mazowsze", kind="technical",
                                   region="mazowieckie", email="serwis@dyskont.example")
Category.objects.create(tenant=t, code="fault-equipment", name="Equipment faults", default_department=region)
store = Store.objects.create(tenant=t, code="DP0001", name="Dyskont Warszawa Mokotów", city="Warszawa",
                             region="mazowieckie", address="ul. Wołoska 12", time_zone="Europe/Warsaw",
                             opening_hours={d: ["06:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")})
for name, role, extra in (("agnieszka", Role.STORE_STAFF, {"store": store}), ("piotr", Role.AGENT, {}),
                          ("tomasz", Role.CLIENT_STAFF, {"department": region})):
    u = User.objects.create_user(username=name, password="pass12345", first_name=name.title(),
                                 time_zone="Europe/Warsaw", language="en")
    Membership.objects.create(user=u, tenant=t, role=role, **extra)
"""


def _png(path: Path) -> Path:
    """A real 8x8 red PNG (the browser shows it as the photo's thumbnail)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xd0\x20\x20" * 8 for _ in range(8))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("linia-portal-e2e")
    with live_linia(home, linia_env(home), seed=SEED) as url:
        yield url


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass12345")
    page.press("#id_password", "Enter")


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_store_reports_agent_solves_store_confirms(base: str, tmp_path: Path) -> None:
    assert sync_playwright is not None
    photo = _png(tmp_path / "fridge.png")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            store = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(store, base, "agnieszka")
            store.wait_for_url("**/portal/tickets/")  # store staff land on their store's tickets
            expect(store.locator("h1")).to_contain_text("Dyskont Warszawa Mokotów")
            _shot(store, "01-store-tickets")

            store.click("#nav-report")
            store.wait_for_url("**/portal/report/")
            # keyboard only: the first kind is focused; Space picks it, Tab moves on to the asset
            expect(store.locator("input[name=kind][value=equipment]")).to_be_focused()
            store.keyboard.press("Space")
            store.keyboard.press("Tab")
            store.keyboard.type("Lada chłodnicza <b>CH-000101</b>")
            store.keyboard.press("Enter")  # submits without a description: the error is shown and focused
            expect(store.locator("#form-error")).to_be_focused()
            expect(store.locator("#err-description")).to_contain_text("Describe the fault.")
            expect(store.locator("#r-asset")).to_have_value("Lada chłodnicza <b>CH-000101</b>")
            _shot(store, "02-store-report-error")
            store.locator("#r-description").fill("The dairy fridge shows +11°C since 7:00.")
            store.check("input[name=urgency][value=urgent]")
            store.set_input_files("#r-photos", str(photo))
            _shot(store, "03-store-report-form")
            store.click(".report-form button[type=submit]")
            store.wait_for_url("**/portal/tickets/*/")
            expect(store.locator(".messages")).to_contain_text("Fault reported as DP-")
            expect(store.locator("#ticket-status")).to_have_text("New")
            expect(store.locator("h1")).to_contain_text("<b>CH-000101</b>")  # shown as text, not markup
            thumb = store.locator(".thumbs img")
            expect(thumb).to_be_visible()
            store.wait_for_function("() => document.querySelector('.thumbs img').naturalWidth === 8")
            reference = store.locator(".ticket-head .mono").inner_text()
            _shot(store, "04-store-ticket-reported")

            region = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            _login(region, base, "tomasz")  # the regional technical service the report was routed to
            region.wait_for_url("**/portal/")
            expect(region.locator("#open-count")).to_have_text("1")
            expect(region.locator("#recent-title + table")).to_contain_text(reference)
            _shot(region, "09-region-dashboard")

            agent = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            _login(agent, base, "piotr")
            agent.wait_for_url("**/tickets/")
            row = agent.locator("tr", has_text=reference)
            expect(row).to_contain_text("DP0001")
            _shot(agent, "05-desk-list-with-portal-report")
            row.locator("a", has_text=reference).click()
            expect(agent.locator(".thread")).to_contain_text("+11°C")
            expect(agent.locator(".thread")).to_contain_text("DP0001")
            agent.fill("textarea[name=body]", "Technician replaced the thermostat.")
            agent.click("form.reply button[type=submit]")
            expect(agent.locator(".messages")).to_contain_text("Reply sent")
            agent.select_option("#t-status", "solved")
            agent.click("#ticket-fields button[type=submit]")
            expect(agent.locator(".ticket-head .badge").first).to_have_text("Solved")
            _shot(agent, "06-desk-solved")

            store.reload()
            expect(store.locator("#ticket-status")).to_have_text("Solved")
            expect(store.locator(".thread")).to_contain_text("Technician replaced the thermostat.")
            _shot(store, "07-store-confirm-or-reopen")
            store.click("#confirm-fix")
            expect(store.locator("#ticket-status")).to_have_text("Closed")
            expect(store.locator(".messages")).to_contain_text("fix is confirmed")
            _shot(store, "08-store-closed")

            region.click("a[href='/portal/tickets/']")
            expect(region.locator("tr", has_text=reference)).to_contain_text("Closed")
            _shot(region, "10-region-tickets")
        finally:
            browser.close()
