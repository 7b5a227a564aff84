"""`linia demo` side processes while it serves: the Huey worker, the SMTP server and traffic simulators."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from collections.abc import Callable

from django.conf import settings

from linia.demo import redis_detect

# Moderate real-time traffic: about 2 erlangs of calls and 2 of chats, enough to keep 4 simulated agents
# (and a human who logs in) busy without a growing queue.
SIMULATED = (("quickdrop", "40", "20"), ("vostok-market", "30", "15"))
SIM_AGENTS = "4"
SIM_MINUTES = str(7 * 24 * 60)


def linia_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "linia.cli", *args]


def use_public_url(url: str) -> None:
    """Links in the demo's emails (the customer's ticket page) point at the demo server, unless
    LINIA_PUBLIC_URL says otherwise; the worker that sends them inherits it through child_env."""
    if not os.environ.get("LINIA_PUBLIC_URL"):
        os.environ["LINIA_PUBLIC_URL"] = url
        settings.PUBLIC_URL = url


# Every demo visitor, the simulators' customers included, comes from 127.0.0.1: the per-IP limits on starting
# chats (10 a minute in production) would refuse most simulated chats at --speed 10 or more.
DEMO_CHAT_LIMITS = {"start_ip": (600, 60), "start_ip_hour": (20_000, 3600), "message_ip": (6000, 60),
                    "connect_ip": (6000, 60), "config_ip": (6000, 60)}


def relax_chat_limits_for_local_visitors() -> None:
    settings.LINIA_CHAT_RATE_LIMITS = {**DEMO_CHAT_LIMITS, **getattr(settings, "LINIA_CHAT_RATE_LIMITS", {})}


def child_env() -> dict[str, str]:
    """The environment of the demo's children: the same Redis (or none) and key prefix as the server, even
    when the demo found Redis by itself, so the worker's offers reach the server's websockets."""
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "LINIA_REDIS_PREFIX": settings.REDIS_PREFIX,
           "LINIA_HOME": str(settings.LINIA_HOME), "LINIA_EMAIL_BACKEND": os.environ.get("LINIA_EMAIL_BACKEND", "file")}
    return env


def describe_realtime() -> str:
    """One line for the start-up banner: which channel layer (and task queue) the demo uses."""
    if settings.REDIS_URL:
        how = "found on this machine" if settings.REDIS_DETECTED else "from REDIS_URL"
        prefix = f", key prefix {settings.REDIS_PREFIX}" if settings.REDIS_PREFIX else ""
        return (f"Realtime: Redis channel layer and task queue at {settings.REDIS_URL} ({how}{prefix}); "
                "offers made by the background worker reach desktops at once.")
    tried = os.environ.get(redis_detect.ENV, "").strip() or redis_detect.DEFAULT_URL
    return (f"Realtime: in-memory channel layer (no REDIS_URL, and no Redis answered at {tried}); offers "
            "made by the background worker reach desktops only at their next refresh.")


def start(base_url: str, *, simulate: bool, log: Callable[[str], None],
          speed: float = 1.0, smtp_port: int = 0) -> list[subprocess.Popen[bytes]]:
    """Start the worker, the SMTP server (unless smtp_port is 0) and (unless simulate is False) one simulator
    per demo tenant; returns the processes."""
    env = child_env()
    procs = [subprocess.Popen(linia_command("worker"), env=env)]  # noqa: S603 (our own command line)
    log(f"Background worker (routing ticker, outbound email, webhooks): PID {procs[0].pid}")
    log(f"Outbound email (replies, acknowledgements, forwards) is written to {settings.LINIA_HOME / 'sent-mail'}"
        if env["LINIA_EMAIL_BACKEND"] == "file" else "Outbound email goes to the SMTP relay in LINIA_EMAIL_HOST.")
    if smtp_port:
        host = urllib.parse.urlsplit(base_url).hostname or "127.0.0.1"
        procs.append(subprocess.Popen(linia_command(  # noqa: S603 (our own command line)
            "smtpd", "--host", host, "--port", str(smtp_port)), env=env))
        log(f"Inbound email: SMTP on {host}:{smtp_port} (PID {procs[-1].pid}); mail to support@<tenant>.demo.test, "
            f"e.g. support@quickdrop.demo.test")
    if simulate:
        for seed, (slug, calls, chats) in enumerate(SIMULATED, 1):
            out = settings.LINIA_HOME / f"simulate-{slug}.log"
            proc = subprocess.Popen(linia_command(  # noqa: S603 (our own command line)
                "simulate", "--tenant", slug, "--calls-per-hour", calls, "--chats-per-hour", chats,
                "--agents", SIM_AGENTS, "--minutes", SIM_MINUTES, "--base-url", base_url, "--seed", str(seed),
                "--profile", "flat", "--speed", f"{speed:g}"), env=env, stdout=(log_file := out.open("ab")),
                stderr=subprocess.STDOUT)
            log_file.close()  # the child has its own copy
            procs.append(proc)
            pace = f", speed x{speed:g}" if speed != 1 else ""
            log(f"Traffic simulator for {slug} ({calls} calls/h, {chats} chats/h{pace}, {SIM_AGENTS} agents "
                f"sim-{slug}-NN): PID {proc.pid}, log {out}")
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate our own children (by PID), simulators first, then the worker."""
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
    for proc in reversed(procs):
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
