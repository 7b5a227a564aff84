"""kill -9 of `linia smtpd` at random points while 500 messages flow in: nothing lost, nothing twice.

A sender thread plays the MTA: it keeps a connection, sends messages one after the other and, when
a message is not acknowledged with 250 (connection refused or dropped mid-transaction), reconnects
and sends the same message again. The test kills the server with SIGKILL at random moments and
restarts it. At the end every message must be exactly one ticket message.
"""

from __future__ import annotations

import contextlib
import random
import smtplib
import threading
import time
from pathlib import Path

import pytest

from tests.email_ingest.conftest import mail
from tests.email_ingest.server import Smtpd, copy_home

pytestmark = pytest.mark.slow

COUNT = 500


class Sender(threading.Thread):
    def __init__(self, port: int, messages: list[bytes]) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.messages = messages
        self.acked: list[int] = []
        self.retries = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._send_all()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _send_all(self) -> None:
        client: smtplib.SMTP | None = None
        deadline = time.monotonic() + 150
        for n, raw in enumerate(self.messages):
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"message {n} never acknowledged")
                try:
                    if client is None:
                        client = smtplib.SMTP("127.0.0.1", self.port, timeout=20)
                    refused = client.sendmail("client@client.example", ["support@shop.example"], raw)
                    assert refused == {}
                    self.acked.append(n)
                    break
                except (OSError, smtplib.SMTPException) as exc:
                    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500:
                        raise  # a permanent refusal would lose the message: that is a failure
                    self.retries += 1
                    if client is not None:
                        with contextlib.suppress(OSError):
                            client.close()
                    client = None
                    time.sleep(0.02)
        if client is not None:
            client.quit()


def test_kill_9_at_random_points_loses_nothing_and_duplicates_nothing(template_home: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    home = copy_home(template_home, tmp_path / "home")
    rnd = random.Random(20261126)
    messages = []
    for n in range(COUNT):
        kw: dict[str, object] = {"message_id": f"crash-{n}@client.example", "subject": f"Crash test {n}",
                                 "body": f"Message number {n}.\n" + "Some text of a real mail. " * rnd.randint(5, 60)}
        if n % 7 == 3:
            kw["in_reply_to"] = f"crash-{n - 1}@client.example"  # some replies: threading under crashes too
        if n % 11 == 5:
            kw["attachments"] = (("scan.pdf", "application/pdf", b"%PDF-1.4 " + bytes(rnd.randbytes(4000))),)
        messages.append(mail(**kw))  # type: ignore[arg-type]
    server = Smtpd(home).start()
    sender = Sender(server.port, messages)
    sender.start()
    kills = 0
    try:
        while sender.is_alive() and kills < 8:
            time.sleep(rnd.uniform(0.2, 1.0))
            if not sender.is_alive():
                break
            server.kill9()
            kills += 1
            server.start()
        sender.join(timeout=150)
    finally:
        server.stop()
    assert sender.error is None, sender.error
    assert not sender.is_alive()
    assert sender.acked == list(range(COUNT))
    assert kills >= 3, "the server was not killed while messages flowed"

    reprocess = server.run("email", "reprocess")
    assert reprocess.returncode == 0, reprocess.stderr
    per_message = dict(server.query("select external_id, count(*) from tickets_message group by external_id"))
    expected = {f"email:crash-{n}@client.example" for n in range(COUNT)}
    assert set(per_message) == expected, f"missing: {sorted(expected - set(per_message))[:5]}"
    assert set(per_message.values()) == {1}, "a message was stored twice"
    assert server.query("select status, count(*) from intake_email_inboundemail group by status") == [
        ("processed", COUNT)]
    orphans = server.query("select count(*) from tickets_ticket t where not exists "
                           "(select 1 from tickets_message m where m.ticket_id = t.id)")
    assert orphans == [(0,)], "a ticket without its message"
    print(f"crash test: {kills} kills, {sender.retries} resends, {time.monotonic() - started:.1f} s")
