"""A real `linia serve` process for end-to-end tests: own LINIA_HOME, free 127.0.0.1 port, stopped by PID."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LINIA = str(Path(sys.executable).with_name("linia"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def linia_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a separate Linia process: SQLite under `home`, fast password hashing."""
    env = {**os.environ, "LINIA_HOME": str(home), "DATABASE_URL": "", "REDIS_URL": "", "LINIA_FAST_PASSWORDS": "1",
           **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def wait_for_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (local test server)
            return
        except OSError:
            time.sleep(0.2)


@contextmanager
def live_linia(home: Path, env: dict[str, str], *, seed: str = "") -> Iterator[str]:
    """Migrate, run `seed` (Python for `linia shell -c`), serve; yields the base URL."""
    subprocess.run([LINIA, "migrate", "--verbosity", "0"], env=env, check=True, capture_output=True, timeout=120)
    if seed:
        subprocess.run([LINIA, "shell", "-c", seed], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    with (home / "server.log").open("w") as log:
        proc = subprocess.Popen([LINIA, "serve", "--port", str(port), "--no-migrate"], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/accounts/login/")
        try:
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
