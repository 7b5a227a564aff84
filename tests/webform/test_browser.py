"""In Debian's chromium against a real `linia serve`: a shop page on another origin embeds the form with the
script tag; the visitor fills it with a file and gets a ticket number; the agent sees the ticket (typed markup
shown as text); the form also works with JavaScript off. Screenshots go to test-artifacts/webform/."""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.liveserver import LINIA, free_port, linia_env, live_linia

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "webform"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
XSS = '<img src=x onerror="window.__xss=1">'

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
from linia.directory.models import Store
from linia.intake.webform.models import WebForm
t = Tenant.objects.create(slug="alfa", name="Alfa Market", ticket_prefix="ALF", time_zone="Europe/Warsaw",
                          default_language="pl", settings={"colours": {"primary": "#7a1fa2"}})
Store.objects.create(tenant=t, code="W-1", name="Mokotów", city="Warszawa", address="ul. Wołoska 12",
                     time_zone="Europe/Warsaw", opening_hours={"always": True})
Store.objects.bulk_create([Store(tenant=t, code=f"K-{n:03d}", name=f"Kraków {n}", city="Kraków",
                                  address=f"ul. Długa {n}", time_zone="Europe/Warsaw", opening_hours={"always": True})
                            for n in range(1, 221)])  # a chain too large to list: the picker searches
u = User.objects.create_user(username="anna", password="pass12345", time_zone="Europe/Warsaw")
Membership.objects.create(user=u, tenant=t, role=Role.SUPERVISOR)
WebForm.objects.create(tenant=t, public_key="alfa-complaint", name="Complaint",
    titles={"en": "Product complaint", "pl": "Reklamacja"}, subject="Complaint: {product}",
    allowed_origins=["HOST_ORIGIN"],
    schema={"type": "object", "required": ["name", "email", "product", "store", "photo", "consent"], "properties": {
        "name": {"type": "string", "minLength": 2}, "email": {"type": "string", "format": "email"},
        "store": {"type": "string", "format": "store"}, "product": {"type": "string", "minLength": 2},
        "details": {"type": "string"}, "photo": {"type": "string", "format": "file"},
        "consent": {"type": "boolean", "const": True}}},
    ui={"fields": {"details": {"widget": "textarea"}, "photo": {"accept": [".png", ".jpg"], "max_mb": 2},
                   "name": {"label": {"en": "Your name"}}, "consent": {"label": {"en": "I agree"}}}})
"""

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cf000000020001e221bc330000000049454e44ae426082")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("linia-webform-e2e")
    host_port = free_port()
    host_origin = f"http://127.0.0.1:{host_port}"
    env = linia_env(home)
    with live_linia(home, env, seed=SEED.replace("HOST_ORIGIN", host_origin)) as base:
        shop = home / "shop"
        shop.mkdir()
        (shop / "index.html").write_text(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Alfa shop</title></head><body>'
            '<h1>Alfa shop</h1><p>Something wrong with a product? Tell us below.</p>'
            f'<script src="{base}/static/linia/form.js" data-form="alfa-complaint" data-lang="en" '
            'data-title="Product complaint" async></script><footer>Alfa Market</footer></body></html>')
        handler = _quiet_handler(str(shop))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", host_port), handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield {"base": base, "host": host_origin, "env": env}
        finally:
            httpd.shutdown()
            httpd.server_close()


def _quiet_handler(directory: str) -> Any:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=directory, **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _ticket_count(env: dict[str, str]) -> int:
    out = subprocess.run([LINIA, "shell", "-c", "from linia.tickets.models import Ticket; "
                          "print(Ticket.objects.filter(channel='webform').count())"],
                         env=env, check=True, capture_output=True, text=True, timeout=60)
    return int(out.stdout.strip().splitlines()[-1])


def test_embedded_form_with_a_file_creates_a_ticket_the_agent_sees(site: dict[str, Any], tmp_path: Path) -> None:
    photo = tmp_path / "broken.png"
    photo.write_bytes(PNG)
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1000, "height": 800}).new_page()
            page.goto(site["host"] + "/")
            frame_el = page.locator("iframe.linia-form-frame")
            expect(frame_el).to_have_attribute("title", "Product complaint")
            form = page.frame_locator("iframe.linia-form-frame")
            expect(form.locator("h1")).to_have_text("Product complaint")
            # the iframe takes the form's height (postMessage from the form page)
            page.wait_for_function("document.querySelector('iframe.linia-form-frame').style.height !== '640px'")
            shown_at = time.monotonic()
            _shot(page, "01-shop-page-with-form")

            # Send with mistakes: errors next to the fields, typed values kept, focus on the summary.
            form.get_by_label("Your name").fill(XSS)
            form.get_by_label("Email").fill("not-an-email")
            time.sleep(max(0.0, 3.2 - (time.monotonic() - shown_at)))  # a person takes longer than 3 s
            form.get_by_role("button", name="Send").click()
            expect(form.locator("#f-email-error")).to_contain_text("email address")
            expect(form.get_by_label("Your name")).to_have_value(XSS)
            expect(form.locator("#lf-summary")).to_be_focused()
            _shot(page, "02-errors-next-to-fields")

            form.get_by_label("Email").fill("jan@example.com")
            form.get_by_label("Product").fill(f"Yoghurt {XSS}")
            expect(form.locator("#f-store option[value='K-001']")).to_have_count(0)  # 221 stores: not all listed
            form.locator("#f-store-search").fill("Mokotow")  # typo-tolerant search on the server
            expect(form.locator("#f-store option[value='W-1']")).to_have_count(1)
            form.locator("#f-store").select_option("W-1")
            expect(form.locator("#f-store-hours li")).to_have_count(7)  # the store's next days
            expect(form.locator("#f-store-hours")).to_contain_text("Europe/Warsaw")
            form.get_by_label("Details").fill("It was sour.\n" + XSS)
            form.locator("#f-photo").set_input_files(str(photo))
            form.get_by_label("I agree").check()
            form_height = frame_el.bounding_box()["height"]
            form.get_by_role("button", name="Send").click()
            expect(form.locator("#lf-reference")).to_have_text(re.compile(r"^ALF-\d+$"))
            reference = form.locator("#lf-reference").inner_text()
            link = form.locator("#lf-link").get_attribute("href") or ""
            assert "/t/" in link
            page.wait_for_function(f"document.querySelector('iframe.linia-form-frame').offsetHeight < {form_height / 2}")
            _shot(page, "03-confirmation-with-number-and-link")  # the iframe shrank to the confirmation
            assert page.evaluate("window.__xss") is None
            assert _ticket_count(site["env"]) == 1

            # The agent opens the ticket in the desk: the typed markup is shown as text, never run.
            desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            desk.goto(f"{site['base']}/accounts/login/?next=/tickets/")
            desk.fill("#id_username", "anna")
            desk.fill("#id_password", "pass12345")
            desk.click("button[type=submit]")
            desk.wait_for_url("**/tickets/")
            desk.get_by_text(reference).first.click()
            expect(desk.get_by_text("broken.png").first).to_be_visible()
            expect(desk.get_by_text("It was sour.", exact=False).first).to_be_visible()
            assert desk.evaluate("window.__xss") is None
            assert XSS in desk.locator("body").inner_text()
            _shot(desk, "04-desk-ticket-from-form")
        finally:
            browser.close()


def test_the_form_works_without_javascript(site: dict[str, Any]) -> None:
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(java_script_enabled=False, locale="pl-PL").new_page()
            page.goto(f"{site['base']}/forms/alfa-complaint/")
            expect(page.locator("h1")).to_have_text("Reklamacja")  # Accept-Language: pl
            time.sleep(3.2)
            page.get_by_role("button", name="Wyślij").click()
            expect(page.locator("#f-name-error")).to_have_text("To pole jest wymagane.")
            _shot(page, "05-no-js-errors-pl")
            page.locator("#f-name").fill("Jan Kowalski")
            expect(page.locator("#f-name-error")).to_have_count(1)
            page.locator("#f-email").fill("jan@example.com")
            page.locator("#f-product").fill("Mleko")
            page.locator("#f-store-search").fill("Wołoska")
            page.get_by_role("button", name="Znajdź sklepy").click()  # no JavaScript: the server searches
            page.locator("#f-store").select_option("W-1")
            photo = ARTIFACTS.parent / "webform-photo.png"
            photo.parent.mkdir(parents=True, exist_ok=True)
            photo.write_bytes(PNG)
            page.locator("#f-photo").set_input_files(str(photo))
            page.locator("#f-consent").check()
            page.get_by_role("button", name="Wyślij").click()
            expect(page.locator("#lf-reference")).to_have_text(re.compile(r"^ALF-\d+$"))
            _shot(page, "06-no-js-confirmation-pl")
        finally:
            browser.close()
