"""`linia smtpd`: an SMTP or LMTP server (aiosmtpd) an MTA delivers inbound mail to.

Unknown recipients are refused at RCPT with 550 (the sending MTA bounces, nothing is accepted and
lost); oversized mail with 552 (at MAIL FROM when the client announces SIZE, else after DATA). A
message is answered 250 only after `ingest_raw` has committed its row (with its ticket, or marked failed
for a retry): a crash before that answer makes the client retry, and the retry is recognised by its
Message-ID. A database that
cannot store the message answers 451 (try again later). Database work runs in worker threads; the
event loop only speaks SMTP.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import connections

from linia.intake.email import actions

log = logging.getLogger(__name__)
T = TypeVar("T")

REPLIES = {
    "too_large": "552 5.3.4 Message too big for this system",
    "unknown_recipient": "550 5.1.1 No such mailbox here",
    "not_an_email": "554 5.6.0 This is not an email message",
}


def _in_thread(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ORM work in a worker thread. Its connection is kept from one message to the next (opening
    one per message costs more than storing it); after a database error it is checked and replaced."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and conn.errors_occurred:
            if conn.is_usable():
                conn.errors_occurred = False
            else:
                conn.close()
    return func(*args, **kwargs)


class IngestHandler:
    """aiosmtpd handler: RCPT checks the mailbox, DATA ingests (the 250 waits for the stored copy)."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.executor = executor

    async def _run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: _in_thread(func, *args, **kwargs))

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        try:
            known = await self._run(actions.recipient_known, address)
        except Exception:
            log.exception("recipient check for %s failed", address)
            return "451 4.3.0 Temporary failure, try again later"
        if not known:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = bytes(envelope.original_content or b"")
        recipients = list(envelope.rcpt_tos)
        try:
            result = await self._run(actions.ingest_raw, raw, recipients=recipients, source="smtp")
        except Exception:  # not stored: the client keeps the message and retries
            log.exception("could not store a message for %s", ", ".join(recipients))
            reply = "451 4.3.0 Temporary failure storing the message, try again later"
        else:
            if result.status == "rejected":
                reply = REPLIES.get(result.reason, "554 5.0.0 Message refused") + f": {result.message}"[:400]
            else:
                reply = f"250 2.0.0 OK: stored as {result.inbound_id}"
        if isinstance(server, LMTP):  # LMTP answers DATA once per accepted recipient
            return "\r\n".join([reply] * max(1, len(recipients)))
        return reply


class _Tolerant:
    """Real mail has lines longer than RFC 5321's 1000 octets: accept them rather than bounce."""

    line_length_limit = 64 * 1024


class LiniaSMTP(_Tolerant, SMTP):
    pass


class LiniaLMTP(_Tolerant, LMTP):
    pass


async def serve(host: str, port: int, *, lmtp: bool = False, workers: int = 4, hostname: str = "",
                recover: bool = True, on_ready: Callable[[str, int], None] | None = None) -> None:
    """Listen until SIGTERM/SIGINT; running deliveries finish before the process exits."""
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="smtpd-ingest")
    handler = IngestHandler(executor)
    server_class = LiniaLMTP if lmtp else LiniaSMTP
    name = hostname or socket.gethostname()

    def protocol() -> SMTP:
        return server_class(handler, data_size_limit=actions.max_bytes(), enable_SMTPUTF8=True,
                            decode_data=False, hostname=name, ident="Linia", loop=loop)

    server = await loop.create_server(protocol, host, port)
    bound_port = int(server.sockets[0].getsockname()[1])
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if recover:  # messages a crash left stored but unprocessed
        loop.run_in_executor(executor, lambda: _in_thread(_recover))
    if on_ready is not None:
        on_ready(host, bound_port)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        executor.shutdown(wait=True)


def _recover() -> None:
    results = actions.reprocess_stored()
    if results:
        log.warning("smtpd start-up: %d stored messages processed", len(results))
