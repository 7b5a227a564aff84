"""Bearer tokens: each token belongs to one tenant and acts as its user inside that tenant only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from linia.core.models import ApiToken, Tenant, User
from linia.core.permissions import Perm, is_platform_admin, membership, require

TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often (no write per request)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's user, working in the token's tenant."""

    token_id: int
    user: User
    tenant: Tenant

    def require(self, perm: Perm) -> None:
        require(self.user, perm, self.tenant)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        token = token.strip()
        if not token or len(token) > 200:
            return None
        row = (ApiToken.objects.select_related("user", "tenant")
               .filter(key_hash=ApiToken.hash_key(token), revoked_at__isnull=True).first())
        if row is None or not row.user.is_active or not row.tenant.is_active:
            return None
        if not (is_platform_admin(row.user) or membership(row.user, row.tenant)):
            return None  # the user left the tenant: the token no longer works
        _touch(row)
        request.user = row.user
        return Principal(token_id=row.pk, user=row.user, tenant=row.tenant)


def _touch(row: ApiToken) -> None:
    now = timezone.now()
    if row.last_used_at is not None and now - row.last_used_at < TOUCH_EVERY:
        return
    # Conditional UPDATE: parallel requests in the same minute write once.
    ApiToken.objects.filter(pk=row.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)).update(last_used_at=now)


def principal(request: HttpRequest) -> Principal:
    return cast(Principal, request.auth)  # type: ignore[attr-defined]
