"""The chat widget end to end in Debian's chromium: a customer on the demo shop page, an agent at the desk.

A real `linia serve` (SQLite, Redis channel layer so that agent actions run in another process reach the
server's websockets) is stopped and started again mid-conversation: the widget reconnects, resends what was
not acknowledged and fetches what it missed, and nothing is lost or shown twice. Screenshots of every widget
screen go to test-artifacts/widget/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import struct
import subprocess
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.liveserver import LINIA, free_port, linia_env, wait_for_http

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("LINIA_ARTIFACTS") or ROOT / "test-artifacts") / "widget"
REDIS = ("127.0.0.1", 6379)
CLAIM = "linia-widget-e2e"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LIVE = 20_000  # ms: a reconnect waits for the widget's backoff (at most 15 s)

try:
    from playwright.sync_api import Browser, FilePayload, Page, Route, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]


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
    pytest.mark.skipif(importlib.util.find_spec("linia.intake.chat.actions") is None,
                       reason="the chat backend (linia.intake.chat.actions) is not there yet"),
]

# Markup in every field a visitor or an agent can fill, and in the channel's own texts: it must come out as text.
XSS = "<img src=x onerror=\"window.__xss=1\">"
XSS_SCRIPT = "<script>window.__xss=2</script>"
FILE_NAME = "<img src=x onerror=window.__xss=3>.png"  # no quotes: browsers send them in a file name as %22

SEED = f"""
from datetime import timedelta
from django.utils import timezone
from linia.core.models import Membership, Role, Tenant, User
from linia.routing.models import AgentProfile, Queue
from linia.intake.chat.actions import ensure_chat_channel
from linia.intake.chat.models import ChatChannel
xss = {XSS!r}
t = Tenant.objects.create(slug="quickdrop", name="QuickDrop", ticket_prefix="QD", time_zone="UTC",
                          default_language="en")
q = Queue.objects.create(tenant=t, code="chat", name="Chat", channels=["chat"], offer_timeout_seconds=300)
u = User.objects.create_user(username="anna", password="pass12345", first_name="Anna " + xss, last_name="Lis")
Membership.objects.create(user=u, tenant=t, role=Role.AGENT)
AgentProfile.objects.update_or_create(user=u, defaults={{"languages": ["en", "fr"]}})  # chats carry a language
ensure_chat_channel(t, queue=q, name="QuickDrop " + xss, greeting={{"en": "Hello! " + xss}},
                    colours={{"primary": "#7a1fa2", "on_primary": "#ffffff"}},
                    topics=[{{"code": "parcel", "labels": {{"en": "Parcel " + {XSS_SCRIPT!r}}}}}])
ChatChannel.objects.filter(public_key="demo-quickdrop").update(consent_required=True,
                                                               consent_text={{"en": "I agree " + xss}})
# a tenant whose chat queue is closed now: its chats become tickets (offline mode)
m = Tenant.objects.create(slug="maison-mode", name="Maison Mode", ticket_prefix="MM", time_zone="UTC",
                          default_language="fr")
later = timezone.now() + timedelta(hours=12)
window = later.strftime("%H:%M") + "-" + (later + timedelta(minutes=1)).strftime("%H:%M")
closed = Queue.objects.create(tenant=m, code="chat", name="Chat", channels=["chat"],
                              opening_hours={{d: [window] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
ensure_chat_channel(m, queue=closed)
"""


def _redis_claim() -> Any:
    import redis

    for index in range(8, 16):
        client = redis.Redis(host=REDIS[0], port=REDIS[1], db=index)
        if client.set(CLAIM, str(os.getpid()), nx=True, ex=900):
            return index, client
    pytest.skip("no free Redis database (8-15) for the browser test")


class Server:
    """`linia serve` on a fixed port that the test can stop and start again (the widget must survive it)."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home, self.env, self.port = home, env, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.home / "server.log").open("a") as log:
            self.proc = subprocess.Popen([LINIA, "serve", "--port", str(self.port), "--no-migrate"], env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT)
        wait_for_http(self.base + "/accounts/login/")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def shell(self, code: str) -> str:
        out = subprocess.run([LINIA, "shell", "-c", code], env=self.env, check=True, capture_output=True, text=True,
                             timeout=60).stdout.strip()
        return out.splitlines()[-1] if out else ""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db, client = _redis_claim()
    home = tmp_path_factory.mktemp("linia-widget")
    env = linia_env(home, REDIS_URL=f"redis://{REDIS[0]}:{REDIS[1]}/{db}")
    try:
        subprocess.run([LINIA, "migrate", "--verbosity", "0"], env=env, check=True, capture_output=True, timeout=120)
        srv = Server(home, env)
        srv.shell(SEED)
        srv.start()
        try:
            yield srv
        finally:
            srv.stop()
    finally:
        client.delete(CLAIM)


@contextmanager
def _browser() -> Iterator[Browser]:
    assert sync_playwright is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), animations="disabled")


def _customer(browser: Browser, base: str, slug: str, locale: str = "en-GB") -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 860}, locale=locale).new_page()
    page.on("dialog", lambda d: pytest.fail(f"a dialog opened: {d.message}"))
    page.goto(f"{base}/shop/{slug}/")
    return page


def _active(page: Page) -> str:
    """What has the keyboard focus inside the widget's shadow root (id, or tag and class)."""
    return str(page.evaluate("""() => { const r = document.getElementById('linia-chat').shadowRoot;
        const a = r.activeElement; return a ? (a.id || a.tagName.toLowerCase() + '.' + a.className) : ''; }"""))


def _no_script_ran(page: Page) -> None:
    assert page.evaluate("window.__xss") is None, "markup from chat data was executed"


def _bubbles(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(".log .m .txt").all_inner_texts()]


def _visitor_task(server: Server) -> int:
    return int(server.shell("from linia.routing.models import Task; "
                            "print(Task.objects.get(channel='chat', tenant__slug='quickdrop').pk)"))


def _agent_send(server: Server, task: int, text: str) -> None:
    server.shell("from linia.core.models import User; from linia.intake.chat import actions; "
                 f"actions.agent_send(User.objects.get(username='anna'), {task}, {text!r})")


def _png() -> bytes:
    """A 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x7a\x1f\xa2\xff")) + chunk(b"IEND", b""))


def _open_chat_by_keyboard(page: Page) -> None:
    page.keyboard.press("Shift+Tab")  # from the top of the page, backwards: the widget's button is last
    assert _active(page).startswith("button.launch"), _active(page)
    page.keyboard.press("Enter")
    expect(page.locator("[role=dialog]")).to_be_visible()
    expect(page.locator("#lc-f-name")).to_be_focused()


def test_customer_chats_with_an_agent_across_a_server_restart_and_a_reload(server: Server) -> None:
    base = server.base
    with _browser() as browser:
        page = _customer(browser, base, "quickdrop")
        launcher = page.locator("button.launch")
        expect(launcher).to_have_attribute("aria-label", "Open chat")
        _shot(page, "01-shop-page")

        # keyboard only: open, fill the pre-chat form (one bad field first), send
        _open_chat_by_keyboard(page)
        dialog = page.locator("[role=dialog]")
        expect(dialog.locator("h2")).to_have_text("QuickDrop " + XSS)  # the channel name, as text
        expect(dialog).to_contain_text("Hello! " + XSS)  # greeting
        # the channel's colour; the shop page's own rule `button{font-size:30px !important}` does not reach it
        expect(launcher).to_have_css("background-color", "rgb(122, 31, 162)")
        expect(dialog.locator("button[type=submit]")).to_have_css("font-size", "14px")
        page.keyboard.type("Jan " + XSS)
        page.keyboard.press("Tab")  # email
        page.keyboard.press("Tab")  # phone
        page.keyboard.type("not a phone")
        page.keyboard.press("Tab")  # topic
        page.keyboard.press("ArrowDown")
        expect(page.locator("#lc-f-topic")).to_have_value("parcel")
        expect(page.locator("#lc-f-topic option").nth(1)).to_have_text("Parcel " + XSS_SCRIPT)
        page.keyboard.press("Tab")  # first message
        page.keyboard.type("Where is my parcel? " + XSS_SCRIPT)
        page.keyboard.press("Tab")  # consent
        expect(page.locator("[data-field=consent]")).to_contain_text("I agree " + XSS)
        page.keyboard.press("Space")
        expect(page.locator("#lc-f-consent")).to_be_checked()
        page.keyboard.press("Tab")  # start
        page.keyboard.press("Enter")
        phone_error = page.locator("#lc-e-phone")
        expect(phone_error).to_be_visible()  # the server's field error, next to the field
        expect(page.locator("#lc-f-phone")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#lc-f-phone")).to_be_focused()
        _shot(page, "02-prechat-field-error")
        page.keyboard.press("Control+A")
        page.keyboard.type("+44 20 7946 0018")
        for _field in ("topic", "text", "consent", "start"):
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        log = page.locator("[role=log]")
        expect(log.locator(".m.visitor .txt")).to_have_text(["Where is my parcel? " + XSS_SCRIPT])
        expect(page.locator("[role=status]").first).to_contain_text("queue", timeout=LIVE)
        assert _active(page) == "textarea.", _active(page)  # the message box
        _shot(page, "03-chat-waiting")

        # the agent accepts the chat at the desk in a second browser context and answers
        agent = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        agent.goto(f"{base}/accounts/login/?next=/desk/agent/")
        agent.fill("#id_username", "anna")
        agent.fill("#id_password", "pass12345")
        agent.click("button[type=submit]")
        agent.wait_for_url("**/desk/agent/")
        expect(agent.locator("#conn")).to_have_class("rt-conn online")
        agent.click("#btn-ready")
        expect(agent.locator("#offer")).to_be_visible(timeout=LIVE)
        agent.click("#btn-accept")
        expect(agent.locator("#offer")).to_be_hidden()
        task = _visitor_task(server)
        desk = agent.locator(".rt-task:not([hidden])")
        desk_log = desk.locator("[data-chat-log]")
        expect(desk_log).to_contain_text("Where is my parcel? " + XSS_SCRIPT)  # the visitor's markup, as text
        composer = desk.locator("[data-chat-input]")
        composer.fill("Hello Jan, let me check. " + XSS)
        composer.press("Enter")
        agent_name = page.locator(".agent-name")
        expect(agent_name).to_have_text("Anna " + XSS, timeout=LIVE)
        expect(log.locator(".m.agent .txt")).to_have_text(["Hello Jan, let me check. " + XSS])
        _shot(page, "04-chat-with-agent")

        # typing shows on both sides
        page.keyboard.type("Thanks! " + XSS)
        expect(desk.locator("[data-chat-typing]")).not_to_be_empty(timeout=LIVE)
        _shot(agent, "04b-desk-sees-visitor-typing")
        page.keyboard.press("Enter")
        expect(log.locator(".m.visitor:not(.pending) .txt")).to_have_count(2)
        expect(desk_log).to_contain_text("Thanks! " + XSS)
        composer.press_sequentially("Checking the depot", delay=300)  # the desk sends typing at most every 3 s
        expect(page.locator(".typing")).to_contain_text("is typing", timeout=LIVE)
        _shot(page, "07-agent-typing")
        composer.fill("")

        # the server goes away mid-conversation: the visitor keeps writing, the agent answers in between
        server.stop()
        expect(page.locator("[data-conn=down]")).to_have_count(1, timeout=LIVE)
        page.keyboard.type("Are you still there? 1")
        page.keyboard.press("Enter")
        page.keyboard.type("Are you still there? 2")
        page.keyboard.press("Enter")
        expect(log.locator(".m.pending")).to_have_count(2)
        _shot(page, "05-reconnecting-pending")
        _agent_send(server, task, "Your parcel is at the depot.")  # stored while no server pushes it
        server.start()
        expect(page.locator("[data-conn=up]")).to_have_count(1, timeout=LIVE)
        expect(log.locator(".m.pending")).to_have_count(0, timeout=LIVE)
        expected = ["Where is my parcel? " + XSS_SCRIPT, "Hello Jan, let me check. " + XSS, "Thanks! " + XSS,
                    "Your parcel is at the depot.", "Are you still there? 1", "Are you still there? 2"]
        expect(log.locator(".m .txt")).to_have_text(expected)
        _shot(page, "06-reconnected")

        # the browser's network goes away (no close from the server): the message waits, then goes once
        page.context.set_offline(True)
        expect(page.locator("[data-conn=down]")).to_have_count(1, timeout=1000)  # shown at once, not after 10 s
        page.keyboard.type("Back on the train")
        page.keyboard.press("Enter")
        page.wait_for_timeout(1500)
        expect(log.locator(".m.pending")).to_have_count(1)  # no acknowledgement without a network
        page.context.set_offline(False)
        expect(log.locator(".m.pending")).to_have_count(0, timeout=LIVE)
        expected.append("Back on the train")
        expect(log.locator(".m .txt")).to_have_text(expected)

        # the agent types, then answers; the visitor sees the indicator
        composer.fill("Yes, still here.")  # the desk reconnected on its own too
        composer.press("Enter")
        expect(log.locator(".m.agent .txt").last).to_have_text("Yes, still here.", timeout=LIVE)
        expect(page.locator(".typing")).to_have_count(0)
        for text in ("Are you still there? 1", "Are you still there? 2", "Back on the train"):
            expect(desk_log.locator(".rt-msg-text", has_text=text)).to_have_count(1)  # once each at the desk too
        _shot(agent, "08b-desk-after-reconnect")

        # a file with markup in its name comes back as a link with that name as text; the answer to the first
        # upload is lost on the way back (the server stored it), and the widget tries again by itself with the
        # same client_id: one message
        tries: list[str] = []

        def answer_lost_once(route: Route) -> None:
            tries.append(route.request.url)
            if len(tries) == 1:
                route.fetch()  # the server gets it and stores the file
                route.abort("connectionreset")
            else:
                route.continue_()

        uploads = re.compile(r"/files(\?|$)")
        page.route(uploads, answer_lost_once)
        page.locator("input[type=file]").set_input_files(
            files=[FilePayload(name=FILE_NAME, mimeType="image/png", buffer=_png())])
        expect(log.locator(".m.visitor img")).to_have_attribute("alt", FILE_NAME, timeout=LIVE)  # pushed at once
        for _ in range(100):  # the retry follows a second later
            if len(tries) == 2:
                break
            page.wait_for_timeout(100)
        assert len(tries) == 2, tries
        expect(page.locator("div.status[role=status]")).to_have_text("", timeout=LIVE)  # the retry got the stored message
        expect(log.locator(".m.visitor img")).to_have_count(1)
        page.unroute(uploads, answer_lost_once)

        # reload: the history comes back in order, once
        page.reload()
        launcher = page.locator("button.launch")
        expect(page.locator("[role=dialog]")).to_be_visible()
        expect(log.locator(".m .txt")).to_have_text([*expected, "Yes, still here."], timeout=LIVE)
        expect(log.locator(".m.visitor img")).to_have_count(1)
        expect(page.locator("[data-conn=up]")).to_have_count(1, timeout=LIVE)
        _shot(page, "08-after-reload")
        seqs = page.evaluate("""() => [...document.getElementById('linia-chat').shadowRoot
            .querySelectorAll('.log .m')].map(m => +m.dataset.seq)""")
        assert seqs == sorted(set(seqs)) and len(seqs) == 9, seqs
        stored = json.loads(server.shell(
            "import json; from linia.intake.chat.models import ChatMessage; "
            "print(json.dumps(list(ChatMessage.objects.filter(sender='visitor').order_by('seq')"
            ".values_list('text', flat=True))))"))
        assert stored == ["Where is my parcel? " + XSS_SCRIPT, "Thanks! " + XSS, "Are you still there? 1",
                          "Are you still there? 2", "Back on the train", ""], stored  # each once (the last one is the file)

        # Esc closes and gives the focus back to the button; Enter opens again
        page.locator("[role=dialog] textarea").focus()
        page.keyboard.press("Escape")
        expect(page.locator("[role=dialog]")).to_be_hidden()
        assert _active(page).startswith("button.launch")
        expect(launcher).to_have_attribute("aria-expanded", "false")
        page.keyboard.press("Enter")
        expect(page.locator("[role=dialog]")).to_be_visible()

        # the visitor ends the chat, rates it and asks for the transcript
        page.locator("button.end").click()
        expect(page.locator("form[data-rating]")).to_be_visible(timeout=LIVE)
        assert _active(page) == "p.note", _active(page)  # "The chat has ended.", not lost with the message box
        _shot(page, "09-end-rating")
        page.locator("label[for=lc-f-score-4]").click()
        page.locator("#lc-f-comment").fill("Quick answer " + XSS)
        page.locator("form[data-rating] button[type=submit]").click()
        expect(page.locator("[data-thanks]")).to_be_visible()
        page.locator("#lc-f-temail").fill(XSS)
        page.locator("form[data-transcript] button[type=submit]").click()
        expect(page.locator("#lc-e-temail")).not_to_be_empty()  # the server's message, next to the field
        page.locator("#lc-f-temail").fill("jan@example.org")
        page.locator("form[data-transcript] button[type=submit]").click()
        expect(page.locator("[data-transcript-sent]")).to_be_visible()
        _shot(page, "10-rated-transcript-sent")
        rating = json.loads(server.shell(
            "import json; from linia.tickets.models import Rating; r = Rating.objects.get(); "
            "print(json.dumps([r.score, r.comment]))"))
        assert rating == [4, "Quick answer " + XSS]
        _no_script_ran(page)
        _no_script_ran(agent)


def test_offline_chat_becomes_a_ticket_in_the_visitors_language(server: Server) -> None:
    with _browser() as browser:
        page = _customer(browser, server.base, "maison-mode", locale="fr-FR")
        page.locator("button.launch").click()
        dialog = page.locator("[role=dialog]")
        expect(dialog).to_have_attribute("lang", "fr")
        expect(page.locator("[data-offline]")).to_be_visible()
        page.locator("#lc-f-name").fill("Claire " + XSS)
        page.locator("#lc-f-email").fill("claire@example.fr")
        submit = page.locator("form button[type=submit]")
        expect(submit).to_have_text("Envoyer le message")
        submit.click()
        expect(page.locator("#lc-e-text")).to_have_text("Ce champ est obligatoire.")  # offline: a message is needed
        _shot(page, "11-offline-form")
        page.locator("#lc-f-text").fill("Ma commande n’est pas arrivée " + XSS_SCRIPT)
        submit.click()
        expect(page.locator("[data-offline-sent]")).to_contain_text("MM-")
        expect(page.locator("[data-expected]")).not_to_be_empty()
        _shot(page, "12-offline-sent")
        page.reload()  # the confirmation stays for this tab's session
        page.locator("button.launch").click()
        expect(page.locator("[data-offline-sent]")).to_contain_text("MM-")
        _no_script_ran(page)


def test_widget_language_follows_the_browser_or_the_tag(server: Server) -> None:
    with _browser() as browser:
        for locale, query, label in (("ru-RU", "", "Открыть чат"), ("pl-PL", "", "Otwórz czat"),
                                     ("pl-PL", "?lang=fr", "Ouvrir le chat"), ("de-DE", "", "Open chat")):
            page = browser.new_context(locale=locale).new_page()
            page.goto(f"{server.base}/shop/quickdrop/{query}")
            expect(page.locator("button.launch")).to_have_attribute("aria-label", label)
            page.context.close()
        # a language the widget does not speak: the channel's own (French for Maison Mode) once it opens
        page = browser.new_context(locale="de-DE").new_page()
        page.goto(f"{server.base}/shop/maison-mode/")
        page.locator("button.launch").click()
        expect(page.locator("[role=dialog]")).to_have_attribute("lang", "fr")
        expect(page.locator("form button[type=submit]")).to_have_text("Envoyer le message")
        expect(page.locator("button.launch")).to_have_attribute("aria-label", "Fermer le chat")
