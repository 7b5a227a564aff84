"""A session-wide throw-away dovecot (skipped with a clear reason when dovecot is not installed), a fresh IMAP
account per test, and Mailbox rows pointing at it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from tests import factories as f
from tests.email_imap.dovecot import Dovecot, dovecot_binary

_seq = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if dovecot_binary() is None:
        pytest.skip("dovecot is not installed: run scripts/setup_mail.sh (Debian package dovecot-imapd)")
    server = Dovecot.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def imap_user(dovecot: Dovecot) -> str:
    return dovecot.add_user(f"box{next(_seq)}")


def make_mailbox(dovecot: Dovecot, user: str, *, tenant: Any = None, tls: bool = False, port: int | None = None,
                 password: str | None = None, **kw: Any) -> Any:
    from linia.intake.email.models import Mailbox

    tenant = tenant or f.tenant()
    mailbox = Mailbox(tenant=tenant, address=f"{user}@{tenant.slug}.example", imap_host=dovecot.host,
                      imap_port=port or (dovecot.imaps_port if tls else dovecot.port), imap_tls=tls, imap_user=user,
                      **kw)
    mailbox.set_imap_password(dovecot.users[user] if password is None else password)
    mailbox.save()
    return mailbox


def message(n: int, *, to: str = "support@example.com", subject: str | None = None, msgid: str | None = None,
            body: str | None = None) -> bytes:
    msgid = msgid or f"imap-test-{n}@client.example"
    return (f"From: Client {n} <client{n}@client.example>\r\nTo: {to}\r\n"
            f"Subject: {subject or f'Question number {n}'}\r\nMessage-ID: <{msgid}>\r\n"
            f"Date: Thu, 26 Nov 2026 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body or f'Body of message {n}.'}\r\n").encode()
