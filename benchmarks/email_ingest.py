"""Email ingestion against bare parsing of the same messages, one process, SQLite.

    .venv/bin/python benchmarks/email_ingest.py [--n 600] [--with-routing] [--with-ack] [--profile]

Service: ``linia.intake.email.actions.ingest_raw`` — raw .eml written, parsed (charsets, HTML
sanitised, quotes stripped, attachments), its row stored, threaded, contact found or created, ticket or
message, attachments, interaction, events; one transaction per message (processing in a savepoint),
committed before ``ingest_raw`` returns, i.e. before the message would be acknowledged. That is the issue's "store raw + parse
+ thread + ticket + event". --with-routing gives the mailbox a routing queue (a routing task per new
ticket, and the routing module's queue-statistics broadcast after commit); --with-ack queues the
acknowledgement emails (dispatch). Both are off by default and measured separately. Baseline, same run and
same messages: ``email.message_from_bytes(raw, policy=policy.default)`` + ``get_body()`` +
``get_content()``. The paths run in alternating rounds so background load hits them alike; the
share of ``parse_message`` alone (pure parsing, linia/intake/email/parse.py) is printed as well.

The message mix is generated here (seeded): ~20 KB on average, real-world shaped — Received/DKIM/ARC
header blocks, multipart/alternative text + HTML in Polish, Russian, French and English,
quoted-printable and base64 bodies, quoted history, a third with an attachment, a quarter replies to
earlier messages (In-Reply-To) and some with the ticket reference in the subject.
Targets: >= 100 messages/s and >= 0.30 of the baseline's rate.
"""

from __future__ import annotations

import argparse
import base64
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

TARGET_RATE = 100.0
TARGET_RATIO = 0.30
ROUNDS = 4
MAILBOX = "support@shop.example"

TEXTS = {
    "pl": "Dzień dobry, zamówienie nr {n} nie dotarło, a kurier twierdzi, że paczka została doręczona. "
          "Proszę o sprawdzenie i zwrot pieniędzy. Pozdrawiam serdecznie, Zażółć Gęślą Jaźń.",
    "ru": "Здравствуйте! Заказ номер {n} так и не пришёл, хотя курьер отметил доставку. Прошу разобраться "
          "и вернуть деньги. С уважением, Анна Щербакова.",
    "fr": "Bonjour, ma commande n°{n} n'est jamais arrivée alors que le livreur l'a marquée livrée. "
          "Merci de vérifier et de me rembourser. Cordialement, Élodie Lefèvre.",
    "en": "Hello, order #{n} never arrived although the courier marked it as delivered. Please look "
          "into it and refund me. Kind regards, John Smith.",
}
NAMES = {"pl": "Zofia Wójcik", "ru": "Анна Щербакова", "fr": "Élodie Lefèvre", "en": "John Smith"}
CHARSETS = {"pl": "utf-8", "ru": "koi8-r", "fr": "iso-8859-1", "en": "us-ascii"}


def _headers(rnd: random.Random, n: int, when: datetime) -> list[tuple[str, str]]:
    hops = [("Received", f"from mx{h}.mail.example (mx{h}.mail.example [192.0.2.{h + 10}]) by "
             f"mx.shop.example (Postfix) with ESMTPS id {rnd.getrandbits(40):X} for <{MAILBOX}>; "
             f"{format_datetime(when - timedelta(seconds=h))}") for h in range(rnd.randint(3, 6))]
    sig = base64.b64encode(rnd.randbytes(256)).decode()
    return [*hops,
            ("DKIM-Signature", f"v=1; a=rsa-sha256; c=relaxed/relaxed; d=mail.example; s=s{n % 3}; "
             f"h=from:to:subject:date:message-id; bh={base64.b64encode(rnd.randbytes(32)).decode()}; b={sig}"),
            ("ARC-Seal", f"i=1; a=rsa-sha256; t={int(when.timestamp())}; cv=none; d=mail.example; b={sig[:200]}"),
            ("Authentication-Results", "mx.shop.example; dkim=pass header.d=mail.example; spf=pass"),
            ("X-Mailer", rnd.choice(["Microsoft Outlook 16.0", "Apple Mail (2.3774)", "Thunderbird 128.3",
                                     "Mail.ru Mailer 1.0", "Yandex.Mail"]))]


def make_messages(count: int, seed: int = 5) -> list[bytes]:
    rnd = random.Random(seed)
    start = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    out: list[bytes] = []
    for n in range(count):
        lang = rnd.choice(list(TEXTS))
        when = start + timedelta(seconds=17 * n)
        msg = EmailMessage()
        for name, value in _headers(rnd, n, when):
            msg[name] = value
        msg["From"] = f"{NAMES[lang]} <client{rnd.randint(1, count // 3 + 1)}@mail.example>"
        msg["To"] = MAILBOX
        msg["Date"] = format_datetime(when)
        msg["Message-ID"] = f"<bench-{seed}-{n}@mail.example>"
        subject = TEXTS[lang].split(",")[1].strip()[:60]
        if n > 10 and rnd.random() < 0.25:
            msg["In-Reply-To"] = f"<bench-{seed}-{rnd.randrange(n)}@mail.example>"
            msg["References"] = msg["In-Reply-To"]
            subject = "Re: " + subject
        msg["Subject"] = f"{subject} {n}"
        paragraph = TEXTS[lang].format(n=n)
        text = "\n\n".join([paragraph] * rnd.randint(10, 26))
        quoted = "\n".join("> " + line for line in (paragraph + "\n") * rnd.randint(2, 10) if line) + "\n"
        charset = CHARSETS[lang] if lang != "en" else "utf-8"
        msg.set_content(text + "\n\nOn Mon, 23 Nov 2026 support wrote:\n" + quoted, charset=charset,
                        cte=rnd.choice(["quoted-printable", "base64", "8bit"]) if charset != "us-ascii" else None)
        html = ("<html><body><div style='font-family:Arial'>" + "".join(
            f"<p>{paragraph}</p>" for _ in range(rnd.randint(10, 26))) +
            "<blockquote>" + paragraph * 2 + "</blockquote><img src='cid:logo'></div></body></html>")
        msg.add_alternative(html, subtype="html", charset="utf-8")
        if rnd.random() < 0.33:
            msg.add_attachment(rnd.randbytes(rnd.randint(2000, 12000)), maintype="application", subtype="pdf",
                               filename=rnd.choice(["faktura.pdf", "счёт.pdf", "reçu.pdf", "receipt.pdf"]))
        out.append(msg.as_bytes(policy=policy.SMTP))
    return out


def bare(messages: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in messages:
        parsed = message_from_bytes(raw, policy=policy.default)
        body = parsed.get_body(preferencelist=("plain", "html"))
        if body is not None:
            body.get_content()
    return time.perf_counter() - start


def parse_only(messages: list[bytes]) -> float:
    from linia.intake.email.parse import parse_message

    start = time.perf_counter()
    for raw in messages:
        parse_message(raw)
    return time.perf_counter() - start


def ingest(messages: list[bytes]) -> float:
    from linia.intake.email.actions import ingest_raw

    start = time.perf_counter()
    for raw in messages:
        result = ingest_raw(raw, recipients=[MAILBOX], source="smtp")
        if result.status not in ("created", "appended"):
            raise SystemExit(f"unexpected ingest result {result}")
    return time.perf_counter() - start


def setup(with_ack: bool, with_routing: bool) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks._util import setup_django

    setup_django("linia-bench-email-")
    from linia.core.models import Tenant
    from linia.intake.email.models import Mailbox
    from linia.routing.models import Queue

    tenant = Tenant.objects.create(slug="shop", name="Shop", ticket_prefix="SPR", default_language="pl",
                                   settings={"email_ack": {"enabled": with_ack}})
    Queue.objects.create(tenant=tenant, code="mail", name="Mail", channels=["email"])
    Mailbox.objects.create(tenant=tenant, address=MAILBOX, queue="mail" if with_routing else "", language="pl")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=600, help="messages (default 600)")
    parser.add_argument("--with-ack", action="store_true", help="also queue acknowledgements (dispatch)")
    parser.add_argument("--with-routing", action="store_true", help="also create a routing task per new ticket")
    parser.add_argument("--profile", action="store_true", help="print where ingestion spends its time")
    args = parser.parse_args()
    if args.n < ROUNDS * 10:
        parser.error(f"--n must be at least {ROUNDS * 10}")
    setup(args.with_ack, args.with_routing)
    messages = make_messages(args.n + 30)
    warm, messages = messages[:30], messages[30:]
    ingest(warm)
    bare(warm)
    size = sum(len(m) for m in messages) / len(messages)
    per_round = len(messages) // ROUNDS
    spent = {"ingest": 0.0, "bare": 0.0, "parse": 0.0}
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    for r in range(ROUNDS):
        chunk = messages[r * per_round:(r + 1) * per_round]
        spent["bare"] += bare(chunk)
        spent["parse"] += parse_only(chunk)
        if profiler is not None:
            profiler.enable()
        spent["ingest"] += ingest(chunk)
        if profiler is not None:
            profiler.disable()
    total = per_round * ROUNDS
    rate, base = total / spent["ingest"], total / spent["bare"]
    ratio = rate / base
    extras = [name for name, on in (("routing tasks", args.with_routing), ("acknowledgements", args.with_ack)) if on]
    print(f"[sqlite] {total} messages, average {size / 1024:.1f} KB, {ROUNDS} alternating rounds"
          f"{', with ' + ' and '.join(extras) if extras else ''}")
    print(f"  bare email parse : {base:9.1f} messages/s")
    print(f"  parse_message    : {total / spent['parse']:9.1f} messages/s  (Linia's parser alone, "
          f"{spent['parse'] / spent['ingest']:.0%} of ingest_raw's time)")
    print(f"  ingest_raw       : {rate:9.1f} messages/s  (target >= {TARGET_RATE:.0f}) "
          f"{'PASS' if rate >= TARGET_RATE else 'FAIL'}")
    print(f"  ratio            : {ratio:9.2f}  (target >= {TARGET_RATIO:.2f}) "
          f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}")
    if profiler is not None:
        import pstats

        pstats.Stats(profiler).sort_stats("cumulative").print_stats("linia|nh3|email/(feedparser|parser)", 40)
    return 0 if rate >= TARGET_RATE and ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
