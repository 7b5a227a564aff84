"""IMAP intake against a real dovecot: mail appended with IMAP APPEND becomes tickets, is moved to the done folder
only after it is stored, is never ingested twice, and failures are recorded on the mailbox."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from linia.intake.email import imap
from linia.intake.email.models import InboundEmail, Mailbox
from linia.tickets.models import Message, Ticket
from tests.email_imap.conftest import make_mailbox, message
from tests.email_imap.dovecot import Dovecot

pytestmark = pytest.mark.django_db

DONE = "Linia/Processed"


def one_message_per_id(tenant: Any, ids: list[str]) -> None:
    for msgid in ids:
        assert Message.objects.filter(tenant=tenant, external_id=f"email:{msgid}").count() == 1, msgid


def test_appended_mail_becomes_tickets_and_moves_to_the_done_folder(dovecot: Dovecot, imap_user: str) -> None:
    mailbox = make_mailbox(dovecot, imap_user)
    dovecot.append(imap_user, [message(i, to=mailbox.address) for i in range(3)])

    [(address, result)] = imap.poll_once(mailbox.address)

    assert address == mailbox.address
    assert (result.fetched, result.created, result.moved, result.error) == (3, 3, 3, "")
    assert Ticket.objects.filter(tenant=mailbox.tenant).count() == 3
    one_message_per_id(mailbox.tenant, [f"imap-test-{i}@client.example" for i in range(3)])
    assert set(InboundEmail.objects.filter(mailbox=mailbox).values_list("source", flat=True)) == {"imap"}
    assert dovecot.uids(imap_user) == []
    moved = dovecot.messages(imap_user, DONE)
    assert len(moved) == 3 and b"Message-ID: <imap-test-0@client.example>" in moved[0]
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None and mailbox.last_error == ""


def test_a_second_poll_and_a_redelivered_message_ingest_nothing_twice(dovecot: Dovecot, imap_user: str) -> None:
    mailbox = make_mailbox(dovecot, imap_user)
    dovecot.append(imap_user, [message(i, to=mailbox.address) for i in range(2)])
    imap.poll_once(mailbox.address)
    [(_, again)] = imap.poll_once(mailbox.address)
    assert again.fetched == 0
    dovecot.append(imap_user, message(0, to=mailbox.address))  # the same Message-ID delivered once more

    [(_, redelivered)] = imap.poll_once(mailbox.address)

    assert (redelivered.fetched, redelivered.duplicate, redelivered.moved) == (1, 1, 1)
    assert Ticket.objects.filter(tenant=mailbox.tenant).count() == 2
    one_message_per_id(mailbox.tenant, ["imap-test-0@client.example", "imap-test-1@client.example"])
    assert dovecot.uids(imap_user) == [] and len(dovecot.uids(imap_user, DONE)) == 3


def test_nothing_is_marked_seen_or_moved_before_it_is_stored(dovecot: Dovecot, imap_user: str) -> None:
    from linia.intake.email.actions import ingest_raw

    mailbox = make_mailbox(dovecot, imap_user)
    dovecot.append(imap_user, [message(i, to=mailbox.address) for i in range(3)])
    seen_during_ingest: list[tuple[int, bool]] = []

    def watching_ingest(raw: bytes, **kw: Any) -> Any:
        with dovecot.client(imap_user) as c:  # a second session looks at the server while we ingest
            c.select_folder("INBOX", readonly=True)
            flags = c.get_flags(c.search(["ALL"]))
            seen_during_ingest.append((len(flags), any(b"\\Seen" in fl for fl in flags.values())))
        return ingest_raw(raw, **kw)

    result = imap.poll_account(imap.account_for(mailbox), ingest=watching_ingest)

    assert result.moved == 3
    # Every message was still in the folder (none moved early) and none was marked \Seen by the fetch.
    assert seen_during_ingest == [(3, False), (3, False), (3, False)]


def test_a_crash_between_storing_and_moving_refetches_and_dedupes(dovecot: Dovecot, imap_user: str) -> None:
    from linia.intake.email.actions import ingest_raw

    mailbox = make_mailbox(dovecot, imap_user)
    dovecot.append(imap_user, [message(i, to=mailbox.address) for i in range(5)])
    calls = 0

    def crashing_ingest(raw: bytes, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        outcome = ingest_raw(raw, **kw)
        if calls == 3:
            raise KeyboardInterrupt  # the process dies after storing message 3, before any move
        return outcome

    with pytest.raises(KeyboardInterrupt):
        imap.drain(imap.connect(imap.account_for(mailbox)), imap.account_for(mailbox), ingest=crashing_ingest)
    assert len(dovecot.uids(imap_user)) == 5  # nothing was moved: the batch's move never ran

    [(_, result)] = imap.poll_once(mailbox.address)

    assert (result.fetched, result.duplicate, result.created, result.moved) == (5, 3, 2, 5)
    one_message_per_id(mailbox.tenant, [f"imap-test-{i}@client.example" for i in range(5)])
    assert Ticket.objects.filter(tenant=mailbox.tenant).count() == 5


def test_a_message_that_fails_to_ingest_stays_in_the_folder(dovecot: Dovecot, imap_user: str) -> None:
    from linia.intake.email.actions import ingest_raw

    mailbox = make_mailbox(dovecot, imap_user)
    dovecot.append(imap_user, [message(i, to=mailbox.address) for i in range(3)])

    def flaky_ingest(raw: bytes, **kw: Any) -> Any:
        if b"imap-test-1@" in raw:
            raise RuntimeError("database went away")
        return ingest_raw(raw, **kw)

    result = imap.poll_account(imap.account_for(mailbox), ingest=flaky_ingest)

    assert (result.fetched, result.created, result.failed, result.moved) == (3, 2, 1, 2)
    assert "could not be ingested" in result.error
    left = dovecot.messages(imap_user)
    assert len(left) == 1 and b"imap-test-1@" in left[0]
    [(_, retry)] = imap.poll_once(mailbox.address)  # fixed: the next pass takes it
    assert (retry.created, retry.moved, retry.error) == (1, 1, "")
    assert Ticket.objects.filter(tenant=mailbox.tenant).count() == 3


def test_wrong_password_is_recorded_clearly_and_loses_nothing(dovecot: Dovecot, imap_user: str) -> None:
    mailbox = make_mailbox(dovecot, imap_user, password="not-the-password")
    dovecot.append(imap_user, message(1, to=mailbox.address))

    [(_, result)] = imap.poll_once(mailbox.address)

    assert result.error == (f"IMAP login failed for user {imap_user} at 127.0.0.1:{dovecot.port}: "
                            "[AUTHENTICATIONFAILED] Authentication failed.")
    mailbox.refresh_from_db()
    assert mailbox.last_error == result.error and mailbox.last_polled_at is not None
    assert len(dovecot.uids(imap_user)) == 1 and not InboundEmail.objects.exists()


def test_closed_port_is_recorded_and_other_mailboxes_still_poll(dovecot: Dovecot, imap_user: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    broken = make_mailbox(dovecot, dovecot.add_user(imap_user + "x"), port=closed)
    working = make_mailbox(dovecot, imap_user)
    dovecot.append(imap_user, message(1, to=working.address))

    results = dict(imap.poll_once())

    assert results[broken.address].error == (
        f"Cannot connect to IMAP server 127.0.0.1:{closed}: connection refused")
    assert results[working.address].created == 1
    broken.refresh_from_db()
    assert "connection refused" in broken.last_error


def test_missing_or_undecryptable_password_is_explained(dovecot: Dovecot, imap_user: str) -> None:
    mailbox = make_mailbox(dovecot, imap_user)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_password_encrypted="gAAAA-garbage")
    [(_, result)] = imap.poll_once(mailbox.address)
    assert "No IMAP password is stored" in result.error


def test_tls_mailbox_with_a_trusted_certificate(dovecot: Dovecot, imap_user: str, settings: Any) -> None:
    settings.LINIA_IMAP_CA_FILE = str(dovecot.cafile)
    mailbox = make_mailbox(dovecot, imap_user, tls=True)
    dovecot.append(imap_user, message(1, to=mailbox.address))

    [(_, result)] = imap.poll_once(mailbox.address)

    assert (result.error, result.created, result.moved) == ("", 1, 1)


def test_tls_mailbox_with_an_untrusted_certificate_is_refused(dovecot: Dovecot, imap_user: str,
                                                              settings: Any, monkeypatch: Any) -> None:
    settings.LINIA_IMAP_CA_FILE = ""
    monkeypatch.delenv("LINIA_IMAP_CA_FILE", raising=False)
    mailbox = make_mailbox(dovecot, imap_user, tls=True)
    dovecot.append(imap_user, message(1, to=mailbox.address))

    [(_, result)] = imap.poll_once(mailbox.address)

    assert result.error.startswith(f"TLS certificate of 127.0.0.1:{dovecot.imaps_port} is not trusted")
    assert len(dovecot.uids(imap_user)) == 1 and not InboundEmail.objects.exists()


def test_starttls_upgrades_the_plain_port(dovecot: Dovecot, imap_user: str, settings: Any) -> None:
    settings.LINIA_IMAP_CA_FILE = str(dovecot.cafile)
    mailbox = make_mailbox(dovecot, imap_user)
    dovecot.append(imap_user, message(1, to=mailbox.address))
    acc = imap.account_for(mailbox)
    starttls = imap.Account(**{**acc.__dict__, "tls": "starttls"})

    client = imap.connect(starttls)
    try:
        assert client._imap.sock.version().startswith("TLS")  # the session really is encrypted
        result = imap.drain(client, starttls)
    finally:
        imap.close(client)

    assert (result.created, result.moved) == (1, 1)


def test_tls_switch_picks_implicit_tls_or_starttls_by_port() -> None:
    assert imap.tls_mode(True, 993) == "ssl"
    assert imap.tls_mode(True, 143) == "starttls"
    assert imap.tls_mode(False, 143) == "none"


def test_the_done_folder_must_differ_from_the_watched_folder(dovecot: Dovecot, imap_user: str) -> None:
    mailbox = make_mailbox(dovecot, imap_user, imap_done_folder="INBOX")
    dovecot.append(imap_user, message(1, to=mailbox.address))
    [(_, result)] = imap.poll_once(mailbox.address)
    assert result.error == "The folder for processed mail must differ from the watched folder INBOX"
    assert len(dovecot.uids(imap_user)) == 1 and not InboundEmail.objects.exists()


def test_folders_follow_the_servers_delimiter_and_namespace(dovecot: Dovecot, imap_user: str) -> None:
    with dovecot.client(imap_user) as c:
        assert imap.server_folder(c, "Linia/Processed") == "Linia/Processed"  # dovecot here: "/" and no prefix
        assert imap.server_folder(c, "inbox") == "INBOX"
    courier = Dovecot.start(separator=".", prefix="INBOX.")  # Courier/Cyrus style: "INBOX." and "."
    try:
        user = courier.add_user("courier")
        mailbox = make_mailbox(courier, user)
        courier.append(user, message(1, to=mailbox.address))
        with courier.client(user) as c:
            assert imap.server_folder(c, "Linia/Processed") == "INBOX.Linia.Processed"
        [(_, result)] = imap.poll_once(mailbox.address)
        assert (result.error, result.created, result.moved) == ("", 1, 1)
        assert len(courier.uids(user, "INBOX.Linia.Processed")) == 1 and courier.uids(user) == []
    finally:
        courier.cleanup()


def test_batches_bound_messages_and_bytes_per_fetch() -> None:
    sizes = {1: 10, 2: 10, 3: 100, 4: 10, 5: 10, 6: 10}
    assert list(imap.batches([1, 2, 3, 4, 5, 6], sizes, count=2, max_bytes=50)) == [[1, 2], [3], [4, 5], [6]]
    assert list(imap.batches([1, 2, 4], sizes, count=20, max_bytes=25)) == [[1, 2], [4]]
    assert list(imap.batches([], sizes, count=20, max_bytes=25)) == []


def test_big_messages_are_fetched_a_few_at_a_time(dovecot: Dovecot, imap_user: str, monkeypatch: Any) -> None:
    mailbox = make_mailbox(dovecot, imap_user)
    big = "x" * 70 + "\r\n"
    dovecot.append(imap_user, [message(i, to=mailbox.address, body=big * 3000) for i in range(5)])  # ~216 KB
    monkeypatch.setattr(imap, "FETCH_BYTES", 500_000)
    fetched: list[int] = []
    original = imap.IMAPClient.fetch

    def counting_fetch(self: Any, messages: Any, data: Any, *args: Any, **kw: Any) -> Any:
        if "BODY.PEEK[]" in data:
            fetched.append(len(messages))
        return original(self, messages, data, *args, **kw)

    monkeypatch.setattr(imap.IMAPClient, "fetch", counting_fetch)
    [(_, result)] = imap.poll_once(mailbox.address)

    assert (result.created, result.moved) == (5, 5)
    assert fetched == [2, 2, 1]


def test_inactive_mailboxes_and_tenants_are_not_polled(dovecot: Dovecot, imap_user: str) -> None:
    mailbox = make_mailbox(dovecot, imap_user)
    dovecot.append(imap_user, message(1, to=mailbox.address))
    mailbox.tenant.is_active = False
    mailbox.tenant.save()
    assert imap.poll_once() == []
    Mailbox.objects.filter(pk=mailbox.pk).update(is_active=False)
    mailbox.tenant.is_active = True
    mailbox.tenant.save()
    assert imap.poll_once() == []
    assert len(dovecot.uids(imap_user)) == 1  # left on the server, untouched
