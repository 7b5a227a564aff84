"""Open desk sockets follow access changes: a membership saved or deleted, a user or tenant saved.

Each desk socket is in its user's group; after the change commits, the sockets re-read what the user may
see and close with 4409 when that changed (the desk reconnects at once; a user without access gets 4403).
Changes made without signals (queryset updates) still reach a socket at its next operation, which reads
memberships afresh."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from linia.core.models import Membership, Tenant, User
from linia.routing.realtime import ACCESS_CHANGED, publish, user_group


def _tell(user_ids: list[int]) -> None:
    for user_id in user_ids:
        publish(user_group(user_id), {"kind": ACCESS_CHANGED})


def _membership_changed(instance: Membership, raw: bool = False, **_kwargs: Any) -> None:
    if not raw:  # fixtures loading (raw) have no sockets to tell
        _tell([instance.user_id])


def _user_changed(instance: User, created: bool = False, raw: bool = False, **_kwargs: Any) -> None:
    if not created and not raw:  # a new user has no socket yet
        _tell([instance.pk])


def _tenant_changed(instance: Tenant, created: bool = False, raw: bool = False, **_kwargs: Any) -> None:
    if not created and not raw:
        _tell(list(Membership.objects.filter(tenant=instance).values_list("user_id", flat=True)))


def connect() -> None:
    post_save.connect(_membership_changed, sender=Membership, dispatch_uid="linia-desk-access-membership-save")
    post_delete.connect(_membership_changed, sender=Membership, dispatch_uid="linia-desk-access-membership-delete")
    post_save.connect(_user_changed, sender=User, dispatch_uid="linia-desk-access-user-save")
    post_save.connect(_tenant_changed, sender=Tenant, dispatch_uid="linia-desk-access-tenant-save")
