"""`linia demo` serving: the worker and the simulators run beside the server and stop with it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.liveserver import LINIA, free_port

PRESENCE = """
import json
from linia.routing.models import AgentProfile
print(json.dumps(sorted(AgentProfile.objects.filter(user__username__startswith="sim-").values_list("presence", flat=True))))
"""




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
    demo = subprocess.Popen([LINIA, "demo", "--small", "--tickets", "0", "--port", str(free_port())], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 90
        presences: list[str] = []
        while time.monotonic() < deadline:
            time.sleep(2)
            text = (tmp_path / "demo.log").read_text()
            pids = [int(p) for p in re.findall(r"PID (\d+)", text.split("Linia on", 1)[0])]
            if len(pids) == 3 and "Linia on" in text:
                out = subprocess.run([LINIA, "shell", "-c", PRESENCE], env=env, capture_output=True, text=True,
                                     timeout=30).stdout
                presences = json.loads(out.strip().splitlines()[-1])
                if presences.count("available") + presences.count("busy") >= 8:
                    break
        assert len(pids) == 3, (tmp_path / "demo.log").read_text()
        assert all(_alive(p) for p in pids)
        assert len(presences) == 8 and "offline" not in presences, presences  # 4 agents x 2 tenants online
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
        log.close()
    time.sleep(0.5)
    assert not [p for p in pids if _alive(p)]
    assert (tmp_path / "simulate-quickdrop.log").read_text().startswith("Simulating quickdrop")
