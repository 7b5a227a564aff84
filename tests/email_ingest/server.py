"""A real `linia smtpd` process on its own SQLite home and a free 127.0.0.1 port; stopped or killed by PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.liveserver import free_port

SEED = """
from linia.core.models import Tenant
from linia.intake.email.models import Mailbox
shop = Tenant.objects.create(slug="shop", name="Shop", ticket_prefix="SPR", default_language="pl")
Mailbox.objects.create(tenant=shop, address="support@shop.example")
other = Tenant.objects.create(slug="other", name="Other", ticket_prefix="OTH")
Mailbox.objects.create(tenant=other, address="help@other.example")
"""


def linia() -> list[str]:
    return [sys.executable, "-m", "linia.cli"]


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "LINIA_TEST_SQLITE", "DJANGO_SETTINGS_MODULE")}
    env.update(LINIA_HOME=str(home), PYTHONUNBUFFERED="1", LINIA_FAST_PASSWORDS="1", **extra)
    return env


def make_template(home: Path) -> Path:
    """Migrate and seed once; tests copy the database (a migration takes ~10 s, a copy milliseconds)."""
    env = env_for(home)
    subprocess.run([*linia(), "migrate", "-v0"], env=env, check=True, timeout=300, capture_output=True)
    subprocess.run([*linia(), "shell", "-c", SEED], env=env, check=True, timeout=120, capture_output=True)
    return home


def copy_home(template: Path, home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    for name in ("linia.sqlite3", "secret_key"):
        shutil.copy2(template / name, home / name)
    return home


def wait_port(port: int, timeout: float = 60, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"smtpd exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.settimeout(2)
                if sock.recv(100).startswith(b"220"):  # the greeting: the server is serving
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"smtpd did not listen on {port}")


class Smtpd:
    def __init__(self, home: Path, *, lmtp: bool = False, port: int | None = None, **env: str) -> None:
        self.home = home
        self.env = env_for(home, **env)
        self.lmtp = lmtp
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Smtpd:
        args = [*linia(), "smtpd", "--host", "127.0.0.1", "--port", str(self.port), "--hostname", "mx.test"]
        if self.lmtp:
            args.append("--lmtp")
        with (self.home / f"smtpd-{self.starts}.log").open("wb") as log:
            self.proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        wait_port(self.port, proc=self.proc)
        return self

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def run(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*linia(), *args], env=self.env, input=stdin, capture_output=True, timeout=120,
                              check=False)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.home / "linia.sqlite3", timeout=30) as con:
            return con.execute(sql, params).fetchall()
