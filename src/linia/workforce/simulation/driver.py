"""Drives a running Linia like its real users would (no Django here, only HTTP and websockets).

* The PBX: POST /api/v1/voice/events (offered, queued, answered, abandoned, ended) for calls on a
  route-mode line, and POST /api/v1/voice/route while a call waits (which runs the dispatcher).
* Chat customers: the chat widget's own path: POST /chat/api/<key>/sessions with the pre-chat form and a
  first message, then the visitor websocket (/ws/chat/<key>/?token=...) for the conversation; they leave
  ({"type": "end"}) when their patience runs out before an agent takes the chat.
* Agents: log in through the login form, open ws/desk/agent/ with the session cookie, set presence
  available, accept offers after a ring delay, hold the contact for its handle time (chats: a first reply
  within the configured delay, then an answer to each customer message, as "chat.send" ops), complete it
  with a disposition, and finish wrap-up, all as websocket ops of the desktop.

Simulated time runs `speed` times faster than the wall clock; the server's own timers (offer timeout,
wrap-up) stay in real time.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from random import Random
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from linia.workforce.simulation import Contact

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
SNAPSHOT_EVERY_S = 1.0  # real seconds: picks up offers made by another process (the ticker) without Redis
TAKEN = frozenset({"assigned", "wrap_up", "completed"})  # task states after an accept: someone answered
ROUTE_EVERY_S = 1.0  # real seconds between the PBX's /voice/route questions for a waiting call


class SimulationError(Exception):
    pass


def is_local(base_url: str) -> bool:
    parts = urllib.parse.urlsplit(base_url)
    return parts.scheme in {"http", "https"} and (parts.hostname or "") in {h.strip("[]") for h in LOCAL_HOSTS}


@dataclass
class Setup:
    base_url: str
    token: str
    line_number: str
    chat_queue: str
    agents: list[tuple[str, str]]  # username, password
    dispositions: list[str]
    target_s: dict[str, int]  # channel -> T (simulated seconds) for the service level
    speed: float = 1.0
    seed: int = 1
    minutes: float = 10.0
    progress_every_s: float = 5.0  # real seconds
    ring_delay_s: tuple[float, float] = (2.0, 6.0)  # simulated
    wrapup_s: tuple[float, float] = (5.0, 20.0)  # simulated
    first_reply_s: tuple[float, float] = (5.0, 25.0)  # simulated: from accepting a chat to the first reply
    answer_s: tuple[float, float] = (3.0, 15.0)  # simulated: an agent's answer to a customer's chat message
    chat_key: str = ""  # public key of the tenant's chat channel (the widget's data-channel)
    follow_ups: tuple[int, int] = (1, 3)  # more messages a chat customer writes after the first answer


@dataclass
class Stats:
    offered: dict[str, int] = field(default_factory=lambda: {"call": 0, "chat": 0})
    answered: dict[str, int] = field(default_factory=lambda: {"call": 0, "chat": 0})
    abandoned: dict[str, int] = field(default_factory=lambda: {"call": 0, "chat": 0})
    within_t: int = 0
    completed: int = 0
    waits: list[float] = field(default_factory=list)
    errors: int = 0
    last_error: str = ""
    chat_messages: dict[str, int] = field(default_factory=lambda: {"visitor": 0, "agent": 0})
    refused: int = 0  # chats the server refused to start (rate limits, offline queue)

    def service_level(self) -> float | None:
        denominator = sum(self.answered.values()) + sum(self.abandoned.values())
        return 100.0 * self.within_t / denominator if denominator else None

    def line(self, sim_s: float) -> str:
        sl = self.service_level()
        minutes, seconds = divmod(int(sim_s), 60)
        return (f"[sim {minutes // 60:02d}:{minutes % 60:02d}:{seconds:02d}] offered {sum(self.offered.values())} "
                f"(calls {self.offered['call']}, chats {self.offered['chat']}) · answered "
                f"{sum(self.answered.values())} · abandoned {sum(self.abandoned.values())} · SL "
                f"{'—' if sl is None else f'{sl:.1f}%'} · completed {self.completed} · errors {self.errors}")

    def summary(self) -> dict[str, Any]:
        sl = self.service_level()
        return {"offered": dict(self.offered), "answered": dict(self.answered), "abandoned": dict(self.abandoned),
                "completed": self.completed, "answered_within_t": self.within_t,
                "service_level": None if sl is None else round(sl, 1),
                "asa_seconds": round(sum(self.waits) / len(self.waits), 1) if self.waits else None,
                "chat_messages": dict(self.chat_messages), "chats_refused": self.refused,
                "errors": self.errors}


class Http:
    """Blocking urllib calls run in threads; JSON in and out; errors as (status, body)."""

    def __init__(self, base_url: str, token: str = "") -> None:
        self.base = base_url.rstrip("/")
        self.token = token
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method: str, path: str, body: Any = None, *, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data: bytes | None = None
        all_headers = dict(headers or {})
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=all_headers)  # noqa: S310
        try:
            with self.opener.open(req, timeout=30) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await asyncio.to_thread(self.request, method, path, body)

    def cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.jar if c.name == name), "")

    def login(self, username: str, password: str) -> str:
        """The login form, as a browser fills it; returns the session cookie header."""
        self.request("GET", "/accounts/login/")
        csrf = self.cookie("csrftoken")
        self.request("POST", "/accounts/login/", form={"username": username, "password": password,
                                                        "csrfmiddlewaretoken": csrf},
                     headers={"Referer": self.base + "/accounts/login/"})
        if not self.cookie("sessionid"):
            raise SimulationError(f"agent {username} could not log in")
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


@dataclass
class Live:
    """One contact in flight, shared by its customer side and the agent who takes it."""

    contact: Contact
    key: str  # call id / chat external id
    arrived_at: float  # simulated seconds
    state: str = "waiting"  # waiting, talking, abandoned, done
    task_id: int | None = None
    extension: str = ""
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    sequence: int = 0
    by_person: bool = False  # accepted by someone on the desk, not by a simulated agent
    session_id: int | None = None  # chats: the widget session


class Simulation:
    def __init__(self, setup: Setup, contacts: list[Contact], out: Callable[[str], None] = print) -> None:
        self.s = setup
        self.contacts = contacts
        self.out = out
        self.stats = Stats()
        self.rng = Random(f"{setup.seed}-agents")  # noqa: S311 (reproducible simulation, not secrets)
        self.live: dict[str, Live] = {}
        self.chat_sessions: dict[int, Live] = {}  # widget session id -> its customer (agents find theirs here)
        self.chat_topics: list[str] = []  # the channel's pre-chat topics (the widget asks for one when there are)
        self.chat_language = "en"  # the channel's language: what simulated customers write in
        self.stop = asyncio.Event()
        self.t0 = 0.0
        self.run_id = f"{int(time.time())}-{setup.seed}"
        self.api = Http(setup.base_url, setup.token)

    # --- time ------------------------------------------------------------------------------------

    def now(self) -> float:
        return (time.monotonic() - self.t0) * self.s.speed

    async def sleep(self, sim_s: float) -> bool:
        """Sleep simulated seconds; False when the run stopped first."""
        try:
            await asyncio.wait_for(self.stop.wait(), max(0.0, sim_s) / self.s.speed)
        except TimeoutError:
            return True
        return False

    async def wait_event(self, event: asyncio.Event, sim_s: float) -> bool:
        """Wait for the event for up to sim_s simulated seconds, or until the run stops; True if it is set."""
        waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self.stop.wait())]
        await asyncio.wait(waits, timeout=max(0.0, sim_s) / self.s.speed, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
        return event.is_set()

    def error(self, what: str, status: int, body: Any) -> None:
        self.stats.errors += 1
        self.stats.last_error = f"{what}: {status} {str(body)[:200]}"

    # --- run -------------------------------------------------------------------------------------

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        """The server may still be starting (`linia demo` starts us beside it)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                await self.api.call("GET", "/accounts/login/")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise SimulationError(f"no Linia answers at {self.s.base_url}") from None
                await asyncio.sleep(0.5)

    async def run(self) -> Stats:
        await self.wait_ready()
        status, _ = await self.api.call("GET", "/api/v1/routing/queues")
        if status != 200:
            raise SimulationError(f"the API answered {status} to the simulator's token")
        if self.s.chat_key and any(c.channel == "chat" for c in self.contacts):
            status, config = await Http(self.s.base_url).call("GET", f"/chat/api/{self.s.chat_key}/config")
            if status != 200 or not isinstance(config, dict):
                raise SimulationError(f"the chat channel {self.s.chat_key} answered {status}")
            self.chat_topics = [str(t["code"]) for t in config.get("topics") or [] if isinstance(t, dict)]
            self.chat_language = str(config.get("language") or "en")
        agents = [Agent(self, username, password) for username, password in self.s.agents]
        await asyncio.gather(*(a.start() for a in agents))
        self.t0 = time.monotonic()
        tasks = [asyncio.create_task(a.loop()) for a in agents]
        tasks.append(asyncio.create_task(self.progress()))
        customers: list[asyncio.Task[None]] = []
        for contact in self.contacts:
            if not await self.sleep(contact.arrival_s - self.now()):
                break
            customers.append(asyncio.create_task(self.customer(contact)))
        await self.sleep(self.s.minutes * 60 - self.now())
        self.stop.set()
        await asyncio.gather(*customers, return_exceptions=True)
        for agent in agents:
            await agent.shutdown()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.out(self.stats.line(self.now()))
        return self.stats

    async def progress(self) -> None:
        while True:
            await asyncio.sleep(self.s.progress_every_s)
            self.out(self.stats.line(self.now()))

    # --- customers / PBX ---------------------------------------------------------------------------

    async def customer(self, contact: Contact) -> None:
        key = f"sim-{self.run_id}-{contact.channel}-{contact.n}"
        live = Live(contact, key, self.now())
        self.live[key] = live
        try:
            if contact.channel == "call":
                await self.call(live)
            else:
                await self.chat(live)
        except OSError as exc:  # the server went away mid-contact: counted, the run goes on
            self.error(f"{contact.channel} {key}", 0, repr(exc))
        finally:
            self.live.pop(key, None)

    async def cti(self, live: Live, event: str, **extra: Any) -> tuple[int, Any]:
        live.sequence += 1
        body = {"call_id": live.key, "sequence": live.sequence, "event": event, "dialled": self.s.line_number,
                "caller": f"+4860{live.contact.n % 10_000_000:07d}", "at": datetime.now(UTC).isoformat(), **extra}
        status, data = await self.api.call("POST", "/api/v1/voice/events", body)
        if status != 200:
            self.error(f"voice {event}", status, data)
        return status, data

    async def call(self, live: Live) -> None:
        status, data = await self.cti(live, "offered")
        if status != 200:
            return
        self.stats.offered["call"] += 1
        _, data = await self.cti(live, "queued")
        live.task_id = ((data or {}).get("call") or {}).get("task_id") if isinstance(data, dict) else None

        async def route() -> None:  # the PBX asks whom to ring (this runs the dispatcher)
            status, answer = await self.api.call("POST", "/api/v1/voice/route", {"call_id": live.key})
            if status == 200 and answer.get("action") == "ring" and answer.get("extension") != live.extension:
                live.extension = str(answer["extension"])
                await self.cti(live, "ringing", agent_extension=live.extension)

        if await self.await_agent(live, route):
            await self.cti(live, "answered", agent_extension="" if live.by_person else live.extension)
            await (self.person_finished(live) if live.by_person else live.done.wait())
        else:
            await self.cti(live, "abandoned")
        await self.cti(live, "ended")

    async def await_agent(self, live: Live, poll: Callable[[], Awaitable[None]] | None = None) -> bool:
        """Wait until an agent answers (True) or the customer's patience (or the run) ends (False)."""
        deadline = live.arrived_at + live.contact.patience_s
        while not live.answered.is_set():
            if live.state != "waiting":  # an agent is accepting right now: its answer decides
                await asyncio.sleep(0.02)
                continue
            if await self.taken_by_person(live):  # asked before giving up: a person may have just answered
                return True
            if self.stop.is_set() or self.now() >= deadline:
                live.state = "abandoned"
                if not self.stop.is_set():  # contacts cut off by the end of the run are not counted
                    self.stats.abandoned[live.contact.channel] += 1
                return False
            if poll is not None:
                await poll()
            await self.wait_event(live.answered, min(deadline - self.now(), ROUTE_EVERY_S * self.s.speed))
        return True

    async def task_status(self, live: Live) -> str:
        if live.task_id is None:
            return ""
        status, task = await self.api.call("GET", f"/api/v1/routing/tasks/{live.task_id}")
        return str(task.get("status") or "") if status == 200 and isinstance(task, dict) else ""

    async def taken_by_person(self, live: Live) -> bool:
        """A person on the desk (not one of our simulated agents) accepted the contact: the customer stays."""
        if live.state != "waiting" or await self.task_status(live) not in TAKEN or live.state != "waiting":
            return False
        return self.answered_by_person(live)

    def answered_by_person(self, live: Live) -> bool:
        live.state, live.by_person = "talking", True
        channel = live.contact.channel
        wait = self.now() - live.arrived_at
        self.stats.answered[channel] += 1
        self.stats.waits.append(wait)
        self.stats.within_t += wait <= self.s.target_s.get(channel, 20)
        live.answered.set()
        return True

    async def person_finished(self, live: Live) -> None:
        """The person ends the conversation on the desk; the customer hangs up then (or when the run ends)."""
        while not self.stop.is_set() and await self.task_status(live) == "assigned":
            await asyncio.sleep(ROUTE_EVERY_S)
        live.state = "done"
        live.done.set()

    async def chat(self, live: Live) -> None:
        """A visitor on the tenant's site: the widget's pre-chat form, then its websocket."""
        n = live.contact.n
        web = Http(self.s.base_url)
        origin = self.s.base_url.rstrip("/")
        status, data = await asyncio.to_thread(
            web.request, "POST", f"/chat/api/{self.s.chat_key}/sessions",
            {"name": f"Chat customer {n}", "email": f"customer{n}@linia-sim.invalid", "consent": True,
             "topic": self.chat_topics[n % len(self.chat_topics)] if self.chat_topics else "",
             "page_url": origin + "/shop/", "text": chat_line(self.chat_language, "customer", n)},
            headers={"Origin": origin})
        if status == 429 or (status == 201 and data.get("offline")):
            self.stats.refused += 1  # rate limited, or the queue is closed: not a contact of the queue
            return
        if status != 201 or not isinstance(data, dict):
            self.error("chat start", status, data)
            return
        live.session_id = int(data["session_id"])
        self.chat_sessions[live.session_id] = live
        self.stats.offered["chat"] += 1
        self.stats.chat_messages["visitor"] += 1
        url = urllib.parse.urlsplit(self.s.base_url)
        scheme = "wss" if url.scheme == "https" else "ws"
        try:
            async with connect(f"{scheme}://{url.netloc}/ws/chat/{self.s.chat_key}/?token={data['token']}",
                               origin=origin, proxy=None) as ws:  # type: ignore[arg-type]
                await ws.send(json.dumps({"type": "resume", "after_seq": 0}))
                await self.visitor(live, ws)
        except ConnectionClosed as exc:
            if not self.stop.is_set():
                self.error(f"chat {live.session_id} socket", 0, repr(exc))
        finally:
            self.chat_sessions.pop(live.session_id, None)

    async def visitor(self, live: Live, ws: ClientConnection) -> None:
        """Waits for an agent (or leaves), then answers each agent message with a few more questions until the
        agent ends the chat or the run stops."""
        answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        ended = asyncio.Event()

        async def read() -> None:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") == "message" and msg.get("sender") == "agent":
                    await answers.put(msg)
                elif msg.get("type") == "state" and msg.get("status") == "ended":
                    ended.set()
                elif msg.get("type") == "state" and msg.get("status") == "active" and live.state == "waiting":
                    # An agent joined whom none of ours claimed: a person on the desk (a chat has no task id
                    # here for taken_by_person to ask about), so the visitor stays, whatever their patience.
                    self.answered_by_person(live)
                elif msg.get("type") == "error":
                    self.error(f"chat {live.session_id}", 0, msg.get("code"))

        reader = asyncio.create_task(read())
        try:
            if not await self.await_agent(live):  # gave up, or the run ended: the widget's "end chat" leaves the queue
                await ws.send(json.dumps({"type": "end"}))
                try:
                    await asyncio.wait_for(ended.wait(), 5)  # the server took it
                except TimeoutError:
                    self.error(f"chat {live.session_id} end", 0, "no ended state")
                return
            more = self.rng.randint(*self.s.follow_ups)
            while not self.stop.is_set() and not ended.is_set():
                got = await self.next_answer(answers, ended)
                if got is None:
                    break
                if more > 0 and await self.sleep(self.rng.uniform(*self.s.answer_s)) and not ended.is_set():
                    more -= 1
                    await ws.send(json.dumps({"type": "message", "client_id": str(uuid.uuid4()),
                                              "text": chat_line(self.chat_language, "follow_up", live.contact.n + more)}))
                    self.stats.chat_messages["visitor"] += 1
            await (self.person_finished(live) if live.by_person else live.done.wait())
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def next_answer(self, answers: asyncio.Queue[dict[str, Any]], ended: asyncio.Event) -> dict[str, Any] | None:
        """The next agent message, or None once the chat ended or the run stopped."""
        while not self.stop.is_set() and not ended.is_set():
            try:
                return await asyncio.wait_for(answers.get(), 0.5)
            except TimeoutError:
                continue
        return None


# What simulated customers and agents write, in the chat channel's language (the demo's shops speak ru/pl/fr/en).
CHAT_LINES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "customer": ("Hello, where is my order?", "Hi, is the store in the city centre open on Sunday?",
                     "Good morning, I would like to return a jacket.", "Hello, my discount code does not work.",
                     "Hi, can I change the delivery address of my order?"),
        "follow_up": ("Thank you. And how long will it take?", "OK, do I need the receipt?", "Great, thanks a lot!",
                      "Could you send me the details by email?", "One more question: do you deliver on Saturdays?"),
        "first": ("Hello! Thank you for waiting, I am looking into it now.",),
        "answer": ("Let me check that for you.", "Yes, that is possible.", "You will get an email with the details.",
                   "It usually takes two to three working days.", "You are welcome!"),
    },
    "ru": {
        "customer": ("Здравствуйте, где мой заказ?", "Добрый день, магазин в центре работает в воскресенье?",
                     "Здравствуйте, хочу вернуть товар.", "Здравствуйте, не срабатывает промокод.",
                     "Добрый день, можно изменить адрес доставки?"),
        "follow_up": ("Спасибо. А сколько это займёт?", "Чек нужен?", "Отлично, большое спасибо!",
                      "Можете прислать подробности на почту?", "Ещё вопрос: в субботу доставляете?"),
        "first": ("Здравствуйте! Спасибо за ожидание, сейчас посмотрю.",),
        "answer": ("Сейчас проверю.", "Да, это возможно.", "Подробности пришлём вам на почту.",
                   "Обычно это занимает два-три рабочих дня.", "Пожалуйста, обращайтесь!"),
    },
    "pl": {
        "customer": ("Dzień dobry, gdzie jest moje zamówienie?", "Czy sklep w centrum jest otwarty w niedzielę?",
                     "Dzień dobry, chcę zwrócić towar.", "Dzień dobry, mój kod rabatowy nie działa.",
                     "Czy mogę zmienić adres dostawy?"),
        "follow_up": ("Dziękuję. Ile to potrwa?", "Czy potrzebny jest paragon?", "Świetnie, bardzo dziękuję!",
                      "Czy mogą Państwo przesłać szczegóły mailem?", "Jeszcze jedno: czy dostarczacie w soboty?"),
        "first": ("Dzień dobry! Dziękuję za cierpliwość, już sprawdzam.",),
        "answer": ("Już sprawdzam.", "Tak, to możliwe.", "Szczegóły wyślemy mailem.",
                   "Zwykle trwa to dwa-trzy dni robocze.", "Nie ma za co!"),
    },
    "fr": {
        "customer": ("Bonjour, où en est ma commande ?", "Le magasin du centre est-il ouvert dimanche ?",
                     "Bonjour, je voudrais retourner une veste.", "Bonjour, mon code promo ne fonctionne pas.",
                     "Puis-je changer l'adresse de livraison ?"),
        "follow_up": ("Merci. Et combien de temps cela prendra ?", "Faut-il le ticket de caisse ?", "Parfait, merci !",
                      "Pouvez-vous m'envoyer les détails par e-mail ?", "Livrez-vous le samedi ?"),
        "first": ("Bonjour ! Merci de votre patience, je regarde tout de suite.",),
        "answer": ("Je vérifie pour vous.", "Oui, c'est possible.", "Vous recevrez les détails par e-mail.",
                   "Cela prend en général deux à trois jours ouvrés.", "Avec plaisir !"),
    },
}


def chat_line(language: str, kind: str, n: int) -> str:
    lines = CHAT_LINES.get(language, CHAT_LINES["en"])[kind]
    return lines[n % len(lines)]


class Agent:
    """One simulated agent on the desktop's websocket."""

    def __init__(self, sim: Simulation, username: str, password: str) -> None:
        self.sim = sim
        self.username = username
        self.password = password
        self.ws: ClientConnection | None = None
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.op_lock = asyncio.Lock()
        self.seen: set[int] = set()
        self.jobs: set[asyncio.Task[None]] = set()
        self.holding = 0
        self.chats: dict[int, asyncio.Queue[dict[str, Any]]] = {}  # task id -> the customer's messages
        self.languages: dict[int, str] = {}  # task id -> the chat's language (answers in it)

    async def start(self) -> None:
        http = Http(self.sim.s.base_url)
        cookies = await asyncio.to_thread(http.login, self.username, self.password)
        url = urllib.parse.urlsplit(self.sim.s.base_url)
        scheme = "wss" if url.scheme == "https" else "ws"
        self.ws = await connect(f"{scheme}://{url.netloc}/ws/desk/agent/",
                                additional_headers={"Cookie": cookies}, proxy=None)
        self.reader = asyncio.create_task(self.read())
        await self.op("presence", state="available")

    async def read(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            msg = json.loads(raw)
            kind = msg.get("kind")
            if kind in {"ack", "error"}:
                await self.replies.put(msg)
            elif kind == "snapshot":
                for offer in msg.get("offers") or []:
                    self.offered(offer)
            elif kind == "offer":
                self.offered(msg)
            elif kind == "chat.message" and (msg.get("message") or {}).get("sender") == "visitor":
                inbox = self.chats.get(int(msg.get("task_id") or 0))
                if inbox is not None:
                    inbox.put_nowait(msg["message"])

    async def op(self, name: str, *, expected: tuple[str, ...] = (), **args: Any) -> dict[str, Any]:
        """One desktop operation at a time, answered by its ack or error (`expected` error codes are fine)."""
        assert self.ws is not None
        async with self.op_lock:
            await self.ws.send(json.dumps({"op": name, **args}))
            reply = await asyncio.wait_for(self.replies.get(), 30)
        if reply.get("kind") == "error" and reply.get("code") not in expected:
            self.sim.error(f"{self.username} {name}", 409, reply.get("code"))
        return reply

    def offered(self, offer: dict[str, Any]) -> None:
        reservation = offer.get("reservation_id") or (offer.get("reservation") or {}).get("id")
        task = offer.get("task") or {}
        if not isinstance(reservation, int) or reservation in self.seen or self.sim.stop.is_set():
            return
        self.seen.add(reservation)
        job = asyncio.create_task(self.take(reservation, task))
        self.jobs.add(job)
        job.add_done_callback(self.jobs.discard)

    async def loop(self) -> None:
        """Ask for a snapshot now and then: offers made by another process reach us even without Redis."""
        while not self.sim.stop.is_set():
            await asyncio.sleep(SNAPSHOT_EVERY_S)
            if self.ws is not None:
                await self.ws.send(json.dumps({"op": "snapshot"}))

    async def take(self, reservation: int, task: dict[str, Any]) -> None:
        sim = self.sim
        if not await sim.sleep(sim.rng.uniform(*sim.s.ring_delay_s)):
            return  # the run is over: the offer is left to ring out
        # (looked up after the ring: a chat's offer can arrive before its visitor has the server's answer)
        session = (task.get("attributes") or {}).get("chat_session_id")
        live = sim.live.get(str(task.get("external_id") or ""))
        for _ in range(40 if isinstance(session, int) else 0):  # up to 2 real seconds
            live = sim.chat_sessions.get(session)  # type: ignore[arg-type]
            if live is not None or sim.stop.is_set():
                break
            await asyncio.sleep(0.05)
        if live is not None and live.state != "waiting":
            return  # the customer left (or another agent has it): the offer is withdrawn by the server
        if live is not None:
            live.state = "talking"  # claimed before the customer's patience can fire
        try:
            reply = await self.op("accept", reservation_id=reservation, expected=("offer_expired",))
        except (TimeoutError, ConnectionClosed) as exc:
            reply = {"kind": "error"}
            sim.error(f"{self.username} accept", 0, repr(exc))
        if reply.get("kind") != "ack":
            if live is not None and live.state == "talking":
                live.state = "waiting"  # back to the customer's patience
            return
        handle_s = live.contact.handle_s if live is not None else sim.rng.uniform(30, 120)
        task_id = int(task["id"])
        is_chat = task.get("channel") == "chat"
        if is_chat:
            self.chats[task_id] = asyncio.Queue()
        if live is not None:
            live.answered.set()
        self.holding += 1
        try:
            if is_chat:  # chats are answered by the first reply, not by the accept
                typing_s = sim.rng.uniform(*sim.s.first_reply_s)
                await sim.sleep(typing_s)
                handle_s = max(0.0, handle_s - typing_s)
                await self.say(task_id, chat_line(self.chat_language(task), "first", task_id))
            if live is not None:
                wait = sim.now() - live.arrived_at
                channel = live.contact.channel
                sim.stats.answered[channel] += 1
                sim.stats.waits.append(wait)
                sim.stats.within_t += wait <= sim.s.target_s.get(channel, 20)
            if is_chat:
                await self.converse(task_id, handle_s)
                await self.op("chat.end", task_id=task_id, expected=("ended", "not_found", "forbidden"))
            else:
                await sim.sleep(handle_s)
            disposition = sim.rng.choice(sim.s.dispositions) if sim.s.dispositions else ""
            reply = await self.op("complete", task_id=int(task["id"]), disposition=disposition)
            sim.stats.completed += reply.get("kind") == "ack"
        except (TimeoutError, ConnectionClosed) as exc:
            sim.error(f"{self.username} complete", 0, repr(exc))
            return
        finally:
            self.holding -= 1
            self.chats.pop(task_id, None)
            self.languages.pop(task_id, None)
            if live is not None:
                live.state = "done"
                live.done.set()
        if self.holding == 0:
            await sim.sleep(sim.rng.uniform(*sim.s.wrapup_s))
            try:
                await self.op("finish_wrapup", expected=("not_in_wrapup",))
            except (TimeoutError, ConnectionClosed) as exc:
                sim.error(f"{self.username} finish_wrapup", 0, repr(exc))

    def chat_language(self, task: dict[str, Any]) -> str:
        """The offered chat's language (the customer's), else the channel's; remembered for the answers."""
        language = str(task.get("language") or self.sim.chat_language)
        self.languages[int(task["id"])] = language
        return language

    async def say(self, task_id: int, text: str) -> None:
        """One chat message through the desk's "chat.send" (a client id, as the desk sends it)."""
        reply = await self.op("chat.send", task_id=task_id, text=text, client_id=str(uuid.uuid4()),
                              expected=("ended",))
        self.sim.stats.chat_messages["agent"] += reply.get("kind") == "ack"

    async def converse(self, task_id: int, handle_s: float) -> None:
        """Answer each customer message (after a moment of typing) for the chat's handle time."""
        sim, inbox = self.sim, self.chats[task_id]
        until = sim.now() + handle_s
        n = 0
        while not sim.stop.is_set() and sim.now() < until:
            try:
                await asyncio.wait_for(inbox.get(), max(0.05, min(until - sim.now(), 1.0 * sim.s.speed) / sim.s.speed))
            except TimeoutError:
                continue
            if not await sim.sleep(sim.rng.uniform(*sim.s.answer_s)):
                return
            n += 1
            await self.say(task_id, chat_line(self.languages.get(task_id, "en"), "answer", task_id + n))

    async def shutdown(self) -> None:
        await asyncio.gather(*self.jobs, return_exceptions=True)
        if self.ws is None:
            return
        try:
            await self.op("presence", state="offline")
        except (TimeoutError, ConnectionClosed) as exc:
            self.sim.error(f"{self.username} offline", 0, repr(exc))
        finally:
            await self.ws.close()
            await asyncio.gather(self.reader, return_exceptions=True)
