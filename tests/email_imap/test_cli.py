"""`linia email poll` as a separate process on its own SQLite database: exit codes of --once, and kill -9 in the
middle of a 200-message batch (while more mail flows in) loses nothing and ingests nothing twice."""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.email_imap.conftest import message
from tests.email_imap.dovecot import Dovecot
from tests.liveserver import LINIA, linia_env

pytestmark = pytest.mark.slow

SEED = """
from linia.core.models import Tenant
from linia.intake.email.models import Mailbox
t = Tenant.objects.create(slug="acme", name="Acme", time_zone="Europe/Warsaw", default_language="en",
                          ticket_prefix="ACM")
m = Mailbox(tenant=t, address="{address}", imap_host="127.0.0.1", imap_port={port}, imap_tls=False,
            imap_user="{user}")
m.set_imap_password("{password}")
m.save()
"""


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated LINIA_HOME, copied for each test (migrating takes seconds on a busy machine)."""
    home = tmp_path_factory.mktemp("linia-imap-template")
    subprocess.run([LINIA, "migrate", "--verbosity", "0"], env=linia_env(home), check=True, capture_output=True,
                   timeout=300)
    return home


def setup_home(template: Path, home: Path, dovecot: Dovecot, user: str, *,
               password: str | None = None) -> dict[str, str]:
    for name in ("linia.sqlite3", "linia.sqlite3-wal", "secret_key"):
        if (template / name).exists():
            shutil.copy2(template / name, home / name)
    env = linia_env(home)
    seed = SEED.format(address=f"{user}@acme.example", port=dovecot.port, user=user,
                       password=dovecot.users[user] if password is None else password)
    subprocess.run([LINIA, "shell", "-c", seed], env=env, check=True, capture_output=True, timeout=120)
    return env


def query(home: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(f"file:{home / 'linia.sqlite3'}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def count(home: Path, table: str) -> int:
    for _ in range(50):
        try:
            return int(query(home, f"SELECT COUNT(*) FROM {table}")[0][0])  # noqa: S608 (fixed table names)
        except sqlite3.OperationalError:  # busy for a moment (e.g. a checkpoint)
            time.sleep(0.02)
    return -1


def test_once_exits_non_zero_with_a_clear_message_on_a_wrong_password(
        tmp_path: Path, migrated: Path, dovecot: Dovecot, imap_user: str) -> None:
    env = setup_home(migrated, tmp_path, dovecot, imap_user, password="wrong-password")
    dovecot.append(imap_user, message(1, to=f"{imap_user}@acme.example"))

    run = subprocess.run([LINIA, "email", "poll", "--once"], env=env, capture_output=True, text=True, timeout=120)

    assert run.returncode == 1, run.stdout + run.stderr
    assert f"IMAP login failed for user {imap_user} at 127.0.0.1:{dovecot.port}" in run.stdout
    assert f"IMAP polling failed for {imap_user}@acme.example" in run.stderr
    [(error,)] = query(tmp_path, "SELECT last_error FROM intake_email_mailbox")
    assert "AUTHENTICATIONFAILED" in str(error)
    assert len(dovecot.uids(imap_user)) == 1 and count(tmp_path, "intake_email_inboundemail") == 0

    unknown = subprocess.run([LINIA, "email", "poll", "--once", "--mailbox", "nobody@acme.example"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "no active mailbox" in unknown.stderr


def test_kill_9_mid_batch_then_restart_ingests_every_message_exactly_once(
        tmp_path: Path, migrated: Path, dovecot: Dovecot, imap_user: str) -> None:
    total, first = 200, 120
    address = f"{imap_user}@acme.example"
    env = setup_home(migrated, tmp_path, dovecot, imap_user)
    dovecot.append(imap_user, [message(i, to=address, msgid=f"crash-{i}@client.example") for i in range(first)])
    late = threading.Thread(target=lambda: [
        (dovecot.append(imap_user, message(i, to=address, msgid=f"crash-{i}@client.example")), time.sleep(0.01))
        for i in range(first, total)])
    rng = random.Random(5)
    kills = 0
    killed_at: list[int] = []
    log = (tmp_path / "poll.log").open("w")
    for target in sorted(rng.sample(range(20, 170), 3)):
        proc = subprocess.Popen([LINIA, "email", "poll", "--interval", "0.5"], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        if not late.is_alive() and kills == 1:
            late.start()  # more mail arrives while the poller is being killed and restarted
        target = max(target, max(killed_at, default=0) + 5)  # always some progress between two kills
        deadline = time.monotonic() + 60
        while count(tmp_path, "intake_email_inboundemail") < target and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.005)
        proc.kill()  # SIGKILL by PID: no cleanup, no goodbye to the IMAP server
        proc.wait(timeout=10)
        killed_at.append(count(tmp_path, "intake_email_inboundemail"))
        kills += 1
        assert proc.returncode == -9, (tmp_path / "poll.log").read_text()[-3000:]
    late.join(timeout=60)
    assert kills == 3
    # Each kill hit a poller in the middle of its work: some mail stored, some still waiting on the server.
    assert all(0 < n < total for n in killed_at), killed_at
    assert killed_at == sorted(killed_at) and len(set(killed_at)) == 3, killed_at

    final = subprocess.run([LINIA, "email", "poll", "--once"], env=env, capture_output=True, text=True, timeout=300)

    assert final.returncode == 0, final.stdout + final.stderr
    ids = [f"email:crash-{i}@client.example" for i in range(total)]
    rows = dict(query(tmp_path, "SELECT external_id, COUNT(*) FROM tickets_message "
                                "WHERE external_id LIKE 'email:crash-%' GROUP BY external_id"))
    missing = [i for i in ids if i not in rows]
    twice = {k: v for k, v in rows.items() if v != 1}
    assert not missing and not twice, (missing[:5], twice)
    assert count(tmp_path, "tickets_ticket") == total
    assert query(tmp_path, "SELECT status, COUNT(*) FROM intake_email_inboundemail GROUP BY status") == [
        ("processed", total)]
    assert dovecot.uids(imap_user) == []
    done = dovecot.messages(imap_user, "Linia/Processed")
    # Moved once each: a message is filed away only after it is stored, and never copied twice.
    assert len(done) == total


def test_the_long_running_poller_stops_cleanly_on_sigterm(
        tmp_path: Path, migrated: Path, dovecot: Dovecot, imap_user: str) -> None:
    env = setup_home(migrated, tmp_path, dovecot, imap_user)
    dovecot.append(imap_user, message(1, to=f"{imap_user}@acme.example"))
    proc = subprocess.Popen([LINIA, "email", "poll"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while dovecot.uids(imap_user) and time.monotonic() < deadline:  # stored, then moved
            time.sleep(0.1)
        assert dovecot.uids(imap_user) == [] and count(tmp_path, "intake_email_inboundemail") == 1
        proc.terminate()  # SIGTERM by PID
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out.decode(errors="replace")
    assert b"IDLE where offered" in out
    [(error, polled)] = query(tmp_path, "SELECT last_error, last_polled_at FROM intake_email_mailbox")
    assert error == "" and polled is not None
