"""SQLite: the pending table that batches writes into FTS5 (create_schema is idempotent)."""

from typing import Any

from django.db import migrations


def create(apps: Any, schema_editor: Any) -> None:
    from linia.tickets import search

    search.create_schema(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0002_search"),
    ]

    operations = [
        # Reversing is a no-op: 0002's reverse drops every search table.
        migrations.RunPython(create, migrations.RunPython.noop),
    ]
