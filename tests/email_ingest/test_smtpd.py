"""`linia smtpd` and `linia email ingest` as real processes, spoken to with smtplib and pipes."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.email_ingest.conftest import mail, msgid_of
from tests.email_ingest.server import Smtpd, copy_home
from tests.liveserver import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def smtpd(template_home: Path, tmp_path: Path) -> Iterator[Smtpd]:
    server = Smtpd(copy_home(template_home, tmp_path / "home"), LINIA_EMAIL_MAX_BYTES="60000").start()
    try:
        yield server
    finally:
        server.stop()


def test_smtp_delivery_stores_and_makes_a_ticket(smtpd: Smtpd) -> None:
    raw = mail(subject="Zamówienie 123 — gdzie jest?")
    with smtplib.SMTP("127.0.0.1", smtpd.port, timeout=30) as client:
        refused = client.sendmail("anna@client.example", ["support@shop.example"], raw)
        assert refused == {}
        assert client.noop()[0] == 250
    rows = smtpd.query("select m.external_id, t.subject, t.reference from tickets_message m "
                       "join tickets_ticket t on t.id = m.ticket_id")
    assert rows == [("email:" + msgid_of(raw), "Zamówienie 123 — gdzie jest?", "SPR-000001")]
    assert smtpd.query("select status, source from intake_email_inboundemail") == [("processed", "smtp")]


def test_unknown_recipient_is_refused_at_rcpt_with_550(smtpd: Smtpd) -> None:
    with smtplib.SMTP("127.0.0.1", smtpd.port, timeout=30) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("x@client.example", ["nobody@shop.example"], mail(to="nobody@shop.example"))
        assert refused.value.recipients["nobody@shop.example"][0] == 550
        client.rset()
        partly = client.sendmail("x@client.example", ["nobody@shop.example", "support@shop.example"], mail())
        assert set(partly) == {"nobody@shop.example"} and partly["nobody@shop.example"][0] == 550
    assert smtpd.query("select count(*) from tickets_ticket") == [(1,)]


def test_oversized_mail_gets_552(smtpd: Smtpd) -> None:
    big = mail(attachments=(("big.bin", "application/octet-stream", b"x" * 70_000),))
    with smtplib.SMTP("127.0.0.1", smtpd.port, timeout=30) as client:
        client.ehlo()
        assert int(client.esmtp_features["size"]) == 60000
        with pytest.raises(smtplib.SMTPSenderRefused) as announced:  # smtplib announces SIZE=: refused at MAIL
            client.sendmail("x@client.example", ["support@shop.example"], big)
        assert announced.value.smtp_code == 552
        client.rset()
        assert client.mail("x@client.example")[0] == 250  # a client that does not announce the size
        assert client.rcpt("support@shop.example")[0] == 250
        code, text = client.data(big)
        assert code == 552, text
    assert smtpd.query("select count(*) from tickets_ticket") == [(0,)]


def test_garbage_after_data_is_refused_not_lost(smtpd: Smtpd) -> None:
    with smtplib.SMTP("127.0.0.1", smtpd.port, timeout=30) as client:
        client.ehlo()
        client.mail("x@client.example")
        client.rcpt("support@shop.example")
        code, text = client.data(b"\x00\x01\x02\xff" * 100)
    assert code == 554 and b"not an email" in text.lower()
    assert smtpd.query("select status, reason from intake_email_inboundemail") == [("rejected", "not_an_email")]


def test_lmtp_delivery_answers_per_recipient(template_home: Path, tmp_path: Path) -> None:
    server = Smtpd(copy_home(template_home, tmp_path / "home"), lmtp=True).start()
    try:
        client = smtplib.LMTP("127.0.0.1", server.port, timeout=30)
        try:
            refused = client.sendmail("anna@client.example", ["support@shop.example", "help@other.example"],
                                      mail(to="support@shop.example, help@other.example"))
            assert refused == {}
        finally:
            client.quit()
        tenants = server.query("select tn.slug from tickets_ticket t join core_tenant tn on tn.id = t.tenant_id "
                               "order by tn.slug")
        assert tenants == [("other",), ("shop",)]  # one ticket in each tenant
    finally:
        server.stop()


def test_pipe_ingest_exit_codes(template_home: Path, tmp_path: Path) -> None:
    server = Smtpd(copy_home(template_home, tmp_path / "home"), LINIA_EMAIL_MAX_BYTES="60000")  # not started
    raw = mail()
    ok = server.run("email", "ingest", "--recipient", "support@shop.example", stdin=raw)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.decode().startswith("created")
    again = server.run("email", "ingest", stdin=raw)  # recipients from the headers
    assert again.returncode == 0 and again.stdout.decode().startswith("duplicate")
    nouser = server.run("email", "ingest", "--recipient", "nobody@shop.example", stdin=mail())
    assert nouser.returncode == 67 and b"unknown_recipient" in nouser.stderr
    big = server.run("email", "ingest", "--recipient", "support@shop.example",
                     stdin=mail(attachments=(("big.bin", "application/octet-stream", b"x" * 70_000),)))
    assert big.returncode == 65 and b"too_large" in big.stderr
    down = Smtpd(tmp_path / "home", DATABASE_URL=f"postgres://nobody@127.0.0.1:{free_port()}/none")
    tempfail = down.run("email", "ingest", "--recipient", "support@shop.example", stdin=mail())
    assert tempfail.returncode == 75, tempfail.stderr  # the database is down: the MTA keeps it and retries
    assert server.query("select count(*) from tickets_message") == [(1,)]
    assert server.query("select status, reason from intake_email_inboundemail order by id") == [
        ("processed", ""), ("rejected", "unknown_recipient"), ("rejected", "too_large")]
