"""`linia simulate` end to end against a real `linia serve` (own LINIA_HOME, SQLite), and its refusals."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linia.workforce.simulation.driver import is_local
from tests.liveserver import LINIA, linia_env, live_linia

SEED = """
from linia.core.models import Tenant
Tenant.objects.create(slug="spar", name="Spar East", ticket_prefix="SPR", time_zone="Europe/Warsaw")
"""
REPORT = """
import json
from collections import Counter
from linia.intake.voice.models import Call
from linia.routing.models import Task
from linia.tickets.models import Interaction
print(json.dumps({"calls": Call.objects.count(), "answered_calls": Call.objects.filter(answered_at__isnull=False).count(),
                  "interactions": Interaction.objects.filter(channel="call").count(),
                  "tasks": {f"{c}:{s}": n for (c, s), n in Counter(Task.objects.values_list("channel", "status")).items()},
                  "dispositions": sorted(set(Task.objects.exclude(disposition="").values_list("disposition", flat=True)))}))
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = linia_env(tmp_path)
    with live_linia(tmp_path, env, seed=SEED) as base:
        yield base, env


@pytest.mark.slow
def test_simulate_drives_calls_chats_and_agents_through_the_public_paths(
        server: tuple[str, dict[str, str]]) -> None:
    base, env = server
    started = time.monotonic()
    run = subprocess.run([LINIA, "simulate", "--tenant", "spar", "--calls-per-hour", "600", "--chats-per-hour", "240",
                          "--agents", "4", "--minutes", "2", "--speed", "20", "--base-url", base, "--seed", "3",
                          "--profile", "flat"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert time.monotonic() - started < 45
    assert "offered" in run.stdout and "SL" in run.stdout  # progress lines
    summary = json.loads(run.stdout.split("Summary: ", 1)[1].splitlines()[0])
    assert summary["offered"]["call"] > 5 and summary["offered"]["chat"] > 0
    assert summary["answered"]["call"] + summary["answered"]["chat"] > 0
    assert summary["completed"] > 0 and summary["errors"] == 0
    report = json.loads(subprocess.run([LINIA, "shell", "-c", REPORT], env=env, check=True, capture_output=True,
                                       text=True, timeout=60).stdout.strip().splitlines()[-1])
    assert report["calls"] == report["interactions"] == summary["offered"]["call"]
    assert report["answered_calls"] >= summary["answered"]["call"] > 0
    assert report["tasks"].get("call:completed", 0) > 0
    assert sum(n for k, n in report["tasks"].items() if k.startswith("chat:")) == summary["offered"]["chat"]
    assert not any(k.endswith((":queued", ":reserved")) for k in report["tasks"])  # nobody left waiting
    assert set(report["dispositions"]) <= {"solved", "callback", "ticket"} and report["dispositions"]


@pytest.mark.parametrize("url", ["http://example.com:8000", "http://10.0.0.5:8000", "ftp://127.0.0.1/",
                                 "http://127.0.0.1.evil.example/"])
def test_only_local_urls_are_targeted(url: str) -> None:
    assert not is_local(url)
    with pytest.raises(CommandError) as err:
        call_command("simulate", "--tenant", "x", "--base-url", url)
    assert err.value.returncode == 2


def test_local_urls_are_accepted() -> None:
    assert all(is_local(u) for u in ("http://127.0.0.1:8000", "http://localhost:1234/", "http://[::1]:8000"))


@pytest.mark.django_db
def test_bad_numbers_and_unknown_tenant_are_usage_errors() -> None:
    for args in (["--agents", "0"], ["--speed", "0"], ["--minutes", "-1"], ["--calls-per-hour", "-5"]):
        with pytest.raises(CommandError) as err:
            call_command("simulate", "--tenant", "x", *args)
        assert err.value.returncode == 2, args
    with pytest.raises(CommandError) as err:
        call_command("simulate", "--tenant", "no-such-tenant")
    assert err.value.returncode == 2


PERSON_SEED = SEED + """
from linia.core.actions import create_api_token
from linia.core.models import Membership, User
from linia.routing.models import AgentProfile
anna = User.objects.create(username="anna")
Membership.objects.create(user=anna, tenant=Tenant.objects.get(slug="spar"), role="agent")
AgentProfile.objects.create(user=anna, presence="available", extension="501")
# The one simulated agent takes nothing, so every contact is offered to the person.
idle = User.objects.create(username="sim-spar-01")
AgentProfile.objects.create(user=idle, capacity={"call": 0, "chat": 0})
print(create_api_token(None, Tenant.objects.get(slug="spar"), anna)[0])
"""


@pytest.mark.slow
def test_a_person_on_the_desk_takes_simulated_calls(tmp_path: Path) -> None:
    """Contacts a person accepts are answered for the simulated customer: no abandon, ended after the person
    completes."""
    from linia.workforce.simulation.driver import Http

    env = linia_env(tmp_path)
    with live_linia(tmp_path, env) as base:
        token = subprocess.run([LINIA, "shell", "-c", PERSON_SEED], env=env, check=True, capture_output=True,
                               text=True, timeout=60).stdout.strip().splitlines()[-1]
        sim = subprocess.Popen([LINIA, "simulate", "--tenant", "spar", "--calls-per-hour", "400", "--chats-per-hour",
                                "0", "--agents", "1", "--minutes", "2", "--speed", "15", "--base-url", base,
                                "--seed", "5", "--profile", "flat"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        anna = Http(base, token)
        taken: list[int] = []
        try:
            while sim.poll() is None:
                me = anna.request("GET", "/api/v1/routing/me")[1]
                for offer in me.get("offers") or []:
                    if anna.request("POST", f"/api/v1/routing/offers/{offer['reservation_id']}/accept", {})[0] == 200:
                        taken.append(int(offer["task"]["id"]))
                        time.sleep(0.5)  # talking
                        done = anna.request("POST", f"/api/v1/routing/tasks/{taken[-1]}/complete", {})
                        if done[0] != 200:  # only when the run ended and the PBX hung up on every call
                            assert done[1]["error"]["code"] == "invalid_state", done
                            taken.pop()
                        anna.request("POST", "/api/v1/routing/wrapup/finish", {})
                time.sleep(0.2)
            out = sim.communicate(timeout=60)[0]
        finally:
            if sim.poll() is None:
                sim.kill()
        assert sim.returncode == 0, out
        summary = json.loads(out.split("Summary: ", 1)[1].splitlines()[0])
        assert taken and summary["answered"]["call"] >= len(taken) and summary["errors"] == 0, out
        report = json.loads(subprocess.run([LINIA, "shell", "-c", REPORT], env=env, check=True, capture_output=True,
                                           text=True, timeout=60).stdout.strip().splitlines()[-1])
        assert report["answered_calls"] >= len(taken)  # the PBX reported them answered, not abandoned
        assert report["tasks"].get("call:completed", 0) + report["tasks"].get("call:wrap_up", 0) >= len(taken)
