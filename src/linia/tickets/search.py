"""Full-text search over tickets and their messages (SQLite FTS5 / PostgreSQL tsvector).

One search row per ticket holds its whole document: reference, subject, contact (name, phones, emails),
store, category, tags, every message body (public replies and internal notes) and custom field values.
Text is folded here in Python (lower case, diacritics dropped, ł→l, ё→е, ß→ss) and split into words
before it reaches either database, so both backends match exactly the same way and user input never
reaches a query parser as syntax: the query is rebuilt from plain word tokens.

The document is written inside the action's transaction (`index_ticket`), so search never lags behind.
PostgreSQL upserts the tsvector row directly (GIN's fastupdate list buffers the index write). On SQLite an
FTS5 write per transaction costs about as much as the rest of a new ticket, so documents go to a plain
pending table and move into FTS5 in batches (`flush`, every FLUSH_EVERY ticket ids); searches read
both, so a document is findable the moment its transaction commits.
All search DDL lives in this module; migrations call `create_schema` / `drop_schema`.
"""

# ruff: noqa: S608  -- SQL here interpolates only table names; every value is a bound parameter.
from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from linia.directory.models import Category, Store
from linia.tickets.models import Contact, ContactIdentity, Message, Tag, Ticket
from linia.tickets.numbering import format_reference, parse_reference

TABLE = "tickets_search"
PENDING = "tickets_search_pending"  # SQLite only: documents not yet moved into the FTS5 table
FLUSH_EVERY = 64
MAX_PENDING_CHARS = 20_000
MAX_DOCUMENT_CHARS = 200_000  # keeps a PostgreSQL tsvector well under its 1 MB limit
MAX_QUERY_TOKENS = 16
BATCH_SIZE = 500

# Idempotent (IF NOT EXISTS), so a later migration can run create_schema again to add what is new.
_SQLITE_DDL = [
    # rowid is the ticket id; tenant_id is stored but not indexed (a filter, never a match target).
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "reference, subject, body, tenant_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')",
    f"CREATE TABLE IF NOT EXISTS {PENDING} (ticket_id integer PRIMARY KEY, tenant_id integer NOT NULL, "
    "reference text NOT NULL, subject text NOT NULL, body text NOT NULL)",
]
_POSTGRES_DDL = [
    # No foreign key: Django's flush truncates ticket tables without CASCADE. Stale rows are harmless
    # (results are always joined back to tenant-scoped tickets) and `rebuild` removes them.
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(ticket_id bigint PRIMARY KEY, tenant_id bigint NOT NULL, document tsvector NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_document ON {TABLE} USING gin (document)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_tenant ON {TABLE} (tenant_id)",
]


def create_schema(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _POSTGRES_DDL if connection.vendor == "postgresql" else _SQLITE_DDL:
            cursor.execute(sql)


def drop_schema(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for table in (TABLE, PENDING):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


# --- text folding -------------------------------------------------------------------------------

# Letters that carry no combining mark in Unicode, so NFKD alone would keep them.
_LETTERS = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ß": "ss", "ẞ": "ss",
                          "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i", "ħ": "h", "þ": "th"})
_MARKS = re.compile("[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower-case text without diacritics: 'Zażółć ЁЛКА Café' -> 'zazolc елка cafe'."""
    if text.isascii():
        return text.lower()
    return _MARKS.sub("", unicodedata.normalize("NFKD", text.translate(_LETTERS))).lower()


def words(text: str) -> list[str]:
    """The folded words of text, as both the index and the query see them."""
    return _WORD.findall(fold(text))


def _clean(text: str, limit: int = MAX_DOCUMENT_CHARS) -> str:
    return " ".join(words(text[:limit]))[:limit]


# --- documents ----------------------------------------------------------------------------------

def _branches() -> dict[str, str]:
    """SELECT (ticket id, text) per source; `{ids}` becomes the placeholders of the ticket ids."""
    ticket, message = Ticket._meta.db_table, Message._meta.db_table
    tags, tag = Ticket.tags.through._meta.db_table, Tag._meta.db_table
    contact, identity = Contact._meta.db_table, ContactIdentity._meta.db_table
    store, category = Store._meta.db_table, Category._meta.db_table
    return {
        "messages": f"SELECT ticket_id, body_text FROM {message} WHERE ticket_id IN ({{ids}})",
        "tags": f"SELECT x.ticket_id, g.name FROM {tags} x JOIN {tag} g ON g.id = x.tag_id "
                f"WHERE x.ticket_id IN ({{ids}})",
        "identities": f"SELECT t.id, i.value FROM {ticket} t JOIN {identity} i ON i.contact_id = t.contact_id "
                      f"WHERE t.id IN ({{ids}})",
        "contact": f"SELECT t.id, c.name FROM {ticket} t JOIN {contact} c ON c.id = t.contact_id "
                   f"WHERE t.id IN ({{ids}})",
        "store": f"SELECT t.id, s.code || ' ' || s.name || ' ' || s.city FROM {ticket} t "
                 f"JOIN {store} s ON s.id = t.store_id WHERE t.id IN ({{ids}})",
        "category": f"SELECT t.id, c.code || ' ' || c.name FROM {ticket} t "
                    f"JOIN {category} c ON c.id = t.category_id WHERE t.id IN ({{ids}})",
    }


def _related_texts(ticket_ids: Sequence[int], using: str, parts: Sequence[str] = ()) -> dict[int, list[str]]:
    """One round trip for everything a document needs beyond the ticket row (or only `parts` of it)."""
    branches = _branches()
    chosen = [branches[p] for p in parts or branches]
    marks = ", ".join(["%s"] * len(ticket_ids))
    sql = " UNION ALL ".join(chosen).replace("{ids}", marks)
    texts: dict[int, list[str]] = defaultdict(list)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, list(ticket_ids) * len(chosen))
        for ticket_id, text in cursor.fetchall():
            if text:
                texts[ticket_id].append(text)
    return texts


def _known_texts(ticket: Ticket) -> tuple[list[str], list[str]]:
    """Texts of relations already loaded on the instance, and the parts still to read."""
    texts, parts = [], ["messages", "tags"]
    if ticket.contact_id is not None:
        parts.append("identities")
    for name, field in (("contact", Ticket.contact), ("store", Ticket.store), ("category", Ticket.category)):
        if getattr(ticket, f"{name}_id") is None:
            continue
        if not field.is_cached(ticket):
            parts.append(name)
        elif (obj := getattr(ticket, name)) is not None:
            texts.append(" ".join(str(getattr(obj, attr, "")) for attr in ("code", "name", "city")))
    return texts, parts


def _values(data: Any) -> Iterator[str]:
    """Scalar values of a custom-fields JSON document (keys are field ids, not searchable text)."""
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _values(value)
    elif data is not None and not isinstance(data, bool):
        yield str(data)


def _row(ticket_id: int, tenant_id: int, reference: str, subject: str, custom_fields: Any,
         texts: Iterable[str]) -> tuple[int, int, str, str, str]:
    if isinstance(custom_fields, str):  # raw cursors return JSON as text
        custom_fields = json.loads(custom_fields or "{}")
    number = reference.rpartition("-")[2].lstrip("0")
    body = "\n".join([*texts, *_values(custom_fields)])
    return ticket_id, tenant_id, _clean(f"{reference} {number}"), _clean(subject), _clean(body)


def _upsert(rows: Sequence[tuple[int, int, str, str, str]], using: str, *, pending: bool = False) -> None:
    """Write documents: PostgreSQL's tsvector table, or SQLite's FTS5 table (or its pending table)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        sql = (f"INSERT INTO {TABLE} (ticket_id, tenant_id, document) VALUES (%s, %s, "
               "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B') "
               "|| setweight(to_tsvector('simple', %s), 'D')) "
               "ON CONFLICT (ticket_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, document = EXCLUDED.document")
    elif pending:
        sql = f"INSERT OR REPLACE INTO {PENDING} (ticket_id, tenant_id, reference, subject, body) VALUES (%s, %s, %s, %s, %s)"
    else:
        sql = f"INSERT OR REPLACE INTO {TABLE} (rowid, tenant_id, reference, subject, body) VALUES (%s, %s, %s, %s, %s)"
    with connection.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(sql, rows[0])
        else:
            cursor.executemany(sql, rows)


def index_ticket(ticket: Ticket, *, using: str = "default") -> None:
    """Refresh the ticket's search document: one read for its related texts, one upsert. Call in the action."""
    known, parts = _known_texts(ticket)
    texts = known + _related_texts([ticket.pk], using, parts)[ticket.pk]
    row = _row(ticket.pk, ticket.tenant_id, ticket.reference, ticket.subject, ticket.custom_fields, texts)
    sqlite = connections[using].vendor != "postgresql"
    _upsert([row], using, pending=sqlite)
    # amortised: one FTS5 write per FLUSH_EVERY tickets; a big document goes at once (searches scan pending)
    if sqlite and (ticket.pk % FLUSH_EVERY == 0 or len(row[4]) > MAX_PENDING_CHARS):
        flush(using=using)


def add_message_text(ticket: Ticket, text: str, *, using: str = "default") -> None:
    """A new message on an indexed ticket: append its words to the ticket's document instead of re-reading
    every message (a chat adds one per line). Falls back to `index_ticket` when there is no document yet
    or it is at its size limit. Call in the action, like index_ticket."""
    cleaned = _clean(text)
    if not cleaned:
        return
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"UPDATE {TABLE} SET document = document || setweight(to_tsvector('simple', %s), 'D') "
                           "WHERE ticket_id = %s AND pg_column_size(document) < %s",
                           [cleaned, ticket.pk, MAX_DOCUMENT_CHARS])
            if cursor.rowcount != 1:
                index_ticket(ticket, using=using)
            return
        cursor.execute(APPEND_PENDING, [cleaned, cleaned, ticket.pk, ticket.pk, len(cleaned), MAX_DOCUMENT_CHARS])
        appended = cursor.fetchone()
    if appended is None:  # no document yet, or at its size limit
        index_ticket(ticket, using=using)
        return
    if ticket.pk % FLUSH_EVERY == 0 or appended[0] > MAX_PENDING_CHARS:
        flush(using=using)


# SQLite, one statement (a chat adds a line per message): the ticket's newest document (pending, else the FTS5
# row) plus the new words, written as its pending document; no row when there is none or it is full.
APPEND_PENDING = (
    f"INSERT INTO {PENDING} (ticket_id, tenant_id, reference, subject, body) "
    "SELECT ticket_id, tenant_id, reference, subject, CASE WHEN body = '' THEN %s ELSE body || ' ' || %s END "
    f"FROM (SELECT ticket_id, tenant_id, reference, subject, body, 0 AS newest FROM {PENDING} WHERE ticket_id = %s "
    f"UNION ALL SELECT rowid, tenant_id, reference, subject, body, 1 FROM {TABLE} WHERE rowid = %s "
    "ORDER BY newest LIMIT 1) WHERE length(body) + %s < %s "
    "ON CONFLICT (ticket_id) DO UPDATE SET body = excluded.body RETURNING length(body)")


def flush(*, using: str = "default") -> None:
    """SQLite: move pending documents into the FTS5 table (no-op on PostgreSQL). Runs in one transaction."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        return
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(f"INSERT OR REPLACE INTO {TABLE} (rowid, tenant_id, reference, subject, body) "
                       f"SELECT ticket_id, tenant_id, reference, subject, body FROM {PENDING}")
        cursor.execute(f"DELETE FROM {PENDING}")


def rebuild(tenant_id: int | None = None, *, using: str = "default", batch_size: int = BATCH_SIZE) -> int:
    """Reindex every ticket (of one tenant, or all) in batches; returns how many were indexed.

    Each batch commits on its own, so a large rebuild never holds a long write lock; rows of tickets
    that no longer exist are deleted at the end.
    """
    flush(using=using)  # from here on batches write the FTS5 table directly
    ticket = Ticket._meta.db_table
    where = "id > %s" + (" AND tenant_id = %s" if tenant_id is not None else "")
    select = (f"SELECT id, tenant_id, reference, subject, custom_fields FROM {ticket} "
              f"WHERE {where} ORDER BY id LIMIT %s")
    last, count = 0, 0
    while True:
        params = [last, tenant_id, batch_size] if tenant_id is not None else [last, batch_size]
        with transaction.atomic(using=using):
            with connections[using].cursor() as cursor:
                cursor.execute(select, params)
                batch = cursor.fetchall()
            if not batch:
                break
            texts = _related_texts([r[0] for r in batch], using)
            _upsert([_row(pk, tenant, ref, subject, custom, texts.get(pk, []))
                     for pk, tenant, ref, subject, custom in batch], using)
        count += len(batch)
        last = batch[-1][0]
    _delete_orphans(tenant_id, using)
    return count


def _delete_orphans(tenant_id: int | None, using: str) -> None:
    connection = connections[using]
    tables = [(TABLE, "ticket_id")] if connection.vendor == "postgresql" else [(TABLE, "rowid"), (PENDING, "ticket_id")]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for table, key in tables:
            sql = f"DELETE FROM {table} WHERE {key} NOT IN (SELECT id FROM {Ticket._meta.db_table})"
            cursor.execute(sql + " AND tenant_id = %s" if tenant_id is not None else sql,
                           [tenant_id] if tenant_id is not None else [])


# --- querying -----------------------------------------------------------------------------------

def _reference_hits(tenant_id: int, q: str) -> list[int]:
    """A ticket named by its reference ("SPR-000123", "#123") or bare number ("123")."""
    text = q.strip().lstrip("#").strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return list(Ticket.objects.filter(tenant_id=tenant_id, number=int(text)).values_list("pk", flat=True))
    parsed = parse_reference(text) if text.isascii() and len(text) <= 32 else None
    if parsed is None or len(str(parsed[1])) > 18:
        return []
    reference = format_reference(*parsed)
    return list(Ticket.objects.filter(tenant_id=tenant_id, reference=reference).values_list("pk", flat=True))


def search_ticket_ids(tenant_id: int, q: str, limit: int = 500, *, using: str = "default") -> list[int]:
    """Ids of the tenant's tickets matching every word of q (the last word as a prefix), best first.

    Any text is safe: q is reduced to word tokens, so quotes, operators and emoji are never syntax.
    Order: the ticket q names by reference or number, then (SQLite) matches among the newest, not yet
    flushed documents, then ranked full-text matches (bm25 / ts_rank; reference > subject > the rest).
    """
    hits = _reference_hits(tenant_id, q)
    tokens = words(q[:1000])[:MAX_QUERY_TOKENS]
    if not tokens or limit <= 0:
        return hits[:max(limit, 0)]
    connection = connections[using]
    pending: list[int] = []
    if connection.vendor == "postgresql":
        query = " & ".join(f"'{t}'" for t in tokens) + ":*"
        sql = (f"SELECT ticket_id FROM {TABLE}, to_tsquery('simple', %s) query "
               "WHERE tenant_id = %s AND document @@ query "
               "ORDER BY ts_rank(document, query) DESC, ticket_id DESC LIMIT %s")
    else:
        pending = _pending_matches(tenant_id, tokens, using)
        query = " ".join(f'"{t}"' for t in tokens) + "*"
        sql = (f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s AND tenant_id = %s "
               f"AND rowid NOT IN (SELECT ticket_id FROM {PENDING}) "  # their pending document is newer
               f"ORDER BY bm25({TABLE}, 10.0, 4.0, 1.0), rowid DESC LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [query, int(tenant_id), limit])
        found = [int(row[0]) for row in cursor.fetchall()]
    # dict.fromkeys keeps the first place of each id: a flush between the two reads can list a ticket twice
    return list(dict.fromkeys(hits + pending + found))[:limit]


def _pending_matches(tenant_id: int, tokens: list[str], using: str) -> list[int]:
    """SQLite: the tenant's not-yet-flushed documents with every token (the last as a prefix), ranked
    like bm25's column weights (reference, then subject, then body), newest first among equals."""
    *whole, prefix = tokens
    scored: list[tuple[int, int]] = []
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT ticket_id, reference, subject, body FROM {PENDING} WHERE tenant_id = %s",
                       [int(tenant_id)])
        for ticket_id, *columns in cursor.fetchall():
            column_words = [set(text.split()) for text in columns]
            every = set().union(*column_words)
            if not all(t in every for t in whole) or not any(w.startswith(prefix) for w in every):
                continue
            score = sum(weight * sum(1 for t in tokens if t in cw or any(w.startswith(t) for w in cw))
                        for weight, cw in zip((10, 4, 1), column_words, strict=True))
            scored.append((score, int(ticket_id)))
    return [pk for _, pk in sorted(scored, key=lambda s: (-s[0], -s[1]))]
