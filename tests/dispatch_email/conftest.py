from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test.utils import override_settings

from linia.core.models import Tenant
from linia.tickets import actions
from linia.tickets.models import Channel, Message, Ticket
from tests import factories
from tests.dispatch_email.smtp_capture import CaptureServer


@pytest.fixture
def smtp() -> Iterator[CaptureServer]:
    server = CaptureServer().start()
    with override_settings(EMAIL_HOST="127.0.0.1", EMAIL_PORT=server.port, EMAIL_USE_TLS=False,
                           EMAIL_USE_SSL=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="", EMAIL_TIMEOUT=5,
                           LINIA_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                           LINIA_EMAIL_RETRY_BASE_SECONDS=60, LINIA_EMAIL_RETRY_MAX_SECONDS=3600,
                           LINIA_EMAIL_MAX_ATTEMPTS=4, EMAIL_REPLY_DOMAIN="linia.test"):
        try:
            yield server
        finally:
            server.stop()


@dataclass
class EmailDesk:
    tenant: Tenant
    agent: Any
    mailbox_address: str

    def email_ticket(self, *, sender: str = "anna@customer.example", subject: str = "Broken kettle",
                     body: str = "My kettle broke.", msgid: str = "first@customer.example",
                     language: str = "pl", attachments: tuple[actions.NewAttachment, ...] = ()) -> Ticket:
        contact = actions.find_or_create_contact(None, self.tenant, name="Anna Nowak", emails=[sender])
        return actions.create_ticket(None, self.tenant, subject=subject, channel=Channel.EMAIL, body=body,
                                     contact=contact, language=language, external_id=f"email:{msgid}",
                                     attachments=attachments)

    def first_message(self, ticket: Ticket) -> Message:
        return ticket.messages.order_by("id").first()  # type: ignore[return-value]


def make_desk(slug: str, prefix: str, address: str, **settings: Any) -> EmailDesk:
    from linia.intake.email.models import Mailbox

    tenant = factories.tenant(slug, ticket_prefix=prefix, name=slug.title() + " Shop", settings=settings)
    Mailbox.objects.create(tenant=tenant, address=address, name=f"{slug.title()} Support", language="pl")
    return EmailDesk(tenant, factories.user(tenant=tenant), address)


@pytest.fixture
def desk(db: None) -> EmailDesk:
    return make_desk("spar", "SPR", "support@spar.example", email_signature={
        "pl": "Pozdrawiamy,\nZespół Spar", "en": "Best regards,\nSpar team", "ru": "С уважением,\nкоманда Spar"})
