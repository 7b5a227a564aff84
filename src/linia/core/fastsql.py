"""Plain SQL for the hottest paths (CTI intake, dispatch, desk ops), without the ORM's query building.

Building a query is most of the CPU of a small read or write in Django (~0.2-0.5 ms each, against
~0.05 ms for the statement itself), and routing one call makes dozens. These helpers keep the model as
the source of truth: column lists, value preparation (``get_db_prep_save``) and converters
(``from_db_value``, SQLite's text datetimes) all come from the model's fields, so a renamed or
retyped field is picked up, and rows come back as ordinary model instances. Only table and column
names (from the models, never from input) and code constants are put into the SQL text; every other value
is a parameter. The constants (statuses, states, roles: ``literals``) are in the text so that a prepared
statement's generic plan sees them (see linia.core.pgsession).

Statements run on the DB-API cursor with the checks and error translation of Django's cursor (its
wrapper layers cost as much as a small statement), and rows become instances without Model.__init__'s
per-field work, unless the model has init signals or its own __init__/from_db. While something watches
the statements (DEBUG's query log, assertNumQueries, an execute_wrapper), Django's cursor runs them.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

from linia.core import pgsession

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


@cache
def _vendor() -> str:
    """The default database's vendor, read once: a process (a server, a test run) uses one database. The
    connection proxy costs a few microseconds per look-up, and a routed call made hundreds."""
    return connections[DEFAULT_DB_ALIAS].vendor


@cache
def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@cache
def _fields(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    return tuple(model._meta.concrete_fields)


@cache
def _written(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    """The fields an INSERT gives values for: not the primary key, not those the database computes."""
    return tuple(f for f in _fields(model) if not f.primary_key and not getattr(f, "generated", False))


@cache
def cols(model: type[Model], alias: str) -> str:
    """``alias."col", ...`` for every concrete field, in the order ``load`` expects."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in _fields(model))


def width(model: type[Model]) -> int:
    return len(_fields(model))


@cache
def _converters(model: type[Model], vendor: str) -> tuple[tuple[int, tuple[Converter, ...], Any], ...]:
    """(position, converters, expression) for the fields whose database value needs converting."""
    out = []
    for i, f in enumerate(_fields(model)):
        col = f.get_col(model._meta.db_table)
        convs = tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        if convs:
            out.append((i, convs, col))
    return tuple(out)


def load(model: type[M], row: Sequence[Any], start: int = 0) -> M:
    """A model instance from ``row[start:start + width(model)]`` (selected with ``cols``)."""
    names = _names(model)
    values = list(row[start:start + len(names)])
    converters = _converters(model, _vendor())
    if converters:
        conn = connections[DEFAULT_DB_ALIAS]
        for i, convs, col in converters:
            for conv in convs:
                values[i] = conv(values[i], col, conn)
    if _custom_init(model) or pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(DEFAULT_DB_ALIAS, names, values)
    # What Model.__init__ does with every concrete field given in order, without its per-field work:
    # the attribute values, a fresh state, not adding, from this database (as from_db leaves it).
    obj = model.__new__(model)
    obj.__dict__.update(zip(names, values, strict=True))
    state = obj._state = ModelState()
    state.adding, state.db = False, DEFAULT_DB_ALIAS
    return obj


@cache
def _custom_init(model: type[Model]) -> bool:
    """The model builds its instances its own way (its own __init__ or from_db): leave that to it."""
    return model.__init__ is not Model.__init__ or model.from_db.__func__ is not Model.from_db.__func__  # type: ignore[attr-defined]


@cache
def _names(model: type[Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in _fields(model))


def attach(obj: Model, name: str, related: Model | None) -> None:
    """Set a foreign key's cached object, as select_related would (no query when it is read)."""
    obj._state.fields_cache[name] = related


_ALL, _ONE, _COUNT = 0, 1, 2
_QMARK = re.compile(r"(?<!%)%s")


@lru_cache(maxsize=1024)
def _qmark(sql: str) -> str:
    """SQLite's placeholders, as Django's SQLite cursor converts them on every call (here once per text)."""
    return _QMARK.sub("?", sql).replace("%%", "%")


def _run(sql: str, params: Sequence[Any], want: int) -> Any:
    """Execute one statement on the default connection and return all rows, one row or the row count.

    The same checks and error translation as Django's cursor (health check, broken transaction, database
    errors raised as django.db errors), without its per-statement layers. When something watches the
    statements (DEBUG's query log, assertNumQueries, execute_wrapper), Django's own cursor runs them."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.queries_logged or conn.execute_wrappers:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return _result(cursor, want)
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    conn.validate_thread_sharing()
    conn.validate_no_broken_transaction()
    with conn.wrap_database_errors:
        if conn.vendor != "sqlite":
            cursor = _kept_cursor(conn)
            cursor.execute(sql, params)
            return _result(cursor, want)
        cursor = conn.create_cursor()
        try:
            sqlite3.Cursor.execute(cursor, _qmark(sql), params)
            return _result(cursor, want)
        finally:
            cursor.close()


def _kept_cursor(conn: Any) -> Any:
    """One psycopg cursor per database connection, reused: a new cursor copies the connection's adapter map
    and builds a transformer (about a third of a small statement's client CPU). psycopg reads every result
    in full, so a reused cursor holds nothing open on the server; a reconnect gets a new cursor."""
    kept = getattr(conn, "_fastsql_cursor", None)
    if kept is None or kept[0] is not conn.connection:
        kept = conn._fastsql_cursor = (conn.connection, pgsession.statement_cursor(conn.connection))
    return kept[1]


def _result(cursor: Any, want: int) -> Any:
    if want == _ALL:
        return [tuple(r) for r in cursor.fetchall()]
    if want == _ONE:
        row = cursor.fetchone()
        return tuple(row) if row is not None else None
    return int(cursor.rowcount)


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    return _run(sql, params, _ALL)  # type: ignore[no-any-return]


def fetch_one(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    return _run(sql, params, _ONE)  # type: ignore[no-any-return]


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run a write; returns the number of rows it changed."""
    return _run(sql, params, _COUNT)  # type: ignore[no-any-return]


def for_update(*aliases: str) -> str:
    """Row lock suffix: PostgreSQL locks these tables' rows; SQLite's BEGIN IMMEDIATE already made us the
    only writer."""
    return "" if _vendor() == "sqlite" else f" FOR UPDATE OF {', '.join(aliases)}"


def dt(value: Any) -> Any:
    """A datetime as the database wants it as a parameter."""
    if _vendor() == "postgresql":
        return value  # what its adapt_datetimefield_value does: psycopg sends aware datetimes as they are
    return connection.ops.adapt_datetimefield_value(value)


def placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


_CONSTANT = re.compile(r"[a-z][a-z0-9_]*")


@cache
def literals(*values: str) -> str:
    """Code constants (a status, a state, a role) as SQL string literals, for the statement text: a prepared
    statement's generic plan then knows them ("status = 'queued'" is a few rows, "status = $1" an average
    share). Only plain lower-case words are accepted: these are never input. Cached: the constants are few,
    and formatting an enum member is slow."""
    for value in values:
        if not _CONSTANT.fullmatch(value):
            raise ValueError(f"not a code constant: {value!r}")
    return ", ".join(f"'{value}'" for value in values)


# --- writes -------------------------------------------------------------------------------------------

@cache
def _insert_sql(model: type[Model], vendor: str, exprs: tuple[tuple[str, str], ...] = (),
                or_nothing: bool = False) -> tuple[str, tuple[Field[Any, Any], ...], tuple[Field[Any, Any], ...]]:
    """(sql, fields given as values, fields given as SQL expressions: their values come back in RETURNING)."""
    sql_of = dict(exprs)
    fields = _written(model)
    computed = tuple(f for f in fields if f.name in sql_of)
    if len(computed) != len(sql_of):
        raise ValueError(f"{model.__name__} fields that cannot be inserted (not concrete, or computed): {sorted(sql_of)}")
    quote = connection.ops.quote_name
    values = ", ".join(f"({sql_of[f.name]})" if f.name in sql_of else "%s" for f in fields)
    returning = ", ".join(quote(f.column) for f in (model._meta.pk, *computed))
    sql = (f"INSERT INTO {table(model)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES ({values}){' ON CONFLICT DO NOTHING' if or_nothing else ''} RETURNING {returning}")
    return sql, tuple(f for f in fields if f.name not in sql_of), computed


def insert(obj: M) -> M:
    """INSERT a new instance (every concrete field, defaults and auto_now as ``save`` would set them);
    the instance gets its primary key. No signals are sent: use it for models without receivers."""
    done = insert_unless_exists(obj)
    assert done is not None
    return done


def insert_unless_exists(obj: M, *, exprs: dict[str, tuple[str, Sequence[Any]]] | None = None,
                         or_nothing: bool = False) -> M | None:
    """``insert`` with options. ``exprs``: fields whose value is a SQL expression (name -> (sql, params)),
    e.g. a sub-select that saves a read; the instance gets their values from RETURNING. ``or_nothing``:
    ON CONFLICT DO NOTHING, and None when a unique constraint already held such a row (nothing written)."""
    conn = connections[DEFAULT_DB_ALIAS]
    exprs = exprs or {}
    sql, fields, computed = _insert_sql(type(obj), conn.vendor, tuple((k, v[0]) for k, v in exprs.items()),
                                        or_nothing)
    if exprs:
        values = {f.name: f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields}
        params: list[Any] = []
        for f in _written(type(obj)):  # column order: the values and the expressions' own parameters
            params.extend(exprs[f.name][1] if f.name in exprs else [values[f.name]])
    else:
        params = [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]
    row = _run(sql, params, _ONE)
    if row is None:
        return None
    obj.pk = row[0]
    for f, value in zip(computed, row[1:], strict=True):
        setattr(obj, f.attname, value)
    obj._state.adding = False
    obj._state.db = conn.alias
    return obj


@cache
def _insert_rows_sql(model: type[Model], vendor: str, rows: int) -> tuple[str, tuple[Field[Any, Any], ...]]:
    fields = _written(model)
    quote = connection.ops.quote_name
    one = "(" + placeholders(len(fields)) + ")"
    sql = (f"INSERT INTO {table(model)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES {', '.join([one] * rows)}")
    return sql, fields


def insert_rows(objs: Sequence[Model]) -> None:
    """INSERT new instances of one model in one statement (as ``insert`` would each, but without reading their
    primary keys back: for rows nobody looks at again in the same code, such as event-log rows)."""
    if not objs:
        return
    conn = connections[DEFAULT_DB_ALIAS]
    sql, fields = _insert_rows_sql(type(objs[0]), conn.vendor, len(objs))
    params = [f.get_db_prep_save(f.pre_save(obj, True), conn) for obj in objs for f in fields]
    _run(sql, params, _COUNT)


@cache
def _update_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[str, tuple[Field[Any, Any], ...]]:
    meta = model._meta
    fields = tuple(f for f in _written(model) if f.name in names)
    if len(fields) != len(names):
        raise ValueError(f"{model.__name__} fields that cannot be saved (not concrete, the key, or computed): {names}")
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    return f"UPDATE {table(model)} SET {sets} WHERE {quote(meta.pk.column)} = %s", fields  # noqa: S608


def save_fields(obj: Model, names: Iterable[str]) -> None:
    """``obj.save(update_fields=names)`` without the query building (auto_now fields listed are set)."""
    conn = connections[DEFAULT_DB_ALIAS]
    sql, fields = _update_sql(type(obj), tuple(names), conn.vendor)
    params = [f.get_db_prep_save(f.pre_save(obj, False), conn) for f in fields]
    _run(sql, [*params, obj.pk], _COUNT)
