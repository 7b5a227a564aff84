"""End to end in Debian's chromium: a real `linia serve`, an agent and a supervisor in two browser contexts.

The call is created by a separate process (like the PBX adapter would), so the offer travels through the
Redis channel layer to the server's websockets. Screenshots go to test-artifacts/desk_rt/.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.liveserver import LINIA, linia_env, live_linia

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "desk_rt"
REDIS = ("127.0.0.1", 6379)
CLAIM = "linia-desk-rt-e2e"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def _reachable(addr: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(addr, timeout=1):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (run scripts/setup_browser.sh)"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing (run scripts/setup_browser.sh)"),
    pytest.mark.skipif(not _reachable(REDIS), reason="Redis on 127.0.0.1:6379 is needed for cross-process events"),
]

SEED = """
from linia.core.models import Membership, Role, Tenant, User
from linia.routing.models import BreakReason, Disposition, Queue
from linia.tickets import actions
t = Tenant.objects.create(slug="spar", name="Spar East", ticket_prefix="SPR", time_zone="Europe/Warsaw")
Queue.objects.create(tenant=t, code="calls", name="Customer line", channels=["call"], offer_timeout_seconds=90,
                     wrapup_seconds=120)
Queue.objects.create(tenant=t, code="tech", name="Technical line", channels=["call"])
for code, name in (("solved", "Solved on the call"), ("callback", "Call back")):
    Disposition.objects.create(tenant=t, code=code, name=name)
for code, name in (("lunch", "Lunch"), ("coffee", "Short break")):
    BreakReason.objects.create(tenant=t, code=code, name=name)
for name, first, last, role in (("anna", "Anna", "Kowalska", Role.AGENT), ("sofia", "Sofia", "Nowak", Role.SUPERVISOR),
                               ("boris", "Boris", "Lis", Role.AGENT)):
    u = User.objects.create_user(username=name, password="pass12345", first_name=first, last_name=last,
                                 time_zone="Europe/Warsaw")
    Membership.objects.create(user=u, tenant=t, role=role)
from linia.directory.models import Store
Store.objects.create(tenant=t, code="WA-007", name="Mokotów Galeria", city="Warszawa", address="ul. Wołoska 12",
                     time_zone="Europe/Warsaw", opening_hours={d: ["08:00-22:00"] for d in
                     ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
c = actions.find_or_create_contact(None, t, name="Jan Wiśniewski", phones=["+48 601 234 567"])
actions.create_ticket(None, t, subject="Broken fridge door in the Mokotów store", channel="call", body="...",
                      contact=c.pk)
"""

CALL = """
from linia.core.models import Tenant
from linia.routing import actions
t = Tenant.objects.get(slug="spar")
actions.create_task(None, t, channel="call", queue="calls", external_id="pbx-e2e-1",
                    attributes={"caller": "+48601234567"})
actions.dispatch(t)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _redis_db() -> Iterator[int]:
    """A Redis database claimed for this server alone: parallel runs (xdist workers) seed the same user ids,
    so sharing a database would deliver one run's offers to the other's browser."""
    import redis

    for index in range(8, 16):
        client = redis.Redis(host=REDIS[0], port=REDIS[1], db=index)
        if client.set(CLAIM, str(os.getpid()), nx=True, ex=900):
            try:
                yield index
            finally:
                client.delete(CLAIM)
            return
    pytest.skip("no free Redis database (8-15) for the browser test")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with _redis_db() as db:
        yield from _serve(tmp_path_factory, db)


def _serve(tmp_path_factory: pytest.TempPathFactory, db: int) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("linia-e2e")
    env = linia_env(home, REDIS_URL=f"redis://{REDIS[0]}:{REDIS[1]}/{db}")

    def linia(*args: str) -> None:
        subprocess.run([LINIA, *args], env=env, check=True, capture_output=True, timeout=120)

    with live_linia(home, env, seed=SEED) as base:
        yield {"base": base, "linia": linia, "home": home}


def _login(page: Page, base: str, username: str, target: str) -> None:
    page.goto(f"{base}/accounts/login/?next={target}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_agent_takes_a_call_registers_a_ticket_wraps_up_and_the_supervisor_sees_it(server: dict[str, Any]) -> None:
    base = server["base"]
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            agent = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            supervisor = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            _login(agent, base, "anna", "/desk/agent/")
            _login(supervisor, base, "sofia", "/desk/supervisor/")
            expect(agent.locator("#conn")).to_have_class("rt-conn online")
            expect(supervisor.locator("#conn")).to_have_class("rt-conn online")
            expect(agent.locator("#presence-label")).to_have_text("Offline")

            agent.keyboard.press("Alt+KeyS")  # directory search panel (the desk's own search endpoint)
            agent.keyboard.type("Mokotow")
            expect(agent.locator("#store-results")).to_contain_text("Mokotów Galeria")
            agent.click("#btn-ready")
            expect(agent.locator("#presence-label")).to_have_text("Available")
            row = supervisor.locator("#agents-table tr", has_text="Anna Kowalska")
            expect(row.locator("[data-state]")).to_have_text("Available")
            _shot(agent, "01-agent-ready")

            server["linia"]("shell", "-c", CALL)  # the PBX side: another process
            offer = agent.locator("#offer")
            expect(offer).to_be_visible()
            expect(offer).to_contain_text("+48601234567")
            expect(offer).to_contain_text("Customer line")
            expect(agent).to_have_title("● Incoming · Agent desktop · Linia")
            expect(agent.locator("#offer-countdown")).to_contain_text("s")
            expect(supervisor.locator("#queues-table")).to_contain_text("Customer line")
            _shot(agent, "02-agent-offer")

            agent.keyboard.press("Alt+KeyA")  # accept by keyboard
            expect(offer).to_be_hidden()
            expect(agent).to_have_title("Agent desktop · Linia")
            expect(agent.locator(".rt-tab.active")).to_contain_text("+48601234567")
            panel = agent.locator(".rt-task:not([hidden])")
            expect(panel.locator("[data-context]")).to_contain_text("Jan Wiśniewski")
            expect(panel.locator("[data-context]")).to_contain_text("Broken fridge door")
            expect(agent.locator("#presence-label")).to_have_text("Busy")
            expect(row.locator("[data-state]")).to_have_text("Busy")
            expect(supervisor.locator("#tasks-table")).to_contain_text("Anna Kowalska")
            _shot(supervisor, "03-supervisor-busy")

            panel.locator("[data-open-ticket]").click()
            frame = panel.frame_locator("iframe")
            expect(frame.locator("#id_contact_phone")).to_have_value("+48601234567")
            frame.locator("#id_subject").fill("Fridge door still broken")
            frame.locator("#id_description").fill("Customer called again about the fridge door.")
            _shot(agent, "04-agent-call-ticket-form")
            frame.locator("button[type=submit]", has_text="Create ticket").click()
            expect(panel.locator("[data-ticket-note]")).to_contain_text("Ticket registered")

            panel.locator("[data-disposition]").select_option("solved")
            panel.locator("[data-complete]").click()
            expect(agent.locator("#wrapup")).to_be_visible()
            expect(agent.locator("#wrapup-left")).to_contain_text("left")
            expect(row.locator("[data-state]")).to_have_text("Wrap-up")
            _shot(agent, "05-agent-wrapup")

            agent.keyboard.press("Alt+KeyR")  # ready again
            expect(agent.locator("#presence-label")).to_have_text("Available")
            expect(agent.locator("#wrapup")).to_be_hidden()
            expect(row.locator("[data-state]")).to_have_text("Available")
            expect(agent.locator("#no-tasks")).to_be_visible()

            # the supervisor sends the agent on a break; the agent's desktop follows at once
            row.locator("select[name=state]").select_option("break")
            row.locator("select[name=reason]").select_option("Lunch")
            row.locator("button[type=submit]").click()
            expect(agent.locator("#presence-label")).to_have_text("Break")
            expect(agent.locator("#presence-reason")).to_contain_text("Lunch")
            _shot(supervisor, "06-supervisor-break")
        finally:
            browser.close()


def test_agent_desktop_reconnects_and_speaks_russian(server: dict[str, Any]) -> None:
    base = server["base"]
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.add_cookies([{"name": "django_language", "value": "ru", "url": base}])
            page = context.new_page()
            _login(page, base, "boris", "/desk/agent/")
            expect(page.locator("#conn")).to_have_text("Подключено")
            expect(page.locator("#btn-ready")).to_contain_text("Готов")
            page.click("#btn-ready")
            expect(page.locator("#presence-label")).to_have_text("Доступен")
            # a network blip: the client reconnects by itself and re-renders from a fresh snapshot
            page.evaluate("() => window.LiniaRT.conn.drop()")
            expect(page.locator("#conn")).not_to_have_text("Подключено", timeout=2000)
            expect(page.locator("#conn")).to_have_text("Подключено", timeout=10000)
            expect(page.locator("#presence-label")).to_have_text("Доступен")
            # the browser loses the network: shown at once (not when the socket times out), back when it returns
            context.set_offline(True)
            expect(page.locator("#conn")).to_have_class(re.compile("offline"), timeout=1000)
            expect(page.locator("body")).to_have_class(re.compile("rt-disconnected"))
            context.set_offline(False)
            expect(page.locator("#conn")).to_have_text("Подключено", timeout=5000)
            expect(page.locator("#presence-label")).to_have_text("Доступен")
            page.keyboard.press("Shift+Slash")
            expect(page.locator("#shortcuts")).to_be_visible()
            expect(page.locator("#shortcuts")).to_contain_text("Alt+A")
            _shot(page, "07-agent-russian-help")
        finally:
            browser.close()
