"""Plain SQL for the hottest paths (CTI intake, dispatch, desk ops), without the ORM's query building.

Building a query is most of the CPU of a small read or write in Django (~0.2-0.5 ms each, against
~0.05 ms for the statement itself), and routing one call makes dozens. These helpers keep the model as
the source of truth: column lists, value preparation (``get_db_prep_save``) and converters
(``from_db_value``, SQLite's text datetimes) all come from the model's fields, so a renamed or
retyped field is picked up, and rows come back as ordinary model instances. Only table and column
names (from the models, never from input) are put into the SQL text; every value is a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@cache
def _fields(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    return tuple(model._meta.concrete_fields)


def cols(model: type[Model], alias: str) -> str:
    """``alias."col", ...`` for every concrete field, in the order ``load`` expects."""
    return _cols(model, alias, connection.vendor)


@cache
def _cols(model: type[Model], alias: str, vendor: str) -> str:
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
    values = list(row[start:start + width(model)])
    for i, convs, col in _converters(model, connection.vendor):
        for conv in convs:
            values[i] = conv(values[i], col, connection)
    return model.from_db(connection.alias, _names(model), values)


@cache
def _names(model: type[Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in _fields(model))


def attach(obj: Model, name: str, related: Model | None) -> None:
    """Set a foreign key's cached object, as select_related would (no query when it is read)."""
    obj._state.fields_cache[name] = related


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def fetch_one(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run a write; returns the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def for_update(*aliases: str) -> str:
    """Row lock suffix: PostgreSQL locks these tables' rows; SQLite's BEGIN IMMEDIATE already made us the
    only writer."""
    return "" if connection.vendor == "sqlite" else f" FOR UPDATE OF {', '.join(aliases)}"


def dt(value: Any) -> Any:
    """A datetime as the database wants it as a parameter."""
    return connection.ops.adapt_datetimefield_value(value)


def placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


# --- writes -------------------------------------------------------------------------------------------

@cache
def _insert_sql(model: type[Model], vendor: str) -> tuple[str, tuple[Field[Any, Any], ...]]:
    fields = tuple(f for f in _fields(model) if not f.primary_key)
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {table(model)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES ({placeholders(len(fields))}) RETURNING {quote(model._meta.pk.column)}")
    return sql, fields


def insert(obj: M) -> M:
    """INSERT a new instance (every concrete field, defaults and auto_now as ``save`` would set them);
    the instance gets its primary key. No signals are sent: use it for models without receivers."""
    sql, fields = _insert_sql(type(obj), connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


@cache
def _update_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[str, tuple[Field[Any, Any], ...]]:
    meta = model._meta
    fields = tuple(f for f in _fields(model) if f.name in names)
    if len(fields) != len(names):
        raise ValueError(f"not concrete fields of {model.__name__}: {names}")
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    return f"UPDATE {table(model)} SET {sets} WHERE {quote(meta.pk.column)} = %s", fields  # noqa: S608


def save_fields(obj: Model, names: Iterable[str]) -> None:
    """``obj.save(update_fields=names)`` without the query building (auto_now fields listed are set)."""
    sql, fields = _update_sql(type(obj), tuple(names), connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
    execute(sql, [*params, obj.pk])
