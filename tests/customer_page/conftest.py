from __future__ import annotations

from dataclasses import dataclass

import pytest

from linia.core.models import Tenant, User
from linia.tickets import actions
from linia.tickets.models import Message, Ticket
from tests import factories

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def make_png(width: int = 160, height: int = 100, rgb: tuple[int, int, int] = (180, 40, 90)) -> bytes:
    """A real PNG of one colour (screenshots show it; browsers decode it)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


@dataclass
class Setup:
    tenant: Tenant
    agent: User
    ticket: Ticket
    token: str
    url: str
    note: Message


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def make_setup(*, language: str = "en", slug: str | None = None, status: str = "") -> Setup:
    tenant = factories.tenant(slug, name="Spar East", time_zone="Europe/Warsaw", default_language="pl")
    agent = factories.user(tenant=tenant)
    contact = actions.find_or_create_contact(None, tenant, name="Jan Nowak", emails=["jan@example.com"],
                                             language=language)
    ticket = actions.create_ticket(None, tenant, subject="Broken fridge door", channel="webform",
                                   body="The fridge door in the store is broken.", contact=contact,
                                   language=language)
    actions.add_message(agent, ticket, body="We are sending a technician tomorrow.",
                        attachments=[actions.NewAttachment("photo.png", PNG, "image/png")])
    note = actions.add_message(agent, ticket, body="SECRET internal note: customer is difficult",
                               kind=Message.Kind.NOTE,
                               attachments=[actions.NewAttachment("internal.txt", b"secret file", "text/plain")])
    if status:
        actions.change_status(agent, ticket, status)
    url = actions.issue_customer_link(ticket)
    token = token_of(url)
    ticket.refresh_from_db()
    return Setup(tenant, agent, ticket, token, f"/t/{token}/", note)


@pytest.fixture
def setup(db: None) -> Setup:
    return make_setup()
