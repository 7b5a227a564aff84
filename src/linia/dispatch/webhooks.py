"""Webhook delivery from the event outbox: enqueue, claim, POST, retry with backoff, dead-letter.

Flow (every tick of the worker, see ``linia.dispatch.tasks``):

1. ``enqueue()`` reads ``tickets.Event`` rows after the global cursor (``WebhookCursor``) and creates one
   ``WebhookDelivery`` per (active subscription of the event's tenant whose patterns match, event);
   the unique (subscription, event) constraint makes re-reading harmless. An id missing between
   two events may belong to a transaction that has not committed yet (PostgreSQL takes the id at
   INSERT, shows the row at COMMIT), so missing ids are remembered in the cursor and looked up again
   on every pass until they appear or ``WEBHOOKS_GAP_WAIT_SECONDS`` pass (then: rolled back).
2. ``claim()`` takes due deliveries in one short transaction (PostgreSQL: ``FOR UPDATE SKIP LOCKED``;
   SQLite: Linia opens every transaction with BEGIN IMMEDIATE, one writer at a time), counts the
   attempt, and leases the row by moving ``next_attempt_at`` past the longest possible request and
   writing a fresh ``claim_token``. Another worker cannot claim it until the lease ends, so one
   attempt is never sent twice at the same time; a worker killed mid-request leaves the row to be
   retried after the lease (at-least-once).
3. ``send()`` POSTs outside any transaction; ``record()`` stores the outcome only if the claim token
   still matches: 2xx → succeeded; otherwise retry after exponential backoff with jitter, or dead
   after ``WEBHOOKS_MAX_ATTEMPTS``. Dead deliveries are replayed by an admin (actions.replay_deliveries).

SSRF guard: only http(s) URLs; hosts that resolve to private, loopback, link-local or otherwise
non-global addresses are refused (at subscription time and again at every send, connecting to the
address that was checked) unless ``settings.WEBHOOKS_ALLOW_PRIVATE`` is true. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import random
import re
import secrets
import socket
import ssl
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linia.dispatch import crypto
from linia.dispatch.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
    WebhookSubscription,
)
from linia.dispatch.signing import signature
from linia.tickets.models import Event

log = logging.getLogger(__name__)

CURSOR_NAME = "webhooks"
USER_AGENT = "Linia-Webhooks/1"
EXCERPT_CHARS = 2000
PATTERN_RE = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")
MAX_PATTERNS = 50
MAX_GAP = 1000  # a bigger jump in ids is a sequence jump, not transactions in flight
MAX_GAPS = 10_000


# --- settings ------------------------------------------------------------------------------------

def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False))


def timeout_seconds() -> float:
    return _setting("WEBHOOKS_TIMEOUT_SECONDS", 10.0)


def max_attempts() -> int:
    return max(1, int(_setting("WEBHOOKS_MAX_ATTEMPTS", 15)))


def backoff_base() -> float:
    return _setting("WEBHOOKS_BACKOFF_BASE_SECONDS", 10.0)


def backoff_cap() -> float:
    return _setting("WEBHOOKS_BACKOFF_CAP_SECONDS", 3600.0)


def lease_seconds() -> float:
    """Longer than any one attempt can take (connect + send + headers + body, each bounded by the timeout)."""
    return 3 * timeout_seconds() + 30.0


def gap_wait_seconds() -> float:
    return _setting("WEBHOOKS_GAP_WAIT_SECONDS", 600.0)


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: base·2^(n-1), capped, with jitter (50–100%)."""
    raw = min(backoff_cap(), backoff_base() * (2.0 ** max(0, min(attempts - 1, 40))))
    jitter: float = (rng or random).random()
    return raw * (0.5 + 0.5 * jitter)


# --- subscriptions: patterns, URL guard, secrets ----------------------------------------------------

class BadWebhook(ValueError):
    """Invalid subscription input; the message is shown to the user."""


def clean_event_types(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [p for p in re.split(r"[\s,]+", value) if p]
    if not isinstance(value, list | tuple) or not value:
        raise BadWebhook(_('list at least one event type, e.g. ["ticket.created", "task.*"] or ["*"]'))
    if len(value) > MAX_PATTERNS:
        raise BadWebhook(_("at most %(n)d event types") % {"n": MAX_PATTERNS})
    cleaned: list[str] = []
    for item in value:
        if not isinstance(item, str) or not PATTERN_RE.match(item.strip()):
            raise BadWebhook(_('"%(item)s" is not an event type or pattern such as "ticket.created", "task.*" or "*"')
                             % {"item": item})
        if item.strip() not in cleaned:
            cleaned.append(item.strip())
    return cleaned


def matches(patterns: Iterable[str], kind: str) -> bool:
    return any(p == "*" or p == kind or (p.endswith(".*") and kind.startswith(p[:-1])) for p in patterns)


def _bad_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast or ip.is_unspecified


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def resolve(url: str, *, private_ok: bool | None = None) -> Target:
    """Check a webhook URL and resolve its host; BadWebhook says what is wrong."""
    private_ok = allow_private() if private_ok is None else private_ok
    if not isinstance(url, str) or not url.strip():
        raise BadWebhook(_("enter the receiver's URL"))
    if len(url) > 500:
        raise BadWebhook(_("the URL is longer than 500 characters"))
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise BadWebhook(_("the URL must not contain spaces or control characters"))
    if not url.isascii():
        raise BadWebhook(_("write other than ASCII characters percent-encoded (and host names in punycode)"))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadWebhook(_("not a valid URL: %(error)s") % {"error": exc}) from None
    if parts.scheme not in {"http", "https"}:
        raise BadWebhook(_("only http:// and https:// URLs can receive webhooks"))
    if not parts.hostname:
        raise BadWebhook(_("the URL has no host"))
    if parts.username or parts.password:
        raise BadWebhook(_("credentials in the URL are not allowed; check the signature instead"))
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
        addresses: list[str] = [str(literal)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise BadWebhook(_("the host %(host)s does not resolve") % {"host": host}) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not private_ok:
        for a in addresses:
            if _bad_address(ipaddress.ip_address(a.split("%")[0])):
                raise BadWebhook(_("%(host)s is a private, loopback or reserved address (%(address)s); webhooks go "
                                   "to public addresses only (settings.WEBHOOKS_ALLOW_PRIVATE allows others)")
                                 % {"host": host, "address": a})
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, tuple(addresses))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def subscription_secret(sub: WebhookSubscription) -> str:
    return crypto.decrypt(sub.secret_encrypted)


# --- 1. enqueue --------------------------------------------------------------------------------------

def current_event_id() -> int:
    last = Event.objects.order_by("-id").values_list("id", flat=True).first()
    return int(last or 0)


def enqueue(*, batch: int = 500, now: datetime | None = None) -> int:
    """Queue deliveries for events after the cursor (and late ones in remembered gaps); returns how many."""
    now = now or timezone.now()
    seen = WebhookCursor.objects.filter(pk=CURSOR_NAME).values_list("last_event_id", "gaps").first()
    if seen is not None and not seen[1] and not Event.objects.filter(id__gt=seen[0]).exists():
        return 0  # nothing new: no write transaction (SQLite takes its one write lock for each)
    with transaction.atomic():
        cursor = _lock_cursor()
        gaps: dict[str, str] = dict(cursor.gaps or {})
        late = list(Event.objects.filter(id__in=[int(k) for k in gaps]).order_by("id")
                    .only("id", "tenant_id", "kind", "created_at")) if gaps else []
        for e in late:
            gaps.pop(str(e.pk), None)
        events = list(Event.objects.filter(id__gt=cursor.last_event_id).order_by("id")
                      .only("id", "tenant_id", "kind", "created_at")[:batch])
        last = _note_gaps(cursor.last_event_id, events, gaps, now)
        expiry = now - timedelta(seconds=gap_wait_seconds())
        gaps = {k: v for k, v in gaps.items() if datetime.fromisoformat(v) > expiry}
        created = _create_deliveries([*late, *events], now)
        if last != cursor.last_event_id or gaps != cursor.gaps:
            WebhookCursor.objects.filter(pk=cursor.pk).update(last_event_id=last, gaps=gaps, updated_at=now)
    return created


def _create_deliveries(events: Sequence[Event], now: datetime) -> int:
    if not events:
        return 0
    subs: dict[int, list[WebhookSubscription]] = defaultdict(list)
    for s in WebhookSubscription.objects.filter(tenant_id__in={e.tenant_id for e in events}, is_active=True):
        subs[s.tenant_id].append(s)
    rows = [WebhookDelivery(tenant_id=e.tenant_id, subscription=s, event_id=e.pk, event_type=e.kind,
                            next_attempt_at=now)
            for e in events for s in subs.get(e.tenant_id, ())
            if e.pk > s.start_after_event_id and matches(s.event_types, e.kind)]
    if not rows:
        return 0
    ids = [e.pk for e in events]
    before = WebhookDelivery.objects.filter(event_id__in=ids).count()
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return WebhookDelivery.objects.filter(event_id__in=ids).count() - before


def _lock_cursor() -> WebhookCursor:
    qs = WebhookCursor.objects.filter(pk=CURSOR_NAME)
    if connection.vendor != "sqlite":
        qs = qs.select_for_update()
    row = qs.first()
    if row is None:
        # Start where the oldest subscription starts (or at the newest event): never scan old history.
        starts = WebhookSubscription.objects.order_by("start_after_event_id").values_list(
            "start_after_event_id", flat=True).first()
        try:
            with transaction.atomic():
                WebhookCursor.objects.create(name=CURSOR_NAME,
                                             last_event_id=current_event_id() if starts is None else starts)
        except IntegrityError:
            pass
        row = qs.get()
    return row


def _note_gaps(last: int, events: Sequence[Event], gaps: dict[str, str], now: datetime) -> int:
    """Remember ids missing between `last` and the new events (they may still commit); returns the new cursor."""
    stamp = now.isoformat()
    for e in events:
        # Transactions still in flight hold ids just below the newest ones: after a big jump (a sequence jump,
        # or a table emptied while its sequence went on) only the last MAX_GAP ids can still commit.
        missing = range(max(last + 1, e.pk - MAX_GAP), e.pk)
        if missing and len(gaps) + len(missing) <= MAX_GAPS:
            for pk in missing:
                gaps.setdefault(str(pk), stamp)
        last = e.pk
    return last


# --- 2. claim ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    delivery_id: int
    token: str
    attempt: int
    subscription_id: int = 0


def claim(*, limit: int = 20, now: datetime | None = None) -> list[Claim]:
    """Lease up to `limit` due deliveries to this worker (each attempt is sent by exactly one worker).

    Deliveries of disabled subscriptions wait (they continue when it is enabled again).
    """
    now = now or timezone.now()
    if not WebhookDelivery.objects.filter(due_filter(now)).exists():
        return []  # nothing due: no write transaction
    with transaction.atomic():
        qs = (WebhookDelivery.objects.filter(due_filter(now), subscription__is_active=True)
              .order_by("next_attempt_at", "id"))
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.values_list("id", "subscription_id", "attempts")[:limit])
        claims: list[Claim] = []
        lease_until = now + timedelta(seconds=lease_seconds())
        for pk, subscription_id, attempts in rows:
            if attempts >= max_attempts():  # the last attempt's outcome was never recorded (worker killed)
                WebhookDelivery.objects.filter(pk=pk).update(status=DeliveryStatus.DEAD, next_attempt_at=None,
                                                             claim_token="")
                continue
            token = secrets.token_hex(16)
            WebhookDelivery.objects.filter(pk=pk).update(
                attempts=F("attempts") + 1, claim_token=token, next_attempt_at=lease_until, last_attempt_at=now)
            claims.append(Claim(pk, token, attempts + 1, subscription_id))
    return claims


def release(c: Claim, *, until: datetime | None = None) -> None:
    """Give a claimed delivery back unsent: the attempt does not count."""
    WebhookDelivery.objects.filter(pk=c.delivery_id, claim_token=c.token).update(
        attempts=F("attempts") - 1, claim_token="", next_attempt_at=until or timezone.now())


# --- 3. send and record --------------------------------------------------------------------------------

def payload(event: Event, tenant_slug: str) -> dict[str, Any]:
    created = event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"id": event.pk, "type": event.kind, "created_at": created, "tenant": tenant_slug,
            "ticket_id": event.ticket_id, "actor_id": event.actor_id, "data": event.data or {}}


def body_of(event: Event, tenant_slug: str) -> bytes:
    return json.dumps(payload(event, tenant_slug), ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode()


@dataclass
class Outcome:
    status_code: int | None = None
    response: str = ""
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked by the SSRF guard, whatever DNS answers now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float | None = None) -> Outcome:
    """POST `body` to `url` (SSRF-checked, no redirects); never raises for network or HTTP errors."""
    timeout = timeout_seconds() if timeout is None else timeout
    started = time.monotonic()
    out = Outcome()
    try:
        target = resolve(url)
        cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        conn = cls(target.host, target.port, target.addresses[0], timeout)
        try:
            conn.request("POST", target.path, body=body, headers=headers)
            resp = conn.getresponse()
            out.status_code = resp.status
            chunks: list[bytes] = []
            size = 0
            deadline = time.monotonic() + timeout
            while size < EXCERPT_CHARS and time.monotonic() < deadline:
                chunk = resp.read1(EXCERPT_CHARS - size) if hasattr(resp, "read1") else resp.read(EXCERPT_CHARS)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            out.response = b"".join(chunks).decode("utf-8", "replace")[:EXCERPT_CHARS]
            if 300 <= resp.status < 400:
                out.error = f"HTTP {resp.status}: redirects are not followed (Location: {resp.getheader('Location')})"
            elif not out.ok:
                out.error = f"HTTP {resp.status} {resp.reason}"
        finally:
            conn.close()
    except BadWebhook as exc:
        out.error = f"refused: {exc}"
    except TimeoutError:
        out.error = f"timeout after {timeout:g} s"
    except (OSError, http.client.HTTPException, ValueError) as exc:  # ValueError: UnicodeError, bad URL
        out.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    out.duration_ms = int((time.monotonic() - started) * 1000)
    return out


def headers_for(delivery: WebhookDelivery, secret: str, body: bytes, attempt: int, ts: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Linia-Event-Id": str(delivery.event_id),
        "X-Linia-Event-Type": delivery.event_type,
        "X-Linia-Delivery-Id": str(delivery.pk),
        "X-Linia-Delivery-Attempt": str(attempt),
        "X-Linia-Timestamp": str(ts),
        "X-Linia-Signature": signature(secret, ts, body),
    }


def send(c: Claim) -> Outcome | None:
    """Send one claimed attempt and record its outcome (None: not sent, the claim was given back)."""
    delivery = (WebhookDelivery.objects.select_related("subscription", "event", "tenant")
                .filter(pk=c.delivery_id).first())
    if delivery is None:
        return None
    sub = delivery.subscription
    if not sub.is_active:  # disabled after the claim: wait for it to be enabled again
        release(c)
        return None
    started_at = timezone.now()
    try:
        secret = subscription_secret(sub)
    except ValueError as exc:
        out = Outcome(error=str(exc))
    else:
        body = body_of(delivery.event, delivery.tenant.slug)
        out = post(sub.url, body, headers_for(delivery, secret, body, c.attempt, int(time.time())))
    record(c, out, started_at=started_at)
    return out


def _text(value: str) -> str:
    """Storable excerpt: PostgreSQL text cannot hold NUL characters."""
    return value.replace("\x00", "\ufffd")[:EXCERPT_CHARS]


def record(c: Claim, out: Outcome, *, started_at: datetime, now: datetime | None = None) -> datetime | None:
    """Store the attempt's outcome; returns the retry time after a failure that will be retried."""
    now = now or timezone.now()
    retry_at: datetime | None = None
    fields: dict[str, Any] = {"last_status_code": out.status_code, "last_response": _text(out.response),
                              "last_error": _text(out.error), "claim_token": ""}
    if out.ok:
        fields.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now, next_attempt_at=None)
    elif c.attempt >= max_attempts():
        fields.update(status=DeliveryStatus.DEAD, next_attempt_at=None)
    else:
        retry_at = now + timedelta(seconds=backoff_delay(c.attempt))
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=retry_at)
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(pk=c.delivery_id, claim_token=c.token).update(**fields)
        if updated or WebhookDelivery.objects.filter(pk=c.delivery_id).exists():
            WebhookAttempt.objects.create(delivery_id=c.delivery_id, number=c.attempt, started_at=started_at,
                                          duration_ms=out.duration_ms, status_code=out.status_code,
                                          response=_text(out.response), error=_text(out.error))
    if not updated:
        log.warning("webhook delivery %s: lease lost before attempt %s finished", c.delivery_id, c.attempt)
    return retry_at


def deliver_due(*, limit: int = 20, now: datetime | None = None) -> int:
    """Claim and send due deliveries one by one; returns how many attempts were made.

    A receiver that cannot be reached (timeout, refused or dropped connection) holds back the other
    deliveries of its subscription until the failed one's retry time, so one dead receiver costs
    one timeout per backoff step instead of one per queued event and does not stall other tenants.
    """
    claims = claim(limit=limit, now=now)
    unreachable: dict[int, datetime] = {}
    sent = 0
    for c in claims:
        if c.subscription_id in unreachable:
            release(c, until=unreachable[c.subscription_id])
            continue
        try:
            out = send(c)
        except Exception:  # one broken row must not stop the others; its lease expires and it is retried
            log.exception("webhook delivery %s failed unexpectedly", c.delivery_id)
            sent += 1
            continue
        if out is None:
            continue
        sent += 1
        if out.status_code is None and not out.ok:
            until = WebhookDelivery.objects.filter(pk=c.delivery_id).values_list("next_attempt_at", flat=True).first()
            if until is not None:
                unreachable[c.subscription_id] = until
                _hold_back(c, until)
    return sent


def _hold_back(c: Claim, until: datetime) -> None:
    WebhookDelivery.objects.filter(due_filter(until), subscription_id=c.subscription_id, claim_token="").exclude(
        pk=c.delivery_id).filter(next_attempt_at__lt=until).update(next_attempt_at=until)


def tick(*, limit: int = 20) -> tuple[int, int]:
    """One worker pass: enqueue new events, then send what is due. Returns (queued, attempted)."""
    queued = enqueue()
    attempted = 0
    while True:
        n = deliver_due(limit=limit)
        attempted += n
        if n < limit:
            return queued, attempted


def purge_delivered(*, now: datetime | None = None) -> int:
    """Delete succeeded deliveries (with their attempt log) older than WEBHOOKS_LOG_RETENTION_DAYS.

    Dead deliveries stay until they are replayed (or their subscription is deleted). Returns the count.
    """
    days = _setting("WEBHOOKS_LOG_RETENTION_DAYS", 30.0)
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = list(WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED, delivered_at__lt=cutoff)
               .values_list("id", flat=True)[:5000])
    if not old:
        return 0
    with transaction.atomic():
        WebhookAttempt.objects.filter(delivery_id__in=old).delete()
        WebhookDelivery.objects.filter(pk__in=old).delete()
    return len(old)


def due_filter(now: datetime) -> Q:
    return Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], next_attempt_at__lte=now)
