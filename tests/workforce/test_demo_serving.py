"""`linia demo` serving: the worker and the simulators run beside the server and stop with it, and the
demo's choice of channel layer: a Redis answering on 127.0.0.1:6379 (own key prefix), else in memory."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.sync.client import ClientConnection, connect

from linia.demo import redis_detect
from linia.workforce.simulation.driver import Http
from tests.liveserver import LINIA, free_port, linia_env

REDIS = redis_detect.DEFAULT_URL
needs_redis = pytest.mark.skipif(not redis_detect.answers(REDIS), reason=f"no Redis answers at {REDIS}")

# What the settings make of a command line, printed by a fresh interpreter (settings are read once per process).
SETTINGS = """
import json, os, sys
sys.argv = ["linia", *sys.argv[1:]]
os.environ["DJANGO_SETTINGS_MODULE"] = "linia.settings"
from django.conf import settings
print(json.dumps([settings.REDIS_URL, settings.REDIS_PREFIX, settings.REDIS_DETECTED,
                  settings.CHANNEL_LAYERS["default"], settings.HUEY["huey_class"]]))
"""

# Another process of the demo (as the worker is) publishes to an agent's desktop group.
PUBLISH = """
from linia.core.models import User
from linia.routing import realtime
realtime.send_now(realtime.agent_group(User.objects.get(username="qd-agent1").pk), {"kind": "probe", "n": 42})
"""

PRESENCE = """
import json
from linia.routing.models import AgentProfile
print(json.dumps(sorted(AgentProfile.objects.filter(user__username__startswith="sim-").values_list("presence", flat=True))))
"""




def _settings_for(home: Path, *argv: str, **env: str) -> list[object]:
    out = subprocess.run([sys.executable, "-c", SETTINGS, *argv], env=linia_env(home, **env), capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


def test_redis_key_prefix_is_per_demo_home(tmp_path: Path) -> None:
    one, two = redis_detect.prefix_for(tmp_path / "one"), redis_detect.prefix_for(tmp_path / "two")
    assert one != two and one.startswith("linia-demo-") and one.endswith(":")
    assert redis_detect.prefix_for(tmp_path / "one" / ".." / "one") == one


def test_detection_with_a_closed_port_or_switched_off_stays_in_memory(tmp_path: Path) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"  # bound a moment ago and released: nothing listens
    assert not redis_detect.answers(closed)
    assert redis_detect.detect(tmp_path, closed) == ("", "")
    assert redis_detect.detect(tmp_path, "off") == ("", "")
    url, prefix, detected, layer, huey = _settings_for(tmp_path, "demo", LINIA_DEMO_REDIS=closed)
    assert (url, prefix, detected, huey) == ("", "", False, "huey.SqliteHuey")
    assert layer == {"BACKEND": "linia.core.channel_layer.InMemoryChannelLayer"}


@needs_redis
def test_demo_finds_the_local_redis_with_a_key_prefix_of_its_own(tmp_path: Path) -> None:
    assert redis_detect.answers(REDIS)
    assert redis_detect.detect(tmp_path, None) == (REDIS, redis_detect.prefix_for(tmp_path))
    url, prefix, detected, layer, huey = _settings_for(tmp_path, "demo", "--no-serve")
    assert (url, prefix, detected, huey) == (REDIS, redis_detect.prefix_for(tmp_path), True, "huey.RedisHuey")
    assert layer == {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {
        "hosts": [{"address": REDIS, "socket_timeout": None}], "prefix": f"{prefix}asgi"}}
    # only the demo looks for Redis by itself; `linia serve` and the demo's own children follow REDIS_URL
    assert _settings_for(tmp_path, "serve")[:3] == ["", "", False]
    assert _settings_for(tmp_path, "worker", REDIS_URL=REDIS, LINIA_REDIS_PREFIX=str(prefix))[:3] == \
        [REDIS, prefix, False]


def _receive_kind(ws: ClientConnection, kind: str, timeout: float = 10) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message.get("kind") == kind:
            return dict(message)


MAILED = """
from linia.tickets.models import Ticket
t = Ticket.objects.select_related("tenant").get(messages__external_id="email:demo-1@example.org")
print(t.tenant.slug, t.subject, t.channel)
"""


FORWARD = """
from linia.directory.models import Department
from linia.dispatch.forwarding import forward_to_department
from linia.tickets.models import Ticket
t = Ticket.objects.get(messages__external_id="email:demo-1@example.org")
forward_to_department(None, t, Department.objects.get(tenant=t.tenant, code="courier-ops"), "Please check")
"""
ANSWERED = """
from linia.tickets.models import Ticket
t = Ticket.objects.get(messages__external_id="email:demo-1@example.org")
print(t.status, t.messages.get(external_id="email:dept-1@quickdrop.example").body_text.strip())
"""


def _sent_reply_to(folder: Path, to: str, timeout: float = 30) -> str:
    """The Reply-To of the first mail to `to` the demo's worker wrote into its sent-mail folder."""
    import email

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*.log")) if folder.exists() else []:
            for chunk in path.read_bytes().split(b"-" * 79):
                message = email.message_from_bytes(chunk.strip())
                if to in str(message.get("To", "")) and message.get("Reply-To"):
                    return str(message["Reply-To"]).strip().strip("<>")
        time.sleep(0.5)
    raise AssertionError(f"no mail to {to} in {folder}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.slow
def test_demo_serves_with_worker_and_simulators_and_stops_them(tmp_path: Path) -> None:
    env = {**os.environ, "LINIA_HOME": str(tmp_path), "DATABASE_URL": "", "REDIS_URL": "",
           "LINIA_FAST_PASSWORDS": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = (tmp_path / "demo.log").open("w+")
    port = free_port()
    smtp_port = free_port()
    demo = subprocess.Popen([LINIA, "demo", "--small", "--tickets", "0", "--port", str(port), "--smtp-port",
                             str(smtp_port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 90
        presences: list[str] = []
        while time.monotonic() < deadline:
            time.sleep(2)
            text = (tmp_path / "demo.log").read_text()
            pids = [int(p) for p in re.findall(r"PID (\d+)", text.split("Linia on", 1)[0])]
            if len(pids) == 4 and "Linia on" in text:
                out = subprocess.run([LINIA, "shell", "-c", PRESENCE], env=env, capture_output=True, text=True,
                                     timeout=30).stdout
                presences = json.loads(out.strip().splitlines()[-1])
                if presences.count("available") + presences.count("busy") >= 8:
                    break
        assert len(pids) == 4, (tmp_path / "demo.log").read_text()  # worker, smtpd, two simulators
        assert all(_alive(p) for p in pids)
        assert len(presences) == 8 and "offline" not in presences, presences  # 4 agents x 2 tenants online
        banner = (tmp_path / "demo.log").read_text().splitlines()[0]
        redis_url = REDIS if redis_detect.answers(REDIS) else ""
        prefix = redis_detect.prefix_for(tmp_path) if redis_url else ""
        assert banner.startswith("Realtime: Redis" if redis_url else "Realtime: in-memory"), banner
        for pid in pids:  # the worker, the SMTP server and both simulators got the server's choice
            environ = dict(item.split("=", 1) for item in
                           Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in item)
            assert (environ["REDIS_URL"], environ["LINIA_REDIS_PREFIX"]) == (redis_url, prefix)
        if redis_url:  # an event published by another process with the children's settings reaches a desktop
            base = f"http://127.0.0.1:{port}"
            cookies = Http(base).login("qd-agent1", "demo12345")
            with connect(f"ws://127.0.0.1:{port}/ws/desk/agent/", additional_headers={"Cookie": cookies},
                         proxy=None) as ws:
                _receive_kind(ws, "snapshot")
                subprocess.run([LINIA, "shell", "-c", PUBLISH], check=True, capture_output=True, timeout=30,
                               env={**env, "REDIS_URL": redis_url, "LINIA_REDIS_PREFIX": prefix})
                assert _receive_kind(ws, "probe")["n"] == 42
        # Mail to a demo tenant's support address on the demo's SMTP port becomes a ticket (README's step).
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            smtp.sendmail("kate@example.org", ["support@quickdrop.demo.test"],
                          b"From: Kate <kate@example.org>\r\nTo: support@quickdrop.demo.test\r\n"
                          b"Subject: Parcel not delivered\r\nMessage-ID: <demo-1@example.org>\r\n\r\nWhere is it?\r\n")
        found = subprocess.run([LINIA, "shell", "-c", MAILED], env=env, capture_output=True, text=True, timeout=30)
        assert found.stdout.strip().splitlines()[-1] == "quickdrop Parcel not delivered email", found
        # Forwarded to a department: the worker writes the mail to var/sent-mail; the department answers the
        # forward's Reply-To on the demo's SMTP port and the answer lands back in the ticket, which reopens.
        subprocess.run([LINIA, "shell", "-c", FORWARD], check=True, capture_output=True, timeout=30,
                       env={**env, "REDIS_URL": redis_url, "LINIA_REDIS_PREFIX": prefix})  # the worker's job queue
        reply_to = _sent_reply_to(tmp_path / "sent-mail", "couriers@")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
            smtp.sendmail("couriers@quickdrop.example", [reply_to],
                          f"From: couriers@quickdrop.example\r\nTo: {reply_to}\r\nSubject: Re: parcel\r\n"
                          f"Message-ID: <dept-1@quickdrop.example>\r\n\r\nFound it, delivering today.\r\n".encode())
        back = subprocess.run([LINIA, "shell", "-c", ANSWERED], env=env, capture_output=True, text=True, timeout=30)
        assert back.stdout.strip().splitlines()[-1] == "open Found it, delivering today.", back
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
        log.close()
    time.sleep(0.5)
    assert not [p for p in pids if _alive(p)]
    assert (tmp_path / "simulate-quickdrop.log").read_text().startswith("Simulating quickdrop")


@pytest.mark.django_db
def test_demo_queues_share_contacts_round_robin_and_a_later_choice_is_kept() -> None:
    from linia.core.models import Tenant
    from linia.demo.contact_center import seed_contact_center
    from linia.routing.models import Queue, Strategy

    tenant = Tenant.objects.create(slug="quickdrop", name="QuickDrop", ticket_prefix="QD", time_zone="Europe/London")
    seed_contact_center([tenant])
    queues = Queue.objects.filter(tenant=tenant)
    assert sorted(queues.values_list("code", "strategy")) == [("calls", Strategy.ROUND_ROBIN),
                                                              ("chats", Strategy.ROUND_ROBIN),
                                                              ("email", Strategy.ROUND_ROBIN)]
    from linia.intake.email.models import Mailbox

    box = Mailbox.objects.get(tenant=tenant)  # mail to the demo's support address becomes an email task
    assert box.address == "support@quickdrop.demo.test" and box.queue == "email"
    queues.filter(code="calls").update(strategy=Strategy.LONGEST_IDLE)
    seed_contact_center([tenant])
    assert queues.get(code="calls").strategy == Strategy.LONGEST_IDLE
