"""Issue 4's "Done means", end to end in Debian's chromium against the real `linia demo`.

`linia demo` runs as a subprocess (own LINIA_HOME, free port, traffic simulators at twenty times real speed,
stopped by its PID). A person logs in as the quickdrop agent qd-agent1 in one browser context and as the
quickdrop supervisor in another; the agent goes Ready, a chat made by the simulator is offered, the agent
accepts it, answers in the chat (which came with its ticket), ends it into wrap-up and gets ready again, while the
supervisor's wallboard follows every state change without a reload. Screenshots of each screen go to
$LINIA_ARTIFACTS (default test-artifacts/e2e/).

qd-agent1 takes one chat at a time and no calls here: the simulator's callers hang up when their patience runs
out unless one of the simulator's own agents answered, so a call a person takes would end on its own within
seconds at this speed; one chat at a time keeps a second offer from covering the screen mid-way.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.demo_process import ARGS, CHROMIUM, login, running_demo, shell, shot
from tests.liveserver import LINIA

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

AGENT, AGENT_NAME = "qd-agent1", "Priya Shah"  # a quickdrop agent the simulator does not drive
SUPERVISOR = "qd-supervisor"
SPEED = "20"  # quickdrop: a simulated call every ~4.5 s and a chat every ~9 s on average
LIVE_S = 5_000  # ms: a change on one screen shows on the other within this
OFFER_WAIT_S = 90_000  # ms: the next simulated chat is offered to us (a chat every ~9 s: P(none in 90 s) = e^-10)

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

REPLY = "Hello! I am checking where your parcel is."
REGISTERED = f"""
import json
from linia.routing.models import Task
print(json.dumps([[t.channel, t.status, t.ticket.channel if t.ticket else None,
                   bool(t.ticket and t.ticket.messages.filter(body_text="{REPLY}", author_user__username="{AGENT}")),
                   sorted(t.ticket.tags.values_list("name", flat=True)) if t.ticket else []]
                  for t in Task.objects.filter(assigned_to__username="{AGENT}").select_related("ticket")]))
"""

# What routing did with quickdrop's chats lately: printed when the offer does not come, to tell a quiet simulator
# from a chat that went elsewhere or never got an offer.
CHATS_SEEN = """
from datetime import timedelta
from django.utils import timezone
from linia.routing.models import Reservation, Task
since = timezone.now() - timedelta(seconds=120)
for t in Task.objects.filter(tenant__slug="quickdrop", channel="chat", created_at__gte=since).order_by("pk"):
    offers = [(r.agent.username, r.status, r.offered_at.strftime("%H:%M:%S")) for r in
              Reservation.objects.filter(task=t).select_related("agent").order_by("pk")]
    print(t.pk, t.status, t.created_at.strftime("%H:%M:%S"), t.assigned_to_id, offers)
print("now", timezone.now().strftime("%H:%M:%S"))
"""


def routing_story(demo: dict[str, Any]) -> str:
    """The quickdrop chats of the last two minutes, the simulator's last lines and the demo's errors."""
    chats = subprocess.run([LINIA, "shell", "-c", CHATS_SEEN], env=demo["env"], capture_output=True, text=True,
                           timeout=60)
    sim = (demo["home"] / "simulate-quickdrop.log")
    sim_tail = sim.read_text().splitlines()[-5:] if sim.exists() else ["(no simulator log)"]
    log = demo["home"] / "demo.log"  # the demo's LINIA_HOME is the test's tmp_path, where its output goes
    errors = [line for line in log.read_text().splitlines() if re.search(r"Error|Traceback|locked", line)][-15:]
    return "\n".join(["chats:", chats.stdout + chats.stderr[-2000:], "simulator:", *sim_tail, "errors:", *errors])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with running_demo(tmp_path, speed=SPEED) as running:
        shell(running["env"], CHATS_ONLY)
        yield running


def test_agent_takes_a_simulated_chat_registers_a_ticket_wraps_up_and_the_supervisor_sees_it(
        demo: dict[str, Any]) -> None:
    base = demo["base"]
    assert re.search(r"Realtime: (Redis|in-memory)", demo["log"]), demo["log"]
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            agent = login(browser, base, AGENT, "/desk/agent/")
            supervisor = login(browser, base, SUPERVISOR, "/desk/supervisor/")
            expect(agent.locator("#conn")).to_have_class("rt-conn online")
            expect(supervisor.locator("#conn")).to_have_class("rt-conn online")
            expect(agent.locator("#presence-label")).to_have_text("Offline")

            # the simulator's agents are on the wallboard, taking the simulated traffic
            expect(supervisor.locator("#agents-table")).to_contain_text("Sim Agent 04", timeout=LIVE_S)
            expect(supervisor.locator("#queues-table")).to_contain_text("Chat")
            row = supervisor.locator("#agents-table tr", has_text=AGENT_NAME)
            expect(row.locator("[data-state]")).to_have_text("Offline")
            shot(supervisor, "01-supervisor-before")

            agent.click("#btn-ready")
            expect(agent.locator("#presence-label")).to_have_text("Available")
            expect(row.locator("[data-state]")).to_have_text("Available", timeout=LIVE_S)
            shot(agent, "02-agent-ready")

            offer = agent.locator("#offer")
            try:
                expect(offer).to_be_visible(timeout=OFFER_WAIT_S)  # a chat made by the simulator
            except AssertionError as no_offer:
                raise AssertionError(f"{no_offer}\n{routing_story(demo)}") from None
            offered = time.monotonic()  # how long the simulator's next chat takes is chance; the rest is ours
            expect(agent.locator("#offer-title")).to_contain_text("Chat")
            expect(agent.locator("#offer-body")).to_contain_text("Chat")
            expect(agent).to_have_title(re.compile(r"^● Incoming · "))
            shot(agent, "03-agent-offer")

            agent.click("#btn-accept")
            expect(offer).to_be_hidden()
            expect(agent.locator("#presence-label")).to_have_text("Busy")
            expect(agent.locator(".rt-tab.active")).to_contain_text("Chat")
            expect(row.locator("[data-state]")).to_have_text("Busy", timeout=LIVE_S)
            expect(supervisor.locator("#tasks-table")).to_contain_text(AGENT_NAME, timeout=LIVE_S)
            shot(supervisor, "04-supervisor-agent-busy")

            # the chat came in through the widget path with its ticket: the agent reads it and answers
            panel = agent.locator(".rt-task:not([hidden])")
            expect(panel.locator("[data-chat-log] .rt-msg").first).to_be_visible(timeout=LIVE_S)
            composer = panel.locator("[data-chat-input]")
            composer.fill(REPLY)
            composer.press("Enter")
            expect(panel.locator(".rt-msg.from-agent:not(.pending)", has_text=REPLY)).to_have_count(1, timeout=LIVE_S)
            shot(agent, "05-agent-chat-answered")

            # the chat's ticket (made when the chat started): the agent opens it and files it with tags
            with agent.context.expect_page() as opened:
                panel.locator("a", has_text="Open the ticket").click()
            ticket = opened.value
            ticket.wait_for_load_state()
            expect(ticket.locator(".thread")).to_contain_text(REPLY)  # the transcript is on the ticket
            ticket.fill("#t-tags", "parcel-missing")
            ticket.click("#ticket-fields button[type=submit]")
            expect(ticket.locator(".messages")).to_be_visible()
            shot(ticket, "06-agent-chat-ticket")
            ticket.close()

            panel.locator("[data-disposition]").select_option("ticket")
            panel.locator("[data-complete]").click()
            expect(agent.locator("#wrapup")).to_be_visible()
            expect(agent.locator("#presence-label")).to_have_text("Wrap-up")
            expect(row.locator("[data-state]")).to_have_text("Wrap-up", timeout=LIVE_S)
            shot(agent, "07-agent-wrapup")
            shot(supervisor, "08-supervisor-agent-wrapup")

            agent.click("#btn-finish-wrapup")
            expect(agent.locator("#wrapup")).to_be_hidden()
            expect(row.locator("[data-state]")).to_have_text(re.compile("Available|Busy"), timeout=LIVE_S)
            shot(supervisor, "09-supervisor-agent-ready")
        finally:
            browser.close()
    # the chat went through routing to our agent; its ticket carries the agent's answer (the transcript)
    tasks = json.loads(shell(demo["env"], REGISTERED))
    assert [(c, s in {"wrap_up", "completed"}, channel, answered, tags) for c, s, channel, answered, tags in tasks] \
        == [("chat", True, "chat", True, ["parcel-missing"])], tasks
    assert time.monotonic() - offered < 60  # the agent's whole path from the offer on
