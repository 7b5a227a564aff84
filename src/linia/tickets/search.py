"""Full-text search over tickets and their messages (SQLite FTS5 / PostgreSQL tsvector)."""

from __future__ import annotations

from linia.tickets.models import Ticket


def index_ticket(ticket: Ticket) -> None:
    """Refresh the ticket's search document. Replaced by the FTS implementation."""
    return None
