"""The one place where "may this user do that in this tenant?" is decided.

UI views, API endpoints, the admin and exports all ask here, so a rule changes in one spot.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, QuerySet

from linia.core.models import Membership, Role, Tenant

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from linia.core.models import User

M = TypeVar("M", bound=Model)


class Perm(StrEnum):
    TICKETS_VIEW = "tickets.view"
    TICKETS_CREATE = "tickets.create"
    TICKETS_CHANGE = "tickets.change"
    TICKETS_MERGE = "tickets.merge"
    CONTACTS_VIEW = "contacts.view"
    CONTACTS_CHANGE = "contacts.change"
    DIRECTORY_VIEW = "directory.view"
    DIRECTORY_MANAGE = "directory.manage"
    CONFIG_MANAGE = "config.manage"
    AUDIT_VIEW = "audit.view"
    EXPORT = "export"
    WEBHOOKS_MANAGE = "webhooks.manage"  # all tenant events leave the system: supervisors and platform admins


_ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.SUPERVISOR: frozenset(Perm),
    Role.AGENT: frozenset({
        Perm.TICKETS_VIEW, Perm.TICKETS_CREATE, Perm.TICKETS_CHANGE, Perm.TICKETS_MERGE,
        Perm.CONTACTS_VIEW, Perm.CONTACTS_CHANGE, Perm.DIRECTORY_VIEW, Perm.EXPORT,
    }),
    Role.CLIENT_STAFF: frozenset({
        Perm.TICKETS_VIEW, Perm.TICKETS_CHANGE, Perm.DIRECTORY_VIEW, Perm.EXPORT, Perm.CONFIG_MANAGE,
        Perm.DIRECTORY_MANAGE, Perm.AUDIT_VIEW,
    }),
    Role.STORE_STAFF: frozenset({Perm.TICKETS_VIEW, Perm.TICKETS_CREATE, Perm.TICKETS_CHANGE, Perm.DIRECTORY_VIEW}),
}


def is_platform_admin(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


MEMBERSHIP_MEMO = "_linia_memberships"  # per-request memo on the user object: {tenant id: membership or None}


def membership(user: User | AnonymousUser, tenant: Tenant | int) -> Membership | None:
    if not user.is_authenticated or not user.is_active:
        return None
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    cache: dict[int, Membership | None] = getattr(user, MEMBERSHIP_MEMO, None) or {}
    if tenant_id not in cache:
        cache[tenant_id] = _membership_row(user.pk, tenant_id)
        setattr(user, MEMBERSHIP_MEMO, cache)
    return cache[tenant_id]


def forget_memberships(user: User | AnonymousUser) -> None:
    """Drop the memo: a user object that outlives a request (a websocket's) reads its memberships afresh.
    (setattr, not the instance __dict__: a socket's user is a lazy object that forwards attributes.)"""
    setattr(user, MEMBERSHIP_MEMO, {})


def _membership_row(user_id: int, tenant_id: int) -> Membership | None:
    """The membership with its department and store (as select_related would): one plain read, as every
    permission check of a request or websocket op starts here."""
    from linia.core import fastsql
    from linia.directory.models import Department, Store

    sql = (f"SELECT {fastsql.cols(Membership, 'm')}, {fastsql.cols(Department, 'd')}, {fastsql.cols(Store, 's')} "  # noqa: S608
           f"FROM {fastsql.table(Membership)} m LEFT JOIN {fastsql.table(Department)} d ON d.id = m.department_id "
           f"LEFT JOIN {fastsql.table(Store)} s ON s.id = m.store_id WHERE m.user_id = %s AND m.tenant_id = %s")
    row = fastsql.fetch_one(sql, [user_id, tenant_id])
    if row is None:
        return None
    member = fastsql.load(Membership, row)
    at = fastsql.width(Membership)
    fastsql.attach(member, "department", fastsql.load(Department, row, at) if row[at] is not None else None)
    at += fastsql.width(Department)
    fastsql.attach(member, "store", fastsql.load(Store, row, at) if row[at] is not None else None)
    return member


def tenants_for(user: User | AnonymousUser) -> QuerySet[Tenant]:
    """Tenants the user may work in (platform admins: all active ones)."""
    if is_platform_admin(user):
        return Tenant.objects.filter(is_active=True)
    if not user.is_authenticated:
        return Tenant.objects.none()
    return Tenant.objects.filter(is_active=True, membership__user=user).distinct()


def has_perm(user: User | AnonymousUser, perm: Perm, tenant: Tenant | int) -> bool:
    if is_platform_admin(user):
        return True
    member = membership(user, tenant)
    return member is not None and perm in _ROLE_PERMS.get(member.role, frozenset())


def scope_tickets(user: User | AnonymousUser, tenant: Tenant | int, qs: QuerySet[M]) -> QuerySet[M]:
    """Tickets of `tenant` that `user` may see: staff of a department or store see only theirs."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    qs = qs.filter(tenant_id=tenant_id)
    if is_platform_admin(user):
        return qs
    member = membership(user, tenant_id)
    if member is None or Perm.TICKETS_VIEW not in _ROLE_PERMS.get(member.role, frozenset()):
        return qs.none()
    if member.role == Role.STORE_STAFF:
        return qs.filter(store_id=member.store_id)
    if member.role == Role.CLIENT_STAFF and member.department_id:
        return qs.filter(department_id=member.department_id)
    return qs


def can_see_ticket(user: User | AnonymousUser, ticket: Any) -> bool:
    from linia.tickets.models import Ticket

    return scope_tickets(user, ticket.tenant_id, Ticket.objects.filter(pk=ticket.pk)).exists()


class PermissionDenied(Exception):
    """Raised by actions; API and views turn it into 403 (or 404 when the object must not be revealed)."""

    def __init__(self, perm: Perm | str, message: str = "") -> None:
        super().__init__(message or f"permission {perm} required")
        self.perm = perm


def require(user: User | AnonymousUser, perm: Perm, tenant: Tenant | int) -> None:
    if not has_perm(user, perm, tenant):
        raise PermissionDenied(perm)
