"""`linia simulate`: synthetic calls and chats against a running Linia, through its public API and websockets."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linia.core.actions import revoke_api_token
from linia.core.models import Tenant
from linia.workforce import setup as sim_setup
from linia.workforce.simulation import CALLS, CHATS, PROFILES, contacts
from linia.workforce.simulation.driver import Setup, Simulation, SimulationError, is_local

LIMITS = {"calls_per_hour": (0, 100_000), "chats_per_hour": (0, 100_000), "agents": (1, 500),
          "minutes": (0.1, 7 * 24 * 60), "speed": (0.1, 1000)}


class Command(BaseCommand):
    help = ("Simulate calls (as a PBX) and chats with simulated agents on the desktop websocket, against a "
            "Linia served on this machine.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--calls-per-hour", type=float, default=60)
        parser.add_argument("--chats-per-hour", type=float, default=20)
        parser.add_argument("--agents", type=int, default=5)
        parser.add_argument("--minutes", type=float, default=10, help="simulated minutes to run")
        parser.add_argument("--speed", type=float, default=1.0, help="time compression (10 = ten times faster)")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="a local Linia only")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--profile", choices=sorted(PROFILES), default="day",
                            help="intraday arrival shape (day: hotline peaks, starting at the tenant's local hour)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not is_local(opts["base_url"]):
            raise CommandError("--base-url must point to this machine (127.0.0.1 or localhost).", returncode=2)
        for name, (low, high) in LIMITS.items():
            if not low <= opts[name] <= high:
                raise CommandError(f"--{name.replace('_', '-')} must be between {low} and {high}.", returncode=2)
        tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {opts['tenant']!r}.", returncode=2)
        line, chats = sim_setup.ensure_contact_center(tenant)
        assert line.queue is not None
        channel = sim_setup.ensure_chat_channel(tenant, chats)
        chats = channel.queue  # the widget's chats go where its channel sends them
        agents = sim_setup.ensure_agents(tenant, opts["agents"])
        raw, token = sim_setup.integration_token(tenant)
        local = datetime.now(ZoneInfo(tenant.time_zone or "UTC"))
        specs = [replace(CALLS, per_hour=opts["calls_per_hour"]), replace(CHATS, per_hour=opts["chats_per_hour"])]
        seconds = opts["minutes"] * 60
        plan = contacts(specs, seconds, opts["seed"], profile=opts["profile"],
                        start_hour=local.hour + local.minute / 60)
        config = Setup(base_url=opts["base_url"], token=raw, line_number=line.number, chat_queue=chats.code,
                       chat_key=channel.public_key,
                       agents=agents, dispositions=[c for c, _ in sim_setup.DISPOSITIONS],
                       target_s={"call": line.queue.target_answer_seconds, "chat": chats.target_answer_seconds},
                       speed=opts["speed"], seed=opts["seed"], minutes=opts["minutes"])
        self.stdout.write(f"Simulating {tenant.slug}: {len(plan)} contacts planned over {opts['minutes']:g} "
                          f"simulated minutes at speed {opts['speed']:g}, {len(agents)} agents, line {line.number}, "
                          f"chat queue {chats.code}.")
        try:
            stats = asyncio.run(Simulation(config, plan, out=self._line).run())
        except (SimulationError, OSError) as exc:
            raise CommandError(f"Simulation failed: {exc}") from None
        finally:
            revoke_api_token(None, token)
        self.stdout.write("Summary: " + json.dumps(stats.summary(), ensure_ascii=False))
        if stats.last_error:
            self.stdout.write(f"Last error: {stats.last_error}")

    def _line(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
