"""IMAP intake: pull mail from each Mailbox with `imap_host` set, store it through `ingest_raw`, then file it away.

The order is what makes it lossless: a message is fetched with BODY.PEEK[] (not marked seen), handed to
`ingest_raw(raw, recipients=[mailbox.address], source="imap")`, which stores the raw .eml and commits before it
returns, and only then is it moved to the mailbox's done folder (MOVE when the server has it, else COPY +
\\Deleted + UID EXPUNGE of exactly those UIDs). A crash anywhere before the move leaves the message in the folder;
the next poll fetches it again and ingest_raw's dedupe (Message-ID or content hash) makes it a no-op.

Everything still in the watched folder is work to do, so no UID high-water mark is needed for correctness (mail
read by a person in another client is still ingested; UNSEEN would miss it). After a pass the poller waits with
IDLE when the server advertises it (woken by EXISTS, re-issued every ~25 minutes as RFC 2177 asks), else it polls
every `poll_interval` seconds. Failures (refused connection, TLS, wrong password) are logged, written to the
mailbox's `last_error` and retried with exponential backoff; each mailbox runs in its own thread so one broken
mailbox never holds up the others.

imapclient (a well-kept wrapper over stdlib imaplib) is used because imaplib has no IDLE before Python 3.14 and
leaves response parsing (FETCH literals, UIDs, capabilities, NAMESPACE) to the caller.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

log = logging.getLogger("linia.intake.email.imap")

IDLE_REFRESH_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
DEFAULT_POLL_INTERVAL = 60.0
BACKOFF_FIRST, BACKOFF_MAX = 5.0, 300.0
FETCH_BATCH = 20  # messages fetched (and moved) per round trip ...
FETCH_BYTES = 16 * 1024 * 1024  # ... and at most this many bytes of them (one bigger message goes alone)
IMPLICIT_TLS_PORT, STARTTLS_PORT = 993, 143

Ingest = Callable[..., Any]


class MailboxError(Exception):
    """A failure with a message fit for the log and the mailbox's last_error."""


@dataclass(frozen=True)
class Account:
    """What the poller needs of a Mailbox row (plain data: threads never share ORM objects)."""

    mailbox_id: int | None
    address: str
    host: str
    port: int
    tls: str  # "ssl" (implicit TLS) | "starttls" | "none"
    user: str
    password: str
    folder: str = "INBOX"
    done_folder: str = "Linia/Processed"


@dataclass
class PollResult:
    fetched: int = 0
    created: int = 0
    appended: int = 0
    duplicate: int = 0
    rejected: int = 0
    failed: int = 0  # ingest raised: the message stays in the folder and is tried again next time
    moved: int = 0
    error: str = ""
    by_status: dict[str, int] = field(default_factory=dict)

    def add(self, status: str) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if status in {"created", "appended", "duplicate", "rejected"}:
            setattr(self, status, getattr(self, status) + 1)


# ---- mailbox rows ---------------------------------------------------------------------------------------


def tls_mode(use_tls: bool, port: int) -> str:
    """Mailbox.imap_tls is one switch: on means implicit TLS, or STARTTLS on the plain IMAP port 143."""
    if not use_tls:
        return "none"
    return "starttls" if port == STARTTLS_PORT else "ssl"


def account_for(mailbox: Any) -> Account:
    port = int(mailbox.imap_port or (IMPLICIT_TLS_PORT if mailbox.imap_tls else STARTTLS_PORT))
    return Account(
        mailbox_id=mailbox.pk,
        address=mailbox.address,
        host=mailbox.imap_host,
        port=port,
        tls=tls_mode(bool(mailbox.imap_tls), port),
        user=mailbox.imap_user or mailbox.address,
        password=mailbox.imap_password(),
        folder=mailbox.imap_folder or "INBOX",
        done_folder=mailbox.imap_done_folder or "Linia/Processed",
    )


def imap_mailboxes(address: str | None = None) -> list[Any]:
    """Active mailboxes with IMAP configured (all tenants: this is the platform's poller)."""
    from linia.intake.email.models import Mailbox

    # An inactive tenant's mail would be refused by ingest_raw: leave it on the server instead.
    qs = Mailbox.objects.filter(is_active=True, tenant__is_active=True).exclude(imap_host="").order_by("id")
    if address:
        qs = qs.filter(address=address.strip().lower())
    return list(qs)


def record_poll(mailbox_id: int | None, error: str) -> None:
    """Bookkeeping on the row the admin shows (no ticket state changes, so no event row)."""
    if mailbox_id is None:
        return
    from linia.intake.email.models import Mailbox

    Mailbox.objects.filter(pk=mailbox_id).update(last_polled_at=timezone.now(), last_error=error[:2000])


def _default_ingest(raw: bytes, *, recipients: list[str], source: str) -> Any:
    from linia.intake.email.actions import ingest_raw

    return ingest_raw(raw, recipients=recipients, source=source)


# ---- connection -----------------------------------------------------------------------------------------


def tls_context() -> ssl.SSLContext:
    """System CAs, plus LINIA_IMAP_CA_FILE (settings or environment) for a private CA or a self-signed server."""
    ctx = ssl.create_default_context()
    cafile = getattr(settings, "LINIA_IMAP_CA_FILE", "") or os.environ.get("LINIA_IMAP_CA_FILE", "")
    if cafile:
        ctx.load_verify_locations(cafile=cafile)
    return ctx


def server_text(exc: BaseException) -> str:
    """The server's words from an imaplib/imapclient error, without the b'...' its str() wraps them in."""
    first: object = exc.args[0] if exc.args else str(exc)
    if isinstance(first, bytes):
        return first.decode(errors="replace")
    text = str(first)
    if len(text) >= 3 and text[0] == "b" and text[1] == text[-1] and text[1] in "'\"":
        return text[2:-1]
    return text


def describe_error(acc: Account, exc: BaseException) -> str:
    """One clear sentence for the log and the admin: what failed, where, and the server's or OS's words."""
    where = f"{acc.host}:{acc.port}"
    if isinstance(exc, MailboxError):
        return str(exc)
    if isinstance(exc, LoginError):
        return _("IMAP login failed for user %(user)s at %(where)s: %(reason)s") % {
            "user": acc.user, "where": where, "reason": server_text(exc)}
    if isinstance(exc, ConnectionRefusedError):
        return _("Cannot connect to IMAP server %(where)s: connection refused") % {"where": where}
    if isinstance(exc, socket.gaierror):
        return _("Cannot resolve IMAP host %(host)s: %(reason)s") % {"host": acc.host, "reason": exc.strerror}
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _("TLS certificate of %(where)s is not trusted: %(reason)s") % {
            "where": where, "reason": exc.verify_message or exc.reason}
    if isinstance(exc, ssl.SSLError):
        return _("TLS error with %(where)s: %(reason)s") % {"where": where, "reason": exc.reason or exc}
    if isinstance(exc, TimeoutError | socket.timeout):
        return _("IMAP server %(where)s timed out") % {"where": where}
    if isinstance(exc, imaplib.IMAP4.abort | ConnectionError):
        return _("Connection to IMAP server %(where)s was lost: %(reason)s") % {"where": where, "reason": exc}
    if isinstance(exc, IMAPClientError | imaplib.IMAP4.error):
        return _("IMAP error from %(where)s: %(reason)s") % {"where": where, "reason": server_text(exc)}
    if isinstance(exc, OSError):
        return _("Cannot talk to IMAP server %(where)s: %(reason)s") % {"where": where, "reason": exc.strerror or exc}
    return _("IMAP polling of %(address)s failed: %(reason)s") % {"address": acc.address, "reason": repr(exc)}


def connect(acc: Account, *, timeout: float = 30) -> IMAPClient:
    """A logged-in client (TLS per the account); raises OSError/ssl/IMAP errors for describe_error()."""
    if not acc.password:
        raise MailboxError(_("No IMAP password is stored for %(address)s (or it can no longer be decrypted: "
                             "LINIA_FERNET_KEY or SECRET_KEY changed); enter it again") % {"address": acc.address})
    ctx = tls_context()
    client = IMAPClient(acc.host, port=acc.port, ssl=acc.tls == "ssl", ssl_context=ctx, timeout=timeout)
    try:
        if acc.tls == "starttls":
            if not client.has_capability("STARTTLS"):
                raise MailboxError(_("IMAP server %(where)s does not offer STARTTLS") % {
                    "where": f"{acc.host}:{acc.port}"})
            client.starttls(ctx)
        client.login(acc.user, acc.password)
    except BaseException:
        with contextlib.suppress(Exception):
            client.shutdown()
        raise
    return client


def close(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):
        client.logout()
    with contextlib.suppress(Exception):
        client.shutdown()


def server_folder(client: IMAPClient, name: str) -> str:
    """A folder name written with "/" in the settings, in the server's delimiter and personal namespace prefix."""
    if name.upper() == "INBOX":
        return "INBOX"
    prefix, delim = "", "/"
    try:
        if client.has_capability("NAMESPACE"):
            personal = client.namespace().personal
            if personal:
                prefix, delim = personal[0][0] or "", personal[0][1] or "/"
        else:
            listed = client.list_folders("", "")
            if listed and listed[0][1]:
                delim = listed[0][1].decode() if isinstance(listed[0][1], bytes) else listed[0][1]
    except (IMAPClientError, imaplib.IMAP4.error):
        pass
    if isinstance(prefix, bytes):
        prefix = prefix.decode()
    if isinstance(delim, bytes):
        delim = delim.decode()
    folder = name.replace("/", delim) if delim else name
    if prefix and not folder.startswith(prefix):
        folder = prefix + folder
    return folder


def ensure_folder(client: IMAPClient, folder: str) -> None:
    if not client.folder_exists(folder):
        try:
            client.create_folder(folder)
        except (IMAPClientError, imaplib.IMAP4.error):
            if not client.folder_exists(folder):  # created meanwhile by another poller is fine
                raise
        with contextlib.suppress(IMAPClientError, imaplib.IMAP4.error):
            client.subscribe_folder(folder)


# ---- one pass -------------------------------------------------------------------------------------------


def batches(uids: list[int], sizes: dict[int, int], *, count: int, max_bytes: int) -> Iterator[list[int]]:
    """UIDs in order, in groups of at most `count` messages and `max_bytes` (a bigger message goes alone)."""
    group: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if group and (len(group) >= count or total + size > max_bytes):
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield group


def file_away(client: IMAPClient, uids: list[int], done_folder: str) -> None:
    """Move stored messages to the done folder; exactly these UIDs, never others."""
    if client.has_capability("MOVE"):
        client.move(uids, done_folder)
        return
    client.copy(uids, done_folder)
    client.delete_messages(uids)  # \Deleted
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:  # plain EXPUNGE: also removes what others marked \Deleted, which is what any client's expunge does
        client.expunge()


def drain(client: IMAPClient, acc: Account, *, ingest: Ingest | None = None, stop: threading.Event | None = None,
          batch: int = FETCH_BATCH) -> PollResult:
    """Ingest every undeleted message of the folder in UID order and move each stored one to the done folder."""
    ingest = ingest or _default_ingest
    result = PollResult()
    folder = server_folder(client, acc.folder)
    done_folder = server_folder(client, acc.done_folder)
    if done_folder == folder:
        raise MailboxError(_("The folder for processed mail must differ from the watched folder %(folder)s") % {
            "folder": folder})
    ensure_folder(client, done_folder)
    client.select_folder(folder)
    uids = sorted(int(u) for u in client.search(["UNDELETED"]))
    sizes: dict[int, int] = {}
    if uids:
        for uid, item in client.fetch(uids, ["RFC822.SIZE"]).items():
            sizes[int(uid)] = int(item.get(b"RFC822.SIZE", 0))
    for chunk in batches(uids, sizes, count=batch, max_bytes=FETCH_BYTES):
        if stop is not None and stop.is_set():
            break
        fetched = client.fetch(chunk, ["BODY.PEEK[]"])  # PEEK: nothing is marked \Seen before it is stored
        stored: list[int] = []
        for uid in chunk:
            item = fetched.get(uid)
            if not item or b"BODY[]" not in item:
                continue  # expunged meanwhile by someone else
            raw = bytes(item[b"BODY[]"])
            result.fetched += 1
            try:
                outcome = ingest(raw, recipients=[acc.address], source="imap")
            except Exception:
                # Not stored: leave it in the folder, try again next pass (ingest_raw is idempotent).
                log.exception("imap %s: ingesting UID %s failed; it stays in %s", acc.address, uid, folder)
                result.failed += 1
                continue
            result.add(str(getattr(outcome, "status", "stored")))
            stored.append(uid)
        if stored:
            file_away(client, stored, done_folder)
            result.moved += len(stored)
    if result.failed:
        result.error = _("%(count)d message(s) could not be ingested and stay in %(folder)s; see the log") % {
            "count": result.failed, "folder": folder}
    return result


def poll_account(acc: Account, *, ingest: Ingest | None = None, timeout: float = 30) -> PollResult:
    """Connect, drain, disconnect. Connection and login errors are returned in result.error, not raised."""
    try:
        client = connect(acc, timeout=timeout)
    except Exception as exc:
        return PollResult(error=describe_error(acc, exc))
    try:
        return drain(client, acc, ingest=ingest)
    except Exception as exc:
        log.debug("imap %s: pass failed", acc.address, exc_info=True)
        return PollResult(error=describe_error(acc, exc))
    finally:
        close(client)


def poll_once(address: str | None = None, *, ingest: Ingest | None = None) -> list[tuple[str, PollResult]]:
    """One pass over every IMAP mailbox (or one): the `linia email poll --once` and periodic-task entry point."""
    results = []
    for mailbox in imap_mailboxes(address):
        acc = account_for(mailbox)
        result = poll_account(acc, ingest=ingest)
        if result.error:
            log.error("imap %s: %s", acc.address, result.error)
        else:
            log.info("imap %s: %d fetched, %d new tickets, %d appended, %d duplicates, %d rejected", acc.address,
                     result.fetched, result.created, result.appended, result.duplicate, result.rejected)
        record_poll(acc.mailbox_id, result.error)
        results.append((acc.address, result))
    return results


# ---- long-running: IDLE or interval polling, one thread per mailbox -------------------------------------


def wait_for_mail(client: IMAPClient, stop: threading.Event, *, poll_interval: float,
                  idle_refresh: float = IDLE_REFRESH_SECONDS) -> None:
    """Return when new mail may be there: on IDLE's EXISTS/RECENT, after idle_refresh, or after poll_interval."""
    if not client.has_capability("IDLE"):
        stop.wait(poll_interval)
        return
    client.idle()
    started = time.monotonic()
    quick_empty = 0
    while not stop.is_set() and time.monotonic() - started < idle_refresh:
        before = time.monotonic()
        responses = client.idle_check(timeout=1)
        if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
            break
        if any(r and r[0] == b"BYE" for r in responses):
            raise imaplib.IMAP4.abort("server closed the connection (BYE)")
        # imapclient answers [] at once, again and again, when the server has closed the socket (EOF).
        quick_empty = quick_empty + 1 if not responses and time.monotonic() - before < 0.5 else 0
        if quick_empty >= 3:
            raise imaplib.IMAP4.abort("connection closed by the server during IDLE")
    client.idle_done()


class MailboxPoller(threading.Thread):
    """Keeps one mailbox drained: connect, drain, wait (IDLE or interval), repeat; backoff on failure."""

    def __init__(self, mailbox_id: int, *, poll_interval: float = DEFAULT_POLL_INTERVAL,
                 ingest: Ingest | None = None, idle_refresh: float = IDLE_REFRESH_SECONDS,
                 backoff_first: float = BACKOFF_FIRST) -> None:
        super().__init__(name=f"imap-mailbox-{mailbox_id}", daemon=True)
        self.mailbox_id = mailbox_id
        self.poll_interval = poll_interval
        self.idle_refresh = idle_refresh
        self.ingest = ingest
        self.backoff_first = backoff_first
        self.stop_event = threading.Event()
        self.waiting = threading.Event()  # set while waiting for new mail (IDLE or interval), for tests
        self.passes = 0
        self.failures = 0

    def stop(self) -> None:
        self.stop_event.set()

    def _account(self) -> Account | None:
        from linia.intake.email.models import Mailbox

        mailbox = (Mailbox.objects.filter(pk=self.mailbox_id, is_active=True, tenant__is_active=True)
                   .exclude(imap_host="").first())
        return account_for(mailbox) if mailbox else None

    def run(self) -> None:
        try:
            self._run()
        finally:
            connection.close()

    def _run(self) -> None:
        backoff = self.backoff_first
        while not self.stop_event.is_set():
            try:
                close_old_connections()
                acc = self._account()  # settings (password, folders) are re-read on every reconnect
            except Exception:  # the database is away: keep trying, the mail waits on the server
                self.failures += 1
                log.exception("imap mailbox %s: cannot read its settings (retrying in %.0f s)", self.mailbox_id,
                              backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            if acc is None:
                return
            client = None
            try:
                client = connect(acc)
                while not self.stop_event.is_set():
                    result = drain(client, acc, ingest=self.ingest, stop=self.stop_event)
                    self.passes += 1
                    record_poll(acc.mailbox_id, result.error)
                    if result.fetched:
                        log.info("imap %s: %d fetched, %d moved", acc.address, result.fetched, result.moved)
                    backoff = self.backoff_first
                    close_old_connections()
                    self.waiting.set()
                    try:
                        wait_for_mail(client, self.stop_event, poll_interval=self.poll_interval,
                                      idle_refresh=self.idle_refresh)
                    finally:
                        self.waiting.clear()
            except Exception as exc:
                self.failures += 1
                message = describe_error(acc, exc)
                log.error("imap %s: %s (retrying in %.0f s)", acc.address, message, backoff)
                with contextlib.suppress(Exception):
                    record_poll(acc.mailbox_id, message)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
            finally:
                if client is not None:
                    close(client)


def run(stop: threading.Event, *, address: str | None = None, poll_interval: float = DEFAULT_POLL_INTERVAL,
        rescan: float = 60.0, ingest: Ingest | None = None) -> None:
    """Poll every IMAP mailbox until `stop` is set; mailboxes added, changed or deactivated are picked up."""
    pollers: dict[int, MailboxPoller] = {}
    try:
        while not stop.is_set():
            try:
                close_old_connections()
                wanted = {m.pk for m in imap_mailboxes(address)}
            except Exception:
                log.exception("imap: cannot list the mailboxes; trying again in %.0f s", rescan)
                stop.wait(rescan)
                continue
            for mailbox_id, poller in list(pollers.items()):
                if mailbox_id not in wanted or not poller.is_alive():
                    poller.stop()
                    pollers.pop(mailbox_id)
            for mailbox_id in sorted(wanted - pollers.keys()):
                poller = MailboxPoller(mailbox_id, poll_interval=poll_interval, ingest=ingest)
                pollers[mailbox_id] = poller
                poller.start()
            stop.wait(rescan)
    finally:
        for poller in pollers.values():
            poller.stop()
        for poller in pollers.values():
            poller.join(timeout=10)
        connection.close()


def start_background(*, poll_interval: float = DEFAULT_POLL_INTERVAL) -> tuple[threading.Thread, threading.Event]:
    """For `linia worker`/the demo: the IMAP poller as a daemon thread; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(stop,), kwargs={"poll_interval": poll_interval},
                              name="imap-poller", daemon=True)
    thread.start()
    return thread, stop


def format_results(results: Iterable[tuple[str, PollResult]]) -> list[str]:
    lines = []
    for address, r in results:
        if r.error and not r.fetched:
            lines.append(f"{address}: ERROR {r.error}")
            continue
        line = (f"{address}: {r.fetched} fetched, {r.created} new tickets, {r.appended} appended, "
                f"{r.duplicate} duplicates, {r.rejected} rejected, {r.moved} moved")
        if r.error:
            line += f"; ERROR {r.error}"
        lines.append(line)
    return lines


def poll_command(out: Any, *, once: bool, address: str | None, interval: float) -> None:
    """`linia email poll [--once] [--mailbox ADDRESS] [--interval S]`; --once exits 1 when any mailbox failed."""
    import signal

    from django.core.management.base import CommandError

    from linia.intake.email.actions import reprocess_stored

    if address and not imap_mailboxes(address):
        raise CommandError(f"no active mailbox with IMAP settings has the address {address}", returncode=2)
    reprocess_stored()  # finish what a crash left stored but unprocessed
    if once:
        results = poll_once(address)
        for line in format_results(results):
            out.write(line)
        failed = [a for a, r in results if r.error]
        if failed:
            raise CommandError(f"IMAP polling failed for {', '.join(failed)}", returncode=1)
        return
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    out.write(f"polling IMAP mailboxes ({address or 'all'}); IDLE where offered, else every {interval:g} s")
    run(stop, address=address, poll_interval=interval)
