"""Full-text search table (FTS5 on SQLite, tsvector + GIN on PostgreSQL); DDL lives in linia.tickets.search."""

from typing import Any

from django.db import migrations


def create(apps: Any, schema_editor: Any) -> None:
    from linia.tickets import search

    search.create_schema(schema_editor.connection)
    search.rebuild(using=schema_editor.connection.alias)  # index tickets that already exist


def drop(apps: Any, schema_editor: Any) -> None:
    from linia.tickets import search

    search.drop_schema(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
