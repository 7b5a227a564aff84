"""Bearer tokens: each token belongs to one tenant and acts as its user inside that tenant only.

Checked tokens are remembered per process for settings.API_TOKEN_CACHE_SECONDS (default 5 s; 0 turns
it off), keyed by the token's hash, so a busy client (a PBX posting CTI events) costs no queries per
request. Any save or delete of a token, user, tenant or membership in this process forgets them all at
once; a change made elsewhere (another process, a queryset ``update()``, ``linia token revoke``) is
honoured within that time.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from linia.core.memo import TimedMemo
from linia.core.models import ApiToken, Membership, Tenant, User
from linia.core.permissions import MEMBERSHIP_MEMO, Perm, is_platform_admin, membership, require

TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often (no write per request)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's user, working in the token's tenant."""

    token_id: int
    user: User
    tenant: Tenant

    def require(self, perm: Perm) -> None:
        require(self.user, perm, self.tenant)


@dataclass
class _Checked:
    token_id: int
    user: User
    tenant: Tenant
    member: Membership | None
    last_used_at: datetime | None


def _cache_seconds() -> float:
    return float(getattr(settings, "API_TOKEN_CACHE_SECONDS", 5.0))


_checked: TimedMemo[_Checked | None] = TimedMemo(_cache_seconds)  # by the token's hash


def forget_tokens(**_kwargs: Any) -> None:
    """Forget every remembered token (a token, user, tenant or membership changed in this process)."""
    _checked.forget()


for _model in (ApiToken, User, Tenant, Membership):
    post_save.connect(forget_tokens, sender=_model, dispatch_uid=f"linia-api-auth-{_model.__name__}-save")
    post_delete.connect(forget_tokens, sender=_model, dispatch_uid=f"linia-api-auth-{_model.__name__}-delete")


def _lookup(key_hash: str) -> _Checked | None:
    row = (ApiToken.objects.select_related("user", "tenant")
           .filter(key_hash=key_hash, revoked_at__isnull=True).first())
    if row is None or not row.user.is_active or not row.tenant.is_active:
        return None
    member = None
    if not is_platform_admin(row.user):
        member = membership(row.user, row.tenant)
        if member is None:
            return None  # the user left the tenant: the token no longer works
    _touch(row)
    return _Checked(token_id=row.pk, user=row.user, tenant=row.tenant, member=member,
                    last_used_at=row.last_used_at)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        token = token.strip()
        if not token or len(token) > 200:
            return None
        key_hash = ApiToken.hash_key(token)
        found = _checked.get(key_hash, lambda: _lookup(key_hash), keep=lambda checked: checked is not None)
        if found is None:
            return None
        if found.last_used_at is None or timezone.now() - found.last_used_at >= TOUCH_EVERY:
            found.last_used_at = _touch_id(found.token_id)  # a remembered token (a fresh read touched it already)
        # Each request gets its own copies: nothing a view memoises or changes on them outlives it.
        user, tenant = copy.copy(found.user), copy.copy(found.tenant)
        setattr(user, MEMBERSHIP_MEMO, {tenant.pk: found.member} if found.member is not None else {})
        request.user = user
        return Principal(token_id=found.token_id, user=user, tenant=tenant)


def _touch_id(token_id: int) -> datetime:
    now = timezone.now()
    # Conditional UPDATE: parallel requests (and processes) in the same minute write once.
    ApiToken.objects.filter(pk=token_id).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)).update(last_used_at=now)
    return now


def _touch(row: ApiToken) -> None:
    if row.last_used_at is not None and timezone.now() - row.last_used_at < TOUCH_EVERY:
        return
    row.last_used_at = _touch_id(row.pk)


def principal(request: HttpRequest) -> Principal:
    return cast(Principal, request.auth)  # type: ignore[attr-defined]
