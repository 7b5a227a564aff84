"""State changes of the dispatch app (actor first, one transaction, permission, audit row).

Webhooks: create/update/delete subscriptions, rotate a secret, replay dead deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linia.core import audit
from linia.core.errors import ActionError, NotFound
from linia.core.models import Tenant
from linia.core.permissions import Perm, PermissionDenied, is_platform_admin, require
from linia.dispatch import crypto, webhooks
from linia.dispatch.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

# --- webhooks --------------------------------------------------------------------------------------

SUBSCRIPTION_FIELDS = ("name", "url", "event_types", "is_active")


@dataclass(frozen=True)
class NewSubscription:
    subscription: WebhookSubscription
    secret: str  # shown to the caller once; only the encrypted form is stored


def _check(actor: Any, tenant: Tenant | int) -> None:
    if actor is not None:  # None = the system (the `linia webhooks` command)
        require(actor, Perm.WEBHOOKS_MANAGE, tenant)


def clean_subscription(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validated subscription fields; ActionError("invalid_webhook", ..., fields) naming each bad one."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    unknown = sorted(set(data) - set(SUBSCRIPTION_FIELDS))
    for name in unknown:
        errors[name] = [_("unknown field; use %(fields)s") % {"fields": ", ".join(SUBSCRIPTION_FIELDS)}]
    if creating:
        for name in ("url", "event_types"):
            if name not in data:
                errors[name] = [_("required")]
    if "url" in data:
        try:
            webhooks.resolve(data["url"])
            clean["url"] = data["url"].strip()
        except webhooks.BadWebhook as exc:
            errors["url"] = [str(exc)]
    if "event_types" in data:
        try:
            clean["event_types"] = webhooks.clean_event_types(data["event_types"])
        except webhooks.BadWebhook as exc:
            errors["event_types"] = [str(exc)]
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or len(name) > 120:
            errors["name"] = [_("text of at most 120 characters")]
        else:
            clean["name"] = name.strip()
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = [_("true or false")]
        else:
            clean["is_active"] = data["is_active"]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ActionError("invalid_webhook", _("Check the webhook: %(problem)s") % {"problem": first}, errors)
    return clean


def create_subscription(actor: Any, tenant: Tenant, data: Mapping[str, Any]) -> NewSubscription:
    """Create a subscription with a new secret; events after this moment are delivered."""
    _check(actor, tenant)
    clean = clean_subscription(data, creating=True)
    secret = webhooks.new_secret()
    with transaction.atomic():
        sub = WebhookSubscription(tenant=tenant, secret_encrypted=crypto.encrypt(secret),
                                  start_after_event_id=webhooks.current_event_id(),
                                  created_by=actor if getattr(actor, "is_authenticated", False) else None,
                                  **clean)
        sub.save()
        audit.record(actor, "create", sub, tenant=tenant, changes={k: [None, v] for k, v in clean.items()})
    return NewSubscription(sub, secret)


def update_subscription(actor: Any, sub: WebhookSubscription, data: Mapping[str, Any]) -> WebhookSubscription:
    _check(actor, sub.tenant_id)
    clean = clean_subscription(data, creating=False)
    changes = audit.diff({k: getattr(sub, k) for k in clean}, clean)
    if not changes:
        return sub
    with transaction.atomic():
        for k, v in clean.items():
            setattr(sub, k, v)
        sub.save()
        audit.record(actor, "update", sub, tenant=sub.tenant_id, changes=changes)
    return sub


def rotate_secret(actor: Any, sub: WebhookSubscription) -> str:
    """A new secret (returned once); deliveries from now on are signed with it."""
    _check(actor, sub.tenant_id)
    secret = webhooks.new_secret()
    with transaction.atomic():
        sub.secret_encrypted = crypto.encrypt(secret)
        sub.save(update_fields=["secret_encrypted", "updated_at"])
        audit.record(actor, "webhook.rotate_secret", sub, tenant=sub.tenant_id,
                     changes={"secret": ["(hidden)", "(changed)"]})
    return secret


def delete_subscription(actor: Any, sub: WebhookSubscription) -> None:
    """Delete a subscription with its delivery log (pending deliveries are dropped)."""
    _check(actor, sub.tenant_id)
    with transaction.atomic():
        audit.record(actor, "delete", sub, tenant=sub.tenant_id,
                     changes={"url": [sub.url, None], "event_types": [sub.event_types, None]})
        sub.delete()


def replay_deliveries(actor: Any, tenant: Tenant | int | None, deliveries: Iterable[WebhookDelivery] | None = None,
                      *, subscription: WebhookSubscription | None = None) -> int:
    """Queue dead deliveries again (attempts start over). `tenant` None: all tenants (platform admins only).

    `deliveries`: these rows (only the dead ones are touched); else every dead delivery of the tenant
    (or of `subscription`). Returns how many were queued.
    """
    if tenant is None:
        if actor is not None and not is_platform_admin(actor):
            raise PermissionDenied(Perm.WEBHOOKS_MANAGE, "only platform administrators replay all tenants")
    else:
        _check(actor, tenant)
    tenant_id = tenant if isinstance(tenant, int) or tenant is None else tenant.pk
    qs = WebhookDelivery.objects.filter(status=DeliveryStatus.DEAD)
    if tenant_id is not None:
        qs = qs.filter(tenant_id=tenant_id)
    if subscription is not None:
        if tenant_id is not None and subscription.tenant_id != tenant_id:
            raise NotFound("webhook subscription")
        qs = qs.filter(subscription=subscription)
    if deliveries is not None:
        qs = qs.filter(pk__in=[d.pk for d in deliveries])
    with transaction.atomic():
        ids = list(qs.values_list("id", flat=True))
        n = WebhookDelivery.objects.filter(pk__in=ids, status=DeliveryStatus.DEAD).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), claim_token="")
        if n:
            by_tenant: dict[int, list[int]] = {}
            for pk, t in WebhookDelivery.objects.filter(pk__in=ids).values_list("id", "tenant_id"):
                by_tenant.setdefault(t, []).append(pk)
            for t, pks in by_tenant.items():
                audit.record(actor, "webhook.replay", WebhookDelivery(pk=pks[0], tenant_id=t), tenant=t,
                             changes={"deliveries": pks})
    return n
