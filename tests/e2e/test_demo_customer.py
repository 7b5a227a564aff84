"""Issue 6's "Done means", end to end in Debian's chromium against the real `linia demo`.

A new user opens the demo shop page the demo serves (Восток-Маркет, in Russian), chats and is answered by
one of the simulator's agents, fills the pizza pre-order form embedded in the shop page, and follows the
ticket from the link in the confirmation email the demo's worker wrote to LINIA_HOME/sent-mail; a store
employee (dp-store) reports a fault in the portal and an agent (dp-agent1) sees it in the desk's ticket list.
Screenshots of each screen go to $LINIA_ARTIFACTS (default test-artifacts/e2e/).
"""

from __future__ import annotations

import email
import os
import re
import time
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.demo_process import ARGS, CHROMIUM, login, running_demo, shot

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

SPEED = "20"  # the simulator's agents are ready at once; a chat is answered within seconds
REPLY_WAIT = 60_000  # ms: a simulated agent accepts the chat and writes the first reply
MAIL_WAIT_S = 60  # the worker sends the confirmation email from the outbox

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (run scripts/setup_browser.sh)"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing (run scripts/setup_browser.sh)"),
]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with running_demo(tmp_path, speed=SPEED) as running:
        yield running


def _customer(browser: Browser, base: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.goto(f"{base}/shop/vostok-market/")
    return page


def _chat(page: Page) -> None:
    page.locator("button.launch").click()
    expect(page.locator("[role=dialog]")).to_be_visible()
    page.locator("#lc-f-name").fill("Иван Петров")
    page.locator("#lc-f-email").fill("ivan.petrov@example.com")
    page.locator("#lc-f-topic").select_option(index=1)
    page.locator("[role=dialog] textarea").first.fill("Здравствуйте! Можно заказать пиццу к 19:00?")
    shot(page, "c01-shop-chat-prechat")
    page.locator("[role=dialog] form button[type=submit]").last.click()
    log = page.locator("[role=log]")
    expect(log.locator(".m.visitor .txt")).to_have_text(["Здравствуйте! Можно заказать пиццу к 19:00?"])
    expect(log.locator(".m.agent .txt").first).to_be_visible(timeout=REPLY_WAIT)  # a simulated agent answers
    expect(log.locator(".m.pending")).to_have_count(0)
    shot(page, "c02-shop-chat-answered")
    page.locator("[role=dialog] button[aria-label]").first.click()  # close the chat window (it keeps the chat)


def _preorder(page: Page) -> str:
    """Fills the pre-order form embedded in the shop page; returns the ticket reference it shows."""
    frame_el = page.locator("iframe.linia-form-frame").first
    frame_el.scroll_into_view_if_needed()
    form = page.frame_locator("iframe.linia-form-frame").first
    form.locator("#f-name").fill("Иван Петров")
    form.locator("#f-phone").fill("+7 423 200-10-20")
    form.locator("#f-email").fill("ivan.petrov@example.com")
    form.locator("#f-store_code-search").fill("Светланская")
    option = form.locator("#f-store_code option", has_text="Светланская").first
    expect(option).to_be_attached()
    form.locator("#f-store_code").select_option(option.get_attribute("value"))
    # the Svetlanskaya store is open around the clock: tomorrow noon (its local time) is within its hours
    tomorrow = page.evaluate("() => new Date(Date.now() + 86400000).toISOString().slice(0, 10)")
    form.locator("#f-pickup_date").fill(tomorrow)
    form.locator("#f-pickup_time").fill("12:00")
    form.locator("#f-items-0").fill("2")
    form.locator("#f-consent").check()
    shot(page, "c03-shop-preorder-filled")
    form.locator("button[type=submit]").click()
    reference = form.locator("#lf-reference")
    expect(reference).to_have_text(re.compile(r"^VM-\d+$"))
    shot(page, "c04-shop-preorder-done")
    return reference.inner_text()


def _emailed_link(home: Path, reference: str) -> str:
    """The customer's private link from the confirmation email the demo wrote to sent-mail."""
    deadline = time.monotonic() + MAIL_WAIT_S
    while time.monotonic() < deadline:
        for path in sorted((home / "sent-mail").glob("*")):
            msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            for part in msg.walk() if msg.is_multipart() else [msg]:
                if part.get_content_type() != "text/plain":
                    continue
                text = part.get_content()
                if reference in str(msg["Subject"]) + text and "ivan.petrov@example.com" in str(msg["To"]):
                    found = re.search(r"https?://\S+/t/[\w-]+/", text)
                    assert found, text
                    return found.group(0)
        time.sleep(0.5)
    raise AssertionError(f"no email with {reference} in {home / 'sent-mail'}")


def test_customer_chats_preorders_follows_the_emailed_link_and_a_store_fault_reaches_the_desk(
        demo: dict[str, Any]) -> None:
    base, home = demo["base"], demo["home"]
    assert f"{base}/shop/" in demo["log"], demo["log"]  # the demo tells where the shops are
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            customer = _customer(browser, base)
            shot(customer, "c00-shop-page")
            _chat(customer)
            reference = _preorder(customer)

            link = _emailed_link(home, reference)
            assert link.startswith(base + "/t/"), link  # LINIA_PUBLIC_URL is the demo's own address
            customer.goto(link)
            expect(customer.locator("main")).to_contain_text(reference)
            expect(customer.locator(".status")).to_be_visible()
            shot(customer, "c05-customer-ticket-page")

            store = login(browser, base, "dp-store", "/portal/report/")
            store.locator("input[name=kind][value=equipment]").check()
            store.locator("#r-asset").fill("CH-000777")  # dyskont: inventory numbers like CH-000101
            store.locator("#r-description").fill("Lada chłodnicza pokazuje +12°C od rana.")
            shot(store, "c06-portal-report")
            store.click(".report-form button[type=submit]")
            notice = store.locator(".messages")
            expect(notice).to_contain_text(re.compile(r"DP-\d+"))
            fault = re.search(r"DP-\d+", notice.inner_text())
            assert fault, notice.inner_text()
            shot(store, "c07-portal-reported")

            agent = login(browser, base, "dp-agent1", "/tickets/")
            row = agent.locator("tr", has_text=fault.group(0))
            expect(row).to_be_visible()
            expect(row).to_contain_text("CH-000777")
            shot(agent, "c08-desk-sees-store-fault")
        finally:
            browser.close()

