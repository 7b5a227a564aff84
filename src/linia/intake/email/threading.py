"""Which ticket an inbound email belongs to, inside its tenant only.

In order: the reply token in a recipient address (`support+t-<token>@example.com`, issued by
linia.dispatch.tokens), In-Reply-To, then References (newest first) against stored Message-IDs
(`Message.external_id = "email:<id>"`, inbound and outbound), then a ticket reference in brackets in
the subject (`[SPR-000123]`). Nothing matches: a new ticket. A merged ticket forwards to its target.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection

from linia.tickets.models import Message, Ticket

if TYPE_CHECKING:
    from linia.intake.email.parse import ParsedEmail

log = logging.getLogger(__name__)

EXTERNAL_PREFIX = "email:"
MAX_ID = 300 - len(EXTERNAL_PREFIX)  # Message.external_id is 300 characters
MAX_REFERENCES = 50  # a long thread's References header: the newest ones decide
SUBJECT_REF = re.compile(r"\[\s*([A-Z][A-Z0-9]{1,7}-\d{1,12})\s*\]", re.IGNORECASE)
REPLY_TAG = "t-"  # support+t-<token>@...


def external_id_for(message_id: str) -> str:
    """`Message.external_id` for a Message-ID (without <>); very long ids are hashed to fit."""
    message_id = message_id.strip().strip("<>")
    if len(message_id) > MAX_ID:
        message_id = "sha256:" + hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()
    return EXTERNAL_PREFIX + message_id


def split_address(address: str) -> tuple[str, str | None]:
    """("support@example.com", token) for "Support+t-abc@Example.com"; token None without "+t-"."""
    address = address.strip().strip("<>").lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address, None
    base, plus, tag = local.partition("+")
    token = tag[len(REPLY_TAG):] if plus and tag.startswith(REPLY_TAG) and len(tag) > len(REPLY_TAG) else None
    return f"{base}@{domain}", token


@dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket
    how: str  # "token" | "in_reply_to" | "references" | "subject"
    department_id: int | None = None  # a client department's reply to a forward
    matched_message: Message | None = None


def _resolver() -> Callable[..., tuple[int, int | None] | None] | None:
    try:
        from linia.dispatch import tokens  # written by the outbound helper; absent in older trees
    except ImportError:
        return None
    resolve: Callable[..., tuple[int, int | None] | None] | None = getattr(tokens, "resolve_reply_token", None)
    return resolve


def _live(ticket: Ticket) -> Ticket:
    """Follow merges to the ticket that is kept (a short chain; a loop stops)."""
    seen = {ticket.pk}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        target = Ticket.objects.filter(pk=ticket.merged_into_id, tenant_id=ticket.tenant_id).first()
        if target is None:
            break
        seen.add(target.pk)
        ticket = target
    return ticket


def by_token(tenant_id: int, tokens: Iterable[str]) -> ThreadMatch | None:
    resolve = _resolver()
    if resolve is None:
        return None
    for token in tokens:
        try:
            found = resolve(token, tenant_id=tenant_id)
        except Exception:  # a broken or forged token is a new ticket, never a failed delivery
            log.warning("reply token %r could not be resolved", token, exc_info=True)
            continue
        if not found:
            continue
        ticket_id, department_id = found
        ticket = Ticket.objects.filter(pk=ticket_id, tenant_id=tenant_id).first()  # never another tenant's
        if ticket is not None:
            return ThreadMatch(_live(ticket), "token", department_id)
    return None


def _message_ids(parsed: ParsedEmail) -> list[tuple[str, str]]:
    """(external id, how) in order of preference: In-Reply-To, then References newest first."""
    wanted: list[tuple[str, str]] = []
    if parsed.in_reply_to:
        wanted.append((external_id_for(parsed.in_reply_to), "in_reply_to"))
    for ref in reversed(parsed.references[-MAX_REFERENCES:]):
        if ref:
            wanted.append((external_id_for(ref), "references"))
    own = external_id_for(parsed.message_id) if parsed.message_id else None
    seen: set[str] = set()
    result: list[tuple[str, str]] = []
    for ext, how in wanted:
        if ext != own and ext not in seen:
            seen.add(ext)
            result.append((ext, how))
    return result


def by_message_id(tenant_id: int, parsed: ParsedEmail) -> ThreadMatch | None:
    wanted = _message_ids(parsed)
    if not wanted:
        return None
    found = _messages_with(tenant_id, [ext for ext, _how in wanted])
    for ext, how in wanted:
        message = found.get(ext)
        if message is not None:
            ticket = _ticket(tenant_id, message.ticket_id)
            if ticket is not None:
                message.ticket = ticket
                return ThreadMatch(_live(ticket), how, None, message)
    return _by_outbound_id(tenant_id, wanted)


# Raw statements for what every reply looks up: compiling the ORM queries cost several times more than
# running them.

def _messages_with(tenant_id: int, external_ids: list[str]) -> dict[str, Message]:
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(external_ids))
    return {m.external_id or "": m for m in Message.objects.raw(
        f"SELECT * FROM {quote(Message._meta.db_table)} WHERE tenant_id = %s "  # noqa: S608
        f"AND external_id IN ({marks})", [tenant_id, *external_ids])}


def _ticket(tenant_id: int, ticket_id: int) -> Ticket | None:
    found = list(Ticket.objects.raw(
        f"SELECT * FROM {connection.ops.quote_name(Ticket._meta.db_table)} WHERE id = %s AND tenant_id = %s",  # noqa: S608
        [ticket_id, tenant_id]))
    return found[0] if found else None


def _by_outbound_id(tenant_id: int, wanted: list[tuple[str, str]]) -> ThreadMatch | None:
    """Mail Linia sent without a ticket message (an acknowledgement) is known to the outbox only."""
    try:
        from linia.dispatch import outbound
    except ImportError:
        return None
    lookup: Callable[[int, str], int | None] | None = getattr(outbound, "ticket_for_msgid", None)
    if lookup is None:
        return None
    for ext, how in wanted[:5]:
        ticket_id = lookup(tenant_id, ext[len(EXTERNAL_PREFIX):])
        ticket = Ticket.objects.filter(pk=ticket_id, tenant_id=tenant_id).first() if ticket_id else None
        if ticket is not None:
            return ThreadMatch(_live(ticket), how)
    return None


def by_subject(tenant_id: int, subject: str) -> ThreadMatch | None:
    refs = [m.upper() for m in SUBJECT_REF.findall(subject or "")]
    if not refs:
        return None
    tickets = {t.reference: t for t in Ticket.objects.filter(tenant_id=tenant_id, reference__in=refs)}
    for ref in refs:
        if ref in tickets:
            return ThreadMatch(_live(tickets[ref]), "subject")
    return None


def _forward_reply_department(tenant_id: int, match: ThreadMatch, from_email: str | None) -> int | None:
    """A reply to a department forward (an outbound note) from that tenant's department address."""
    message = match.matched_message
    if message is None or not from_email or message.kind != Message.Kind.NOTE:
        return None
    from linia.directory.models import Department

    return Department.objects.filter(tenant_id=tenant_id, email__iexact=from_email).values_list(
        "pk", flat=True).first()


def find_thread(tenant_id: int, parsed: ParsedEmail, addresses: Sequence[str] = ()) -> ThreadMatch | None:
    """The tenant's ticket this email continues, or None for a new ticket."""
    tokens = [tok for tok in (split_address(a)[1] for a in addresses) if tok]
    match = by_token(tenant_id, dict.fromkeys(tokens)) if tokens else None
    if match is None:
        match = by_message_id(tenant_id, parsed)
        if match is not None:
            department = _forward_reply_department(tenant_id, match, parsed.from_email)
            if department is not None:
                match = ThreadMatch(match.ticket, match.how, department, match.matched_message)
    if match is None:
        match = by_subject(tenant_id, parsed.subject)
    return match
