"""State changes of tenants, users and tokens."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from linia.core import audit
from linia.core.errors import ActionError
from linia.core.models import ApiToken, Tenant, User
from linia.core.permissions import Perm, is_platform_admin, membership, require


def create_api_token(actor: Any, tenant: Tenant, user: User, *, name: str = "") -> tuple[str, ApiToken]:
    """A new bearer token for `user` in `tenant`; returns the raw key (shown once) and the row."""
    if actor is not None:
        require(actor, Perm.CONFIG_MANAGE, tenant)
    if not user.is_active or not (is_platform_admin(user) or membership(user, tenant)):
        raise ActionError("not_member", f"{user.username} is not a member of {tenant.slug}.")
    raw = ApiToken.new_raw_key()
    with transaction.atomic():
        token = ApiToken.objects.create(tenant=tenant, user=user, name=name[:100], prefix=raw[:12],
                                        key_hash=ApiToken.hash_key(raw))
        audit.record(actor, "token.create", token, tenant=tenant, changes={"user": user.username, "name": name})
    return raw, token


def revoke_api_token(actor: Any, token: ApiToken) -> bool:
    """Revoke a token (idempotent); returns False when it was already revoked."""
    if actor is not None:
        require(actor, Perm.CONFIG_MANAGE, token.tenant_id)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return False
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor, "token.revoke", token, changes={"revoked_at": [None, token.revoked_at]})
    return True
