"""`linia webhooks replay|deliver`: dead-letter replay and a foreground delivery loop."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from linia.core.models import Tenant
from linia.dispatch import actions, webhooks
from linia.dispatch.models import WebhookDelivery, WebhookSubscription

HELP = """Webhooks.
  linia webhooks replay [--tenant SLUG] [--subscription ID] [--delivery ID ...]   queue dead deliveries again
  linia webhooks deliver [--once] [--interval SECONDS]   enqueue and send in the foreground (the worker does this)"""


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        replay = sub.add_parser("replay", help="queue dead deliveries again")
        replay.add_argument("--tenant", help="tenant slug (default: all tenants)")
        replay.add_argument("--subscription", type=int, help="only this subscription id")
        replay.add_argument("--delivery", type=int, nargs="+", help="only these delivery ids")
        deliver = sub.add_parser("deliver", help="enqueue new events and send due deliveries")
        deliver.add_argument("--once", action="store_true", help="one pass, then exit")
        deliver.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "replay":
            self.replay(opts)
        else:
            self.deliver(opts)

    def replay(self, opts: dict[str, Any]) -> None:
        tenant = None
        if opts.get("tenant"):
            tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
            if tenant is None:
                raise CommandError(f"no tenant with slug {opts['tenant']!r}")
        subscription = None
        if opts.get("subscription"):
            qs = WebhookSubscription.objects.filter(pk=opts["subscription"])
            subscription = (qs.filter(tenant=tenant) if tenant else qs).first()
            if subscription is None:
                raise CommandError(f"no webhook subscription {opts['subscription']}")
        deliveries = None
        if opts.get("delivery"):
            deliveries = list(WebhookDelivery.objects.filter(pk__in=opts["delivery"]))
        n = actions.replay_deliveries(None, tenant, deliveries, subscription=subscription)
        self.stdout.write(f"{n} dead deliveries queued again")

    def deliver(self, opts: dict[str, Any]) -> None:
        try:
            while True:
                queued, attempted = webhooks.tick()
                if queued or attempted:
                    self.stdout.write(f"queued {queued}, attempts {attempted}")
                if opts["once"]:
                    return
                time.sleep(opts["interval"])
        except KeyboardInterrupt:
            return
