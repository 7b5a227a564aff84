"""`linia simulate` chats end to end: simulated visitors come through the widget's path (pre-chat form over HTTP,
the visitor websocket), simulated agents answer on the desk's websocket ("chat.send"), so the chats really
talk and their transcripts end up on the tickets."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.liveserver import LINIA, linia_env, live_linia

SEED = """
from linia.core.models import Tenant
from linia.intake.chat.demo import seed_chat_channels
from linia.workforce.setup import ensure_contact_center
t = Tenant.objects.create(slug="spar", name="Spar East", ticket_prefix="SPR", time_zone="Europe/Warsaw")
ensure_contact_center(t)
seed_chat_channels([t])  # as in the demo: a topic is required in the pre-chat form
"""
REPORT = """
import json
from collections import Counter
from linia.intake.chat.models import ChatMessage, ChatSession
from linia.routing.models import Task
from linia.tickets.models import Message
chats = Task.objects.filter(channel="chat")
print(json.dumps({
    "sessions": ChatSession.objects.count(),
    "tasks": dict(Counter(chats.values_list("status", flat=True))),
    "first_responses": chats.filter(first_response_at__isnull=False).count(),
    "by_sender": dict(Counter(ChatMessage.objects.values_list("sender", flat=True))),
    "agent_messages_per_chat": sorted(Counter(ChatMessage.objects.filter(sender="agent")
                                              .values_list("session_id", flat=True)).values()),
    "ticket_chat_messages": Message.objects.filter(channel="chat").count(),
    "topics": sorted(set(ChatSession.objects.values_list("topic", flat=True))),
    "visitor_first": all(s.messages.order_by("seq").first().sender == "visitor" for s in ChatSession.objects.all()),
}))
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = linia_env(tmp_path)
    with live_linia(tmp_path, env, seed=SEED) as base:
        yield base, env


@pytest.mark.slow
def test_simulated_chats_talk_through_the_widget_and_the_desk(server: tuple[str, dict[str, str]]) -> None:
    base, env = server
    run = subprocess.run([LINIA, "simulate", "--tenant", "spar", "--calls-per-hour", "0", "--chats-per-hour", "120",
                          "--agents", "3", "--minutes", "4", "--speed", "20", "--base-url", base, "--seed", "7",
                          "--profile", "flat"], env=env, capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(run.stdout.split("Summary: ", 1)[1].splitlines()[0])
    assert summary["errors"] == 0 and summary["chats_refused"] == 0, run.stdout
    offered, answered = summary["offered"]["chat"], summary["answered"]["chat"]
    assert offered >= 3 and answered >= 2, summary
    report = json.loads(subprocess.run([LINIA, "shell", "-c", REPORT], env=env, check=True, capture_output=True,
                                       text=True, timeout=60).stdout.strip().splitlines()[-1])
    assert report["sessions"] == offered  # every simulated chat is a widget session
    assert sum(report["tasks"].values()) == offered
    assert not set(report["tasks"]) & {"queued", "reserved"}  # nobody left waiting
    assert report["first_responses"] >= answered  # the first "chat.send" is the chat's first response
    assert report["visitor_first"]
    assert report["topics"] and "" not in report["topics"]
    assert report["by_sender"]["visitor"] == summary["chat_messages"]["visitor"] > offered  # follow-ups were sent
    assert report["by_sender"]["agent"] == summary["chat_messages"]["agent"]
    assert max(report["agent_messages_per_chat"]) >= 2  # an agent answered a follow-up, not only greeted
    assert report["ticket_chat_messages"] >= report["by_sender"]["visitor"] + report["by_sender"]["agent"]
