"""The long-running poller: IDLE wakes it within a second or two of an APPEND; a server without IDLE and MOVE is
polled on an interval and filed with COPY + \\Deleted + UID EXPUNGE; a lost server is retried with backoff."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import OperationalError

from linia.intake.email import imap
from linia.intake.email.models import InboundEmail, Mailbox
from tests.email_imap.conftest import make_mailbox, message
from tests.email_imap.dovecot import Dovecot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def wait_until(check: Callable[[], bool], timeout: float = 15) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if check():
                return time.monotonic() - started
        except OperationalError:  # the in-memory test database's table lock while the poller thread writes
            pass
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")


def stored(mailbox: Mailbox, n: int) -> Callable[[], bool]:
    return lambda: InboundEmail.objects.filter(mailbox=mailbox).count() >= n


@contextmanager
def running(poller: imap.MailboxPoller) -> Iterator[imap.MailboxPoller]:
    poller.start()
    try:
        yield poller
    finally:
        poller.stop()
        poller.join(timeout=15)
        assert not poller.is_alive()


@pytest.fixture
def plain_server() -> Iterator[Dovecot]:
    """A second dovecot that advertises neither IDLE nor MOVE (like some hosted servers)."""
    from tests.email_imap.dovecot import dovecot_binary

    if dovecot_binary() is None:
        pytest.skip("dovecot is not installed: run scripts/setup_mail.sh (Debian package dovecot-imapd)")
    server = Dovecot.start(extra_conf="imap_capability = IMAP4rev1 LITERAL+ UIDPLUS NAMESPACE\n")
    try:
        yield server
    finally:
        server.cleanup()


def test_idle_wakes_the_poller_within_two_seconds_of_an_append(dovecot: Dovecot, imap_user: str) -> None:
    mailbox = make_mailbox(dovecot, imap_user)
    dovecot.append(imap_user, message(1, to=mailbox.address))
    # An interval of 10 minutes: only IDLE can bring the second message in quickly. A short IDLE refresh
    # shows that re-issuing IDLE keeps it listening.
    poller = imap.MailboxPoller(mailbox.pk, poll_interval=600, idle_refresh=0.5)
    with running(poller):
        wait_until(stored(mailbox, 1))
        wait_until(poller.waiting.is_set)
        time.sleep(1.5)  # past a few IDLE refreshes
        started = time.monotonic()
        dovecot.append(imap_user, message(2, to=mailbox.address))
        wait_until(stored(mailbox, 2))
        latency = time.monotonic() - started
        print(f"IDLE: stored {latency:.2f} s after the APPEND")
        assert latency < 2.0, latency
        wait_until(lambda: dovecot.uids(imap_user) == [])
        assert poller.failures == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.last_polled_at is not None


def test_without_idle_and_move_it_polls_and_files_with_copy_and_expunge(plain_server: Dovecot) -> None:
    user = plain_server.add_user("plain")
    with plain_server.client(user) as c:
        assert not c.has_capability("IDLE") and not c.has_capability("MOVE")
    mailbox = make_mailbox(plain_server, user)
    plain_server.append(user, [message(i, to=mailbox.address) for i in range(3)])
    poller = imap.MailboxPoller(mailbox.pk, poll_interval=0.5)
    with running(poller):
        wait_until(stored(mailbox, 3))
        plain_server.append(user, message(3, to=mailbox.address))
        wait_until(stored(mailbox, 4), timeout=5)
        wait_until(lambda: plain_server.uids(user) == [] and len(plain_server.uids(user, "Linia/Processed")) == 4)
    # COPY + \Deleted + UID EXPUNGE left no deleted copies behind in the inbox.
    with plain_server.client(user) as c:
        c.select_folder("INBOX", readonly=True)
        assert c.search(["ALL"]) == []


def test_a_server_that_goes_away_is_retried_with_backoff(plain_server: Dovecot) -> None:
    user = plain_server.add_user("flaky")
    mailbox = make_mailbox(plain_server, user)
    poller = imap.MailboxPoller(mailbox.pk, poll_interval=0.3, backoff_first=0.2)
    with running(poller):
        wait_until(lambda: poller.passes >= 1)
        plain_server.stop()
        wait_until(lambda: poller.failures >= 2)
        mailbox.refresh_from_db()
        assert "connection refused" in mailbox.last_error or "lost" in mailbox.last_error, mailbox.last_error


def test_run_polls_every_mailbox_and_one_failure_does_not_stop_the_others(dovecot: Dovecot) -> None:
    good = make_mailbox(dovecot, dovecot.add_user("runner-good"))
    bad = make_mailbox(dovecot, dovecot.add_user("runner-bad"), password="wrong")
    dovecot.append("runner-good", message(1, to=good.address))
    dovecot.append("runner-bad", message(2, to=bad.address))
    stop = threading.Event()
    thread = threading.Thread(target=imap.run, args=(stop,), kwargs={"poll_interval": 600})
    thread.start()
    try:
        wait_until(stored(good, 1))
        wait_until(lambda: bool(Mailbox.objects.get(pk=bad.pk).last_error))
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert "IMAP login failed" in Mailbox.objects.get(pk=bad.pk).last_error
    assert len(dovecot.uids("runner-bad")) == 1
