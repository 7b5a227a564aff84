"""The real `linia demo` as a subprocess for end-to-end browser tests, and the browser helpers they share.

The demo runs with its own LINIA_HOME on a free port, traffic simulators sped up, and is stopped by its PID
(it stops its worker and simulators itself; if it has to be killed, they are killed by the PIDs it printed)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.liveserver import LINIA, free_port, linia_env

try:
    from playwright.sync_api import Browser, Page
except ImportError:  # pragma: no cover - depends on the machine
    Browser = Page = Any  # type: ignore[misc,assignment]

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("LINIA_ARTIFACTS") or ROOT / "test-artifacts") / "e2e"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
PASSWORD = "demo12345"  # printed by `linia demo`


def shell(env: dict[str, str], code: str) -> str:
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


@contextlib.contextmanager
def running_demo(tmp_path: Path, *, speed: str) -> Iterator[dict[str, Any]]:
    """`linia demo --small` serving on a free port; yields its base URL, start-up output, environment and home."""
    env = linia_env(tmp_path)
    port = free_port()
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([LINIA, "demo", "--small", "--tickets", "0", "--port", str(port), "--speed", speed,
                                 "--smtp-port", "0"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not (proc.poll() is None and "Linia on" in log_path.read_text() and _up(base + "/accounts/login/")):
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
        yield {"base": base, "log": log_path.read_text(), "env": env, "home": Path(env["LINIA_HOME"])}
    finally:
        proc.send_signal(signal.SIGINT)
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


def login(browser: Browser, base: str, username: str, target: str) -> Page:
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.goto(f"{base}/accounts/login/?next={target}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")
    return page


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, animations="disabled")
