"""Messages built with the standard library, a tenant with a mailbox, and a routing queue for email."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests import factories as f

_seq = itertools.count(1)


def mail(*, subject: str = "Where is my order?", sender: str | None = "Anna Kowalska <anna@client.example>",
         to: str = "support@shop.example", body: str = "Hello, my order has not arrived.",
         message_id: str | None = "auto", in_reply_to: str | None = None, references: str | None = None,
         html: str | None = None, headers: dict[str, str] | None = None,
         attachments: tuple[tuple[str, str, bytes], ...] = ()) -> bytes:
    """A raw message; message_id="auto" gives a unique one, None leaves the header out."""
    msg = EmailMessage()
    if sender is not None:
        msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 26, 9, 30, tzinfo=UTC))
    if message_id == "auto":
        message_id = f"m{next(_seq)}.{id(msg)}@client.example"
    if message_id is not None:
        msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content_type, payload in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=policy.SMTP)  # CRLF line ends, as on the wire


def msgid_of(raw: bytes) -> str:
    from email import message_from_bytes

    return str(message_from_bytes(raw, policy=policy.default)["Message-ID"]).strip("<> ")


@pytest.fixture(scope="session")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated and seeded SQLite home for `linia smtpd` processes (copied per test)."""
    from tests.email_ingest.server import make_template

    return make_template(tmp_path_factory.mktemp("smtpd-template"))


@pytest.fixture
def tenant(db: Any) -> Any:
    return f.tenant(default_language="pl")


@pytest.fixture
def mailbox(tenant: Any) -> Any:
    from linia.intake.email.models import Mailbox

    return Mailbox.objects.create(tenant=tenant, address="support@shop.example", name="Shop support")


@pytest.fixture
def email_queue(tenant: Any, mailbox: Any) -> Any:
    from linia.routing.models import Queue

    queue = Queue.objects.create(tenant=tenant, code="mail", name="Mail", channels=["email"])
    mailbox.queue = "mail"
    mailbox.save()
    return queue
