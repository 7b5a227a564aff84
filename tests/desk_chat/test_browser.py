"""The agent's chat tabs in Debian's chromium against a real `linia serve`: two visitors come through the
widget's own path (HTTP pre-chat form + visitor websocket, driven from Python), the agent holds both chats,
answers each (one with a canned response), sees the first-response timer stop, gets an unread badge from the
background tab, and transfers one chat to a colleague. Screenshots go to test-artifacts/desk_chat/.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.liveserver import LINIA, linia_env, live_linia

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "desk_chat"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]

try:
    from playwright.sync_api import Page, expect, sync_playwright
    from websockets.sync.client import ClientConnection, connect
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (run scripts/setup_browser.sh)"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing (run scripts/setup_browser.sh)"),
]

SEED = """
from linia.core.models import Membership, Role, Tenant, User
from linia.demo.canned import seed_canned_responses
from linia.intake.chat.actions import ensure_chat_channel
from linia.routing.models import AgentProfile, Disposition, Queue
t = Tenant.objects.create(slug="spar", name="Spar East", ticket_prefix="SPR", time_zone="Europe/Warsaw",
                          default_language="en", settings={"store_hours": "every day 08:00–22:00"})
q = Queue.objects.create(tenant=t, code="chat", name="Web chat", channels=["chat"], offer_timeout_seconds=120,
                         target_answer_seconds=120, wrapup_seconds=0)
ensure_chat_channel(t, queue=q, public_key="pk_spar")
Disposition.objects.create(tenant=t, code="solved", name="Solved")
for name, first, last in (("anna", "Anna", "Kowalska"), ("boris", "Boris", "Lis")):
    u = User.objects.create_user(username=name, password="pass12345", first_name=first, last_name=last,
                                 time_zone="Europe/Warsaw")
    Membership.objects.create(user=u, tenant=t, role=Role.AGENT)
    AgentProfile.objects.create(user=u, capacity={"call": 1, "chat": 3})
seed_canned_responses([t])
"""
BORIS_READY = """
from linia.core.models import User
from linia.routing import actions
boris = User.objects.get(username="boris")
actions.set_presence(boris, boris, "available")
"""


def _png(width: int = 160, height: int = 100) -> bytes:
    """A small solid-colour PNG (a photo stand-in big enough to see in the screenshots)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x2e\x7d\x32" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = _png()
AGE = """
from datetime import timedelta
from django.utils import timezone
from linia.routing.models import Task
task = next(t for t in Task.objects.filter(channel="chat") if t.attributes.get("visitor") == "Olga")
Task.objects.filter(pk=task.pk).update(queued_at=timezone.now() - timedelta(seconds=SECONDS))
"""
REPORT = """
import json
from linia.routing.models import Task
from linia.intake.chat.models import ChatMessage
print(json.dumps({"tasks": [[t.pk, t.status, t.assigned_to.username if t.assigned_to else None,
                            t.first_response_at is not None] for t in Task.objects.order_by("pk")],
                  "agent_messages": list(ChatMessage.objects.filter(sender="agent").order_by("pk")
                                         .values_list("text", flat=True))}))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("linia-chat-e2e")
    env = linia_env(home)

    def linia(code: str) -> str:
        return subprocess.run([LINIA, "shell", "-c", code], env=env, check=True, capture_output=True, text=True,
                              timeout=120).stdout

    with live_linia(home, env, seed=SEED) as base:
        yield {"base": base, "linia": linia, "home": home}


class Visitor:
    """A customer through the widget's path: the pre-chat form over HTTP, then the visitor websocket."""

    def __init__(self, base: str, name: str, text: str) -> None:
        body = json.dumps({"name": name, "email": f"{name.lower()}@example.com", "consent": True, "language": "en",
                           "page_url": base + "/shop/", "text": text}).encode()
        request = urllib.request.Request(f"{base}/chat/api/pk_spar/sessions", data=body, method="POST",  # noqa: S310
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (local test server)
            assert response.status == 201
            self.session = json.loads(response.read())
        # Entered by hand: the socket outlives this method (close() leaves it); websockets 17 warns otherwise.
        self.ws: ClientConnection = connect(f"{base.replace('http', 'ws', 1)}/ws/chat/pk_spar/"
                                            f"?token={self.session['token']}").__enter__()
        self.ws.send(json.dumps({"type": "resume", "after_seq": 0}))
        self.seen: list[dict[str, Any]] = []

    def wait(self, found: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for message in self.seen:
            if found(message):
                return message
        while time.monotonic() < deadline:
            try:
                message = json.loads(self.ws.recv(timeout=max(0.05, deadline - time.monotonic())))
            except TimeoutError:
                break
            self.seen.append(message)
            if found(message):
                return message
        raise AssertionError(f"not received; got {self.seen}")

    def agent_said(self, text: str) -> dict[str, Any]:
        return self.wait(lambda m: m.get("type") == "message" and m.get("sender") == "agent" and text in m["text"])

    def send_file(self, base: str, name: str, data: bytes, content_type: str) -> None:
        """The widget's file upload (multipart: file, client_id)."""
        boundary = "----linia-test-boundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\nfile-{name}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(  # noqa: S310
            f"{base}/chat/api/pk_spar/sessions/{self.session['token']}/files", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (local test server)
            assert response.status == 201

    def send(self, text: str, client_id: str) -> None:
        self.ws.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))

    def close(self) -> None:
        self.ws.close()


def _login(page: Page, base: str, username: str, target: str) -> None:
    page.goto(f"{base}/accounts/login/?next={target}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _take_offer(page: Page, who: str) -> None:
    offer = page.locator("#offer")
    expect(offer).to_be_visible(timeout=10000)
    expect(offer).to_contain_text(who)
    page.keyboard.press("Alt+KeyA")
    expect(offer).to_be_hidden()


def test_agent_holds_two_chats_answers_both_uses_a_canned_response_and_transfers_one(server: dict[str, Any]) -> None:
    base = server["base"]
    assert sync_playwright is not None
    visitors: list[Visitor] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
            _login(page, base, "anna", "/desk/agent/")
            expect(page.locator("#conn")).to_have_class("rt-conn online")
            page.click("#btn-ready")
            expect(page.locator("#presence-label")).to_have_text("Available")

            ivan = Visitor(base, "Ivan", "Hello, where is my order 123?")
            visitors.append(ivan)
            _take_offer(page, "Ivan")
            first = page.locator(".rt-task:not([hidden])")
            expect(first.locator("[data-chat-log]")).to_contain_text("Hello, where is my order 123?")
            timer = first.locator("[data-frt]")
            expect(timer).to_have_attribute("data-done", "0")
            expect(timer).to_contain_text("First reply:")
            expect(timer).to_contain_text("of 2:00")
            ivan.wait(lambda m: m.get("type") == "state" and m.get("status") == "active")

            olga = Visitor(base, "Olga", "Is the store open on Sunday?")
            visitors.append(olga)
            _take_offer(page, "Olga")
            expect(page.locator(".rt-tab[data-channel=chat]")).to_have_count(2)
            second = page.locator(".rt-task:not([hidden])")
            expect(second.locator("[data-chat-log]")).to_contain_text("Is the store open on Sunday?")
            expect(page.locator("#load")).to_contain_text("2/3")
            _shot(page, "01-two-chats")

            # Ivan's tab (Alt+1): a canned response by "/" search, placeholders filled, Enter inserts, Enter sends
            page.keyboard.press("Alt+Digit1")
            composer = first.locator("[data-chat-input]")
            expect(composer).to_be_focused()
            composer.type("/hel")
            picker = first.locator("[data-canned]")
            expect(picker).to_be_visible()
            expect(picker.locator(".rt-canned-item").first).to_contain_text("Greeting")
            _shot(page, "02-canned-picker")
            composer.press("Enter")
            expect(composer).to_have_value("Hello Ivan, this is Anna. How can I help you?")
            composer.press("Shift+Enter")
            composer.type("Your order is on its way.")
            composer.press("Enter")
            expect(composer).to_have_value("")
            said = ivan.agent_said("How can I help you?")
            assert said["text"] == "Hello Ivan, this is Anna. How can I help you?\nYour order is on its way."
            assert said["agent"]["name"] == "Anna"
            expect(first.locator(".rt-msg.from-agent:not(.pending)")).to_have_count(1)
            expect(timer).to_have_attribute("data-done", "1")
            expect(timer).to_contain_text("First reply in")
            stopped = timer.text_content()
            page.wait_for_timeout(1500)
            assert timer.text_content() == stopped  # the timer stopped at the first reply

            # Olga writes while her tab is in the background: an unread badge; the customer types in Ivan's chat
            olga.send("Also, do you have oat milk?", "olga-2")
            badge = page.locator(".rt-tab[data-channel=chat]", has_text="Olga").locator("[data-unread]")
            expect(badge).to_have_text("1")
            ivan.ws.send(json.dumps({"type": "typing", "on": True}))
            expect(first.locator("[data-chat-typing]")).to_have_text("The customer is typing…")
            _shot(page, "03-unread-and-typing")

            # Olga's tab (Alt+2): the badge goes; Ctrl+/ opens the picker, the store hours answer is filled
            page.keyboard.press("Alt+Digit2")
            expect(badge).to_have_count(0)
            olga_box = second.locator("[data-chat-input]")
            expect(olga_box).to_be_focused()
            expect(second.locator("[data-chat-log]")).to_contain_text("Also, do you have oat milk?")
            # the timer turns amber from 75 % of the 2-minute target and red after it (Olga "waited" that long)
            olga_timer = second.locator("[data-frt]")
            expect(olga_timer).to_have_attribute("data-level", "ok")
            for seconds, level in ((100, "warn"), (130, "late")):
                server["linia"](AGE.replace("SECONDS", str(seconds)))
                page.evaluate("() => window.LiniaRT.conn.send({op: 'snapshot'})")
                expect(olga_timer).to_have_attribute("data-level", level)
            expect(olga_timer).to_contain_text("of 2:00")
            page.keyboard.press("Control+Slash")
            expect(second.locator("[data-canned]")).to_be_visible()
            second.locator(".rt-canned-item", has_text="Store hours").click()
            expect(olga_box).to_have_value("Our store is open: every day 08:00–22:00.")
            olga_box.press("Enter")
            olga.agent_said("every day 08:00–22:00")
            expect(olga_timer).to_have_attribute("data-done", "1")
            expect(olga_timer).to_have_text(re.compile(r"First reply in 2:\d\d"))  # stopped, over the target
            expect(olga_timer).to_have_attribute("data-level", "late")
            _shot(page, "04-second-chat-answered")

            # Ivan sends a photo: a thumbnail in his (background) tab, served by the desk from the ticket
            ivan.send_file(base, "receipt.png", PNG, "image/png")
            page.keyboard.press("Alt+Digit1")
            thumb = first.locator("img.rt-thumb")
            expect(thumb).to_be_visible()
            assert "/tickets/" in (first.locator("a.rt-att").get_attribute("href") or "")
            page.wait_for_function("() => { const i = document.querySelector('.rt-task:not([hidden]) img.rt-thumb');"
                                   " return i && i.complete && i.naturalWidth > 0; }")

            # a network blip while the agent writes: the message waits, is resent on reconnect, arrives once
            page.evaluate("() => window.LiniaRT.conn.drop()")
            composer.type("Written while offline.")
            composer.press("Enter")
            expect(first.locator(".rt-msg.pending")).to_have_count(1)
            expect(page.locator("#conn")).to_have_class("rt-conn online", timeout=10000)
            expect(first.locator(".rt-msg.pending")).to_have_count(0)
            ivan.agent_said("Written while offline.")
            _shot(page, "05-photo-and-resend")

            # Olga's chat goes to Boris; Ivan's stays
            page.keyboard.press("Alt+Digit2")
            server["linia"](BORIS_READY)
            second.locator("[data-transfer-agent]").select_option(label="Boris Lis")
            second.locator("[data-transfer-to-agent]").click()
            expect(page.locator(".rt-tab[data-channel=chat]")).to_have_count(1)
            expect(page.locator(".rt-tab.active")).to_contain_text("Ivan")
            expect(page.locator("#load")).to_contain_text("1/3")
            _shot(page, "06-after-transfer")

            report = json.loads(server["linia"](REPORT).strip().splitlines()[-1])
            by_owner = {row[2]: row for row in report["tasks"]}
            assert by_owner["anna"][1] == "assigned" and by_owner["anna"][3]
            assert by_owner.get("boris") is None  # offered to Boris, not yet his
            assert [row[1] for row in report["tasks"]].count("reserved") == 1
            assert report["agent_messages"] == [
                "Hello Ivan, this is Anna. How can I help you?\nYour order is on its way.",
                "Our store is open: every day 08:00–22:00.", "Written while offline."]  # each once
        finally:
            for visitor in visitors:
                visitor.close()
            browser.close()
