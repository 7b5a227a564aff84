"""Issue 4's "Done means", end to end in Debian's chromium against the real `linia demo`.

`linia demo` runs as a subprocess (own LINIA_HOME, free port, traffic simulators at twenty times real speed,
stopped by its PID). A person logs in as the quickdrop agent qd-agent1 in one browser context and as the
quickdrop supervisor in another; the agent goes Ready, a chat made by the simulator is offered, the agent
accepts it, registers a ticket from the chat's tab, ends it into wrap-up and gets ready again, while the
supervisor's wallboard follows every state change without a reload. Screenshots of each screen go to
$LINIA_ARTIFACTS (default test-artifacts/e2e/).

qd-agent1 takes one chat at a time and no calls here: the simulator's callers hang up when their patience runs
out unless one of the simulator's own agents answered, so a call a person takes would end on its own within
seconds at this speed; one chat at a time keeps a second offer from covering the screen mid-way.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.liveserver import LINIA, free_port, linia_env

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("LINIA_ARTIFACTS") or ROOT / "test-artifacts") / "e2e"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
PASSWORD = "demo12345"  # printed by `linia demo`
AGENT, AGENT_NAME = "qd-agent1", "Priya Shah"  # a quickdrop agent the simulator does not drive
SUPERVISOR = "qd-supervisor"
SPEED = "20"  # quickdrop: a simulated call every ~4.5 s and a chat every ~9 s on average
LIVE_S = 5_000  # ms: a change on one screen shows on the other within this
OFFER_WAIT_S = 45_000  # ms: the next simulated chat is offered to us (P(no chat in 45 s) = e^-5)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (run scripts/setup_browser.sh)"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing (run scripts/setup_browser.sh)"),
]

CHATS_ONLY = f"""
from linia.routing.models import AgentProfile
n = AgentProfile.objects.filter(user__username="{AGENT}").update(capacity={{"call": 0, "chat": 1}})
assert n == 1, n
"""

REGISTERED = f"""
import json
from linia.routing.models import Task
print(json.dumps([[t.channel, t.status, t.ticket.subject if t.ticket else None, t.ticket.channel if t.ticket else None]
                  for t in Task.objects.filter(assigned_to__username="{AGENT}").select_related("ticket")]))
"""


def _shell(env: dict[str, str], code: str) -> str:
    """Python in `linia shell` against the demo's database; returns the last line printed."""
    out = subprocess.run([LINIA, "shell", "-c", code], env=env, check=True, capture_output=True, text=True,
                         timeout=60).stdout.strip()
    return out.splitlines()[-1] if out else ""


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (local test server)
            return True
    except OSError:
        return False


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`linia demo` serving on a free port; yields its base URL, start-up output and environment."""
    env = linia_env(tmp_path)
    port = free_port()
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([LINIA, "demo", "--small", "--tickets", "0", "--port", str(port), "--speed", SPEED,
                                 "--smtp-port", "0"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not (proc.poll() is None and "Linia on" in log_path.read_text() and _up(base + "/accounts/login/")):
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
        _shell(env, CHATS_ONLY)
        yield {"base": base, "log": log_path.read_text(), "env": env}
    finally:
        proc.send_signal(signal.SIGINT)  # the demo stops its worker and simulators (by their PIDs) itself
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            _kill_children(log_path)


def _kill_children(log_path: Path) -> None:
    """The worker and simulators of a demo that had to be killed: by the PIDs it printed, if still ours."""
    for pid in set(map(int, re.findall(r"PID (\d+)", log_path.read_text()))):
        with contextlib.suppress(OSError):
            if b"linia.cli" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)


def _login(browser: Browser, base: str, username: str, target: str) -> Page:
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.goto(f"{base}/accounts/login/?next={target}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")
    return page


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, animations="disabled")


def test_agent_takes_a_simulated_chat_registers_a_ticket_wraps_up_and_the_supervisor_sees_it(
        demo: dict[str, Any]) -> None:
    base = demo["base"]
    assert re.search(r"Realtime: (Redis|in-memory)", demo["log"]), demo["log"]
    assert sync_playwright is not None
    started = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            agent = _login(browser, base, AGENT, "/desk/agent/")
            supervisor = _login(browser, base, SUPERVISOR, "/desk/supervisor/")
            expect(agent.locator("#conn")).to_have_class("rt-conn online")
            expect(supervisor.locator("#conn")).to_have_class("rt-conn online")
            expect(agent.locator("#presence-label")).to_have_text("Offline")

            # the simulator's agents are on the wallboard, taking the simulated traffic
            expect(supervisor.locator("#agents-table")).to_contain_text("Sim Agent 04", timeout=LIVE_S)
            expect(supervisor.locator("#queues-table")).to_contain_text("Chat")
            row = supervisor.locator("#agents-table tr", has_text=AGENT_NAME)
            expect(row.locator("[data-state]")).to_have_text("Offline")
            _shot(supervisor, "01-supervisor-before")

            agent.click("#btn-ready")
            expect(agent.locator("#presence-label")).to_have_text("Available")
            expect(row.locator("[data-state]")).to_have_text("Available", timeout=LIVE_S)
            _shot(agent, "02-agent-ready")

            offer = agent.locator("#offer")
            expect(offer).to_be_visible(timeout=OFFER_WAIT_S)  # a chat made by the simulator
            expect(agent.locator("#offer-title")).to_contain_text("Chat")
            expect(agent.locator("#offer-body")).to_contain_text("Chat")
            expect(agent).to_have_title(re.compile(r"^● Incoming · "))
            _shot(agent, "03-agent-offer")

            agent.click("#btn-accept")
            expect(offer).to_be_hidden()
            expect(agent.locator("#presence-label")).to_have_text("Busy")
            expect(agent.locator(".rt-tab.active")).to_contain_text("Chat")
            expect(row.locator("[data-state]")).to_have_text("Busy", timeout=LIVE_S)
            expect(supervisor.locator("#tasks-table")).to_contain_text(AGENT_NAME, timeout=LIVE_S)
            _shot(supervisor, "04-supervisor-agent-busy")

            panel = agent.locator(".rt-task:not([hidden])")
            panel.locator("[data-open-ticket]").click()
            frame = panel.frame_locator("iframe")
            frame.locator("#id_subject").fill("Parcel not delivered, customer asked in chat")
            frame.locator("#id_description").fill("The courier marked the parcel delivered; the customer has not got it.")
            _shot(agent, "05-agent-ticket-form")
            frame.locator("button[type=submit]", has_text="Create ticket").click()
            expect(panel.locator("[data-ticket-note]")).to_contain_text("Ticket registered")
            expect(panel.locator("[data-ticket-note] a")).to_have_attribute("href", re.compile(r"^/tickets/\d+/$"))
            _shot(agent, "06-agent-ticket-registered")

            panel.locator("[data-disposition]").select_option("ticket")
            panel.locator("[data-complete]").click()
            expect(agent.locator("#wrapup")).to_be_visible()
            expect(agent.locator("#presence-label")).to_have_text("Wrap-up")
            expect(row.locator("[data-state]")).to_have_text("Wrap-up", timeout=LIVE_S)
            _shot(agent, "07-agent-wrapup")
            _shot(supervisor, "08-supervisor-agent-wrapup")

            agent.click("#btn-finish-wrapup")
            expect(agent.locator("#wrapup")).to_be_hidden()
            expect(row.locator("[data-state]")).to_have_text(re.compile("Available|Busy"), timeout=LIVE_S)
            _shot(supervisor, "09-supervisor-agent-ready")
        finally:
            browser.close()
    # the chat went through routing to our agent and carries the ticket registered from its tab
    tasks = json.loads(_shell(demo["env"], REGISTERED))
    assert [(c, s in {"wrap_up", "completed"}, subject, ticket_channel) for c, s, subject, ticket_channel in tasks] \
        == [("chat", True, "Parcel not delivered, customer asked in chat", "chat")], tasks
    assert time.monotonic() - started < 60
