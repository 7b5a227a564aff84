"""Reply addresses: ``<mailbox local part>+t-<token>@<mailbox domain>`` with a stored random token.

A token is 20 characters of lower-case base32 (100 random bits): unguessable, safe in any mail system
(which may lower-case local parts), bound in the database to one tenant, one ticket and optionally one
department (a forward). Stored tokens survive a SECRET_KEY rotation and can be revoked by deleting the row.
The sender address of a ticket is the mailbox its mail came in through, else the tenant's first active
mailbox, else ``<tenant slug>@EMAIL_REPLY_DOMAIN``.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction

from linia.dispatch.models import ReplyToken

if TYPE_CHECKING:
    from linia.directory.models import Department
    from linia.tickets.models import Ticket

TOKEN_PREFIX = "t-"  # noqa: S105 (an address tag, not a secret)
TOKEN_RE = re.compile(r"^[a-z2-7]{20}$")
_ADDRESS_TOKEN = re.compile(r"\+t-([a-z2-7]{20})@", re.IGNORECASE)


ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower-case


def new_token() -> str:
    """20 random base32 characters: 100 bits."""
    return "".join(secrets.choice(ALPHABET) for _ in range(20))


def reply_domain() -> str:
    return str(getattr(settings, "EMAIL_REPLY_DOMAIN", "") or "localhost").strip().lower()


def mailbox_address(ticket: Ticket) -> tuple[str, str]:
    """(address, display name) the ticket's mail is sent from; replies come back to the same mailbox."""
    try:
        from linia.intake.email.models import InboundEmail, Mailbox
    except ImportError:  # the email intake app is not installed
        return f"{ticket.tenant.slug}@{reply_domain()}", ticket.tenant.name
    inbound = (InboundEmail.objects.filter(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, mailbox__isnull=False,
                                           mailbox__is_active=True)
               .select_related("mailbox").order_by("id").first())
    mailbox = inbound.mailbox if inbound is not None else (
        Mailbox.objects.filter(tenant_id=ticket.tenant_id, is_active=True).order_by("id").first())
    if mailbox is None:
        return f"{ticket.tenant.slug}@{reply_domain()}", ticket.tenant.name
    return mailbox.address, mailbox.name or ticket.tenant.name


def token_for(ticket: Ticket, department: Department | None = None) -> str:
    """The ticket's (+ department's) token, created on first use."""
    if department is not None and department.tenant_id != ticket.tenant_id:
        raise ValueError("department of another tenant")
    lookup = {"ticket_id": ticket.pk, "department_id": department.pk if department else None}
    found = ReplyToken.objects.filter(**lookup).values_list("token", flat=True).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return ReplyToken.objects.create(tenant_id=ticket.tenant_id, token=new_token(), **lookup).token
    except IntegrityError:  # a parallel writer created it first
        return ReplyToken.objects.get(**lookup).token


def plus_address(address: str, token: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local.split('+')[0]}+{TOKEN_PREFIX}{token}@{domain}"


def reply_address(ticket: Ticket, department: Department | None = None) -> str:
    """``support+t-<token>@shop.example``: mail to it lands in this ticket (as the department's reply if given)."""
    address, _name = mailbox_address(ticket)
    return plus_address(address, token_for(ticket, department))


def token_from_address(address: str) -> str | None:
    """The token of a reply address (``local+t-<token>@domain``), lower-case; None when there is none."""
    match = _ADDRESS_TOKEN.search(address or "")
    return match.group(1).lower() if match else None


def resolve_reply_token(token: str, *, tenant_id: int | None = None) -> tuple[int, int | None] | None:
    """(ticket id, department id or None) of a token; None when unknown (or of another tenant than tenant_id).

    Callers that know the receiving mailbox's tenant pass tenant_id, so a token of tenant A mailed to
    tenant B's address never adds to A's ticket.
    """
    token = (token or "").strip().lower()
    if token.startswith(TOKEN_PREFIX) and not TOKEN_RE.match(token):
        token = token[len(TOKEN_PREFIX):]
    if not TOKEN_RE.match(token):
        return None
    qs = ReplyToken.objects.filter(token=token)
    if tenant_id is not None:
        qs = qs.filter(tenant_id=tenant_id)
    row = qs.values_list("ticket_id", "department_id").first()
    return (row[0], row[1]) if row else None
