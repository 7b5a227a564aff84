"""Plain SQL for hot paths that write and read many small rows (every inbound email does).

`Model.save()` and querysets compile their statement anew on every call; for the small rows each
inbound email writes and reads, that compilation cost more than the database's work. Here a statement
is built once per model and database: `insert(obj)` and `update(obj, fields)` pass each value through
the field's own `pre_save` and `get_db_prep_save`, as `save()` does, and `Columns` turns selected
columns back into instances through the same converters a queryset applies, so what is stored and read
is the same. Not sent: the pre_save/post_save signals, so use it only for models nothing listens to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections, router, transaction
from django.db.models import AutoField, BigAutoField, Field, Model

M = TypeVar("M", bound=Model)

_PLANS: dict[tuple[type[Model], str], tuple[str, list[Field[Any, Any]], bool]] = {}


def _plan(model: type[Model], alias: str) -> tuple[str, list[Field[Any, Any]], bool] | None:
    """(SQL, fields in column order, returns the id) for `model` on `alias`; None: save() must do it."""
    key = (model, alias)
    plan = _PLANS.get(key)
    if plan is None:
        meta = model._meta
        if not isinstance(meta.pk, AutoField | BigAutoField):
            return None
        fields: list[Field[Any, Any]] = [f for f in meta.concrete_fields if f is not meta.pk]
        if any(getattr(f, "generated", False) or hasattr(f, "get_placeholder") for f in fields):
            return None  # columns the database computes, or values needing their own SQL placeholder
        connection = connections[alias]
        quote = connection.ops.quote_name
        sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
               f"VALUES ({', '.join(['%s'] * len(fields))})")
        returning = bool(connection.features.can_return_columns_from_insert)
        if returning:
            sql += f" RETURNING {quote(meta.pk.column)}"
        plan = _PLANS[key] = (sql, fields, returning)
    return plan


def insert(obj: M) -> M:
    """Insert `obj` (a new instance, id unset) and set its id; returns it."""
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    plan = _plan(model, alias) if obj.pk is None else None
    if plan is None:
        obj.save(force_insert=True, using=alias)
        return obj
    sql, fields, returning = plan
    connection = connections[alias]
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            row = cursor.fetchone()
            assert row is not None
            pk = row[0]
        else:
            pk = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = alias
    return obj


_UPDATES: dict[tuple[type[Model], tuple[str, ...], str], tuple[str, list[Field[Any, Any]]]] = {}


def update(obj: Model, fields: tuple[str, ...]) -> None:
    """`obj.save(update_fields=fields)` as one plain UPDATE by id (same values, no signals, no compiling)."""
    model = type(obj)
    alias = obj._state.db or router.db_for_write(model, instance=obj)
    key = (model, fields, alias)
    plan = _UPDATES.get(key)
    if plan is None:
        meta = model._meta
        chosen: list[Field[Any, Any]] = [meta.get_field(name) for name in fields]  # type: ignore[misc]
        if any(not f.concrete or f.primary_key or hasattr(f, "get_placeholder") for f in chosen):
            obj.save(update_fields=fields, using=alias)
            return
        quote = connections[alias].ops.quote_name
        sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in chosen)} "  # noqa: S608
               f"WHERE {quote(meta.pk.column)} = %s")
        plan = _UPDATES[key] = (sql, chosen)
    sql, chosen = plan
    connection = connections[alias]
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in chosen]
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(sql, [*params, obj.pk])


class Columns:
    """The concrete columns of `model` under a table alias, for hand-written SELECTs (one JOIN can load
    several models), and `load(values)`: the instance from those columns' values."""

    def __init__(self, model: type[Model], table_alias: str, using: str = "default") -> None:
        connection = connections[using]
        quote = connection.ops.quote_name
        fields = list(model._meta.concrete_fields)
        self.model = model
        self.using = using
        self.sql = ", ".join(f"{table_alias}.{quote(f.column)}" for f in fields)
        self.width = len(fields)
        self._names = [f.attname for f in fields]
        self._converters = []
        for index, field in enumerate(fields):
            col = field.get_col(table_alias)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                self._converters.append((index, col, found))

    def load(self, values: Sequence[Any]) -> Any:
        row = list(values)
        connection = connections[self.using]
        for index, col, converters in self._converters:
            for convert in converters:
                row[index] = convert(row[index], col, connection)
        return self.model.from_db(self.using, self._names, row)
