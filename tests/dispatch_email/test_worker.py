"""A real `linia worker` process (Huey consumer) sends what the web process queued, through real SMTP."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.dispatch_email.smtp_capture import CaptureServer
from tests.liveserver import LINIA, linia_env

ROOT = Path(__file__).resolve().parents[2]
SEED = """
from linia.core.models import Tenant
from linia.intake.email.models import Mailbox
from linia.tickets import actions
from linia.dispatch import outbound
from linia.core.models import User, Membership
t = Tenant.objects.create(slug="w", name="Worker Shop", ticket_prefix="WRK")
Mailbox.objects.create(tenant=t, address="help@worker.example")
agent = User.objects.create_user("agent", password="x")
Membership.objects.create(user=agent, tenant=t, role="agent")
c = actions.find_or_create_contact(None, t, name="Eve", emails=["eve@customer.example"])
ticket = actions.create_ticket(None, t, subject="Order", channel="email", body="Where?", contact=c,
                               external_id="email:eve-1@customer.example")
outbound.send_reply(agent, ticket, body="From the worker")
"""


@pytest.mark.slow
def test_linia_worker_sends_the_queued_reply(tmp_path: Path) -> None:
    smtp = CaptureServer().start()
    env = linia_env(tmp_path, LINIA_TEST_SMTP_PORT=str(smtp.port), PYTHONPATH=str(ROOT))
    env["DJANGO_SETTINGS_MODULE"] = "tests.dispatch_email.worker_settings"
    try:
        subprocess.run([LINIA, "migrate", "--verbosity", "0"], env=env, check=True, capture_output=True,
                       timeout=180, cwd=ROOT)
        subprocess.run([LINIA, "shell", "-c", SEED], env=env, check=True, capture_output=True, timeout=120,
                       cwd=ROOT)
        assert smtp.take() == []  # nothing is sent by the web process itself
        with (tmp_path / "worker.log").open("w") as log:
            worker = subprocess.Popen([LINIA, "worker", "--workers", "3"], env=env, stdout=log,
                                      stderr=subprocess.STDOUT, cwd=ROOT)
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not smtp.messages:
                    time.sleep(0.2)
            finally:
                worker.terminate()
                worker.wait(timeout=20)
        captured = smtp.take()
        assert len(captured) == 1, (tmp_path / "worker.log").read_text()[-2000:]
        mail = captured[0].message
        assert captured[0].rcpt_tos == ["eve@customer.example"]
        assert mail["In-Reply-To"] == "<eve-1@customer.example>"
        assert "From the worker" in mail.get_body(("plain",)).get_content()
    finally:
        smtp.stop()
