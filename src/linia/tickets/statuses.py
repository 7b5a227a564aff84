"""Ticket status transitions: a default graph a tenant may override in Tenant.settings["status_transitions"]."""

from __future__ import annotations

from collections.abc import Mapping

NEW, OPEN, PENDING_CUSTOMER, PENDING_CLIENT, SOLVED, CLOSED = (
    "new", "open", "pending_customer", "pending_client", "solved", "closed",
)
ALL = (NEW, OPEN, PENDING_CUSTOMER, PENDING_CLIENT, SOLVED, CLOSED)
PAUSED = frozenset({PENDING_CUSTOMER, PENDING_CLIENT})  # SLA clocks stop here

DEFAULT_TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({OPEN, PENDING_CUSTOMER, PENDING_CLIENT, SOLVED, CLOSED}),
    OPEN: frozenset({PENDING_CUSTOMER, PENDING_CLIENT, SOLVED, CLOSED}),
    PENDING_CUSTOMER: frozenset({OPEN, PENDING_CLIENT, SOLVED, CLOSED}),
    PENDING_CLIENT: frozenset({OPEN, PENDING_CUSTOMER, SOLVED, CLOSED}),
    SOLVED: frozenset({OPEN, CLOSED}),
    CLOSED: frozenset(),
}


def transitions(tenant_settings: Mapping[str, object]) -> dict[str, frozenset[str]]:
    custom = tenant_settings.get("status_transitions")
    if not isinstance(custom, Mapping):
        return DEFAULT_TRANSITIONS
    result = dict(DEFAULT_TRANSITIONS)
    for source, targets in custom.items():
        if source in ALL and isinstance(targets, list):
            result[source] = frozenset(t for t in targets if t in ALL)
    return result


def allowed(tenant_settings: Mapping[str, object], source: str, target: str) -> bool:
    return source == target or target in transitions(tenant_settings).get(source, frozenset())
