"""Webhook subscriptions of the token's tenant and their delivery log (supervisors; guide: docs/webhooks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db.models import Count
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from linia.api.auth import Principal, principal
from linia.api.pagination import MAX_ID, PageParams, paginate
from linia.api.schemas import ERRORS, In
from linia.core.errors import NotFound
from linia.core.permissions import Perm
from linia.dispatch import actions
from linia.dispatch.models import WebhookDelivery, WebhookSubscription

router = Router(tags=["webhooks"])

EventTypes = list[str]


class WebhookIn(In):
    url: str = Field(max_length=500, examples=["https://example.com/linia-hook"],
                     description="http(s) URL; private and loopback addresses are refused")
    event_types: EventTypes = Field(max_length=50, examples=[["ticket.created", "ticket.status_changed", "task.*"]],
                                    description='event types, "prefix.*" patterns or "*" for all')
    name: str = Field("", max_length=120)
    is_active: bool = True


class WebhookPatch(In):
    url: str | None = Field(None, max_length=500)
    event_types: EventTypes | None = Field(None, max_length=50)
    name: str | None = Field(None, max_length=120)
    is_active: bool | None = None


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    is_active: bool
    created_at: datetime
    updated_at: datetime
    deliveries: dict[str, int] = Field(description="delivery counts by status")


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="the signing secret, shown only now (and on rotate-secret)")


class SecretOut(Schema):
    secret: str


class WebhookPage(Schema):
    items: list[WebhookOut]
    count: int


class DeliveryOut(Schema):
    id: int
    event_id: int
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_response: str
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    count: int


class DeliveryParams(PageParams):
    status: Literal["", "pending", "succeeded", "failed", "dead"] = ""


class ReplayOut(Schema):
    replayed: int = Field(description="dead deliveries queued again")


def _manager(request: HttpRequest) -> Principal:
    p = principal(request)
    p.require(Perm.WEBHOOKS_MANAGE)
    return p


def _get(p: Principal, pk: int) -> WebhookSubscription:
    sub = WebhookSubscription.objects.filter(tenant=p.tenant, pk=pk).first() if 0 < pk <= MAX_ID else None
    if sub is None:
        raise NotFound("webhook subscription")
    return sub


def webhook_out(s: WebhookSubscription) -> dict[str, Any]:
    counts = {row["status"]: row["n"] for row in
              WebhookDelivery.objects.filter(subscription=s).values("status").annotate(n=Count("id")).order_by()}
    return {"id": s.pk, "name": s.name, "url": s.url, "event_types": s.event_types, "is_active": s.is_active,
            "created_at": s.created_at, "updated_at": s.updated_at, "deliveries": counts}


def delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    return {f: getattr(d, f) for f in ("id", "event_id", "event_type", "status", "attempts", "next_attempt_at",
                                       "last_attempt_at", "last_status_code", "last_response", "last_error",
                                       "created_at", "delivered_at")}


@router.get("/webhooks", response={200: WebhookPage, **ERRORS}, summary="Webhook subscriptions of the tenant")
def list_webhooks(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    p = _manager(request)
    return paginate(WebhookSubscription.objects.filter(tenant=p.tenant).order_by("id"), page, webhook_out)


@router.post("/webhooks", response={201: WebhookCreatedOut, **ERRORS},
             summary="Subscribe a URL to event types; the answer carries the signing secret (shown once)")
def create_webhook(request: HttpRequest, payload: WebhookIn) -> Status[dict[str, Any]]:
    p = _manager(request)
    created = actions.create_subscription(p.user, p.tenant, payload.model_dump())
    return Status(201, {**webhook_out(created.subscription), "secret": created.secret})


@router.get("/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS})
def get_webhook(request: HttpRequest, webhook_id: int) -> dict[str, Any]:
    return webhook_out(_get(_manager(request), webhook_id))


@router.patch("/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS})
def update_webhook(request: HttpRequest, payload: WebhookPatch, webhook_id: int) -> dict[str, Any]:
    p = _manager(request)
    sub = actions.update_subscription(p.user, _get(p, webhook_id), payload.model_dump(exclude_unset=True))
    return webhook_out(sub)


@router.delete("/webhooks/{webhook_id}", response={204: None, **ERRORS})
def delete_webhook(request: HttpRequest, webhook_id: int) -> Status[None]:
    p = _manager(request)
    actions.delete_subscription(p.user, _get(p, webhook_id))
    return Status(204, None)


@router.post("/webhooks/{webhook_id}/rotate-secret", response={200: SecretOut, **ERRORS},
             summary="A new signing secret (shown once); later deliveries are signed with it")
def rotate_secret(request: HttpRequest, webhook_id: int) -> dict[str, Any]:
    p = _manager(request)
    return {"secret": actions.rotate_secret(p.user, _get(p, webhook_id))}


@router.get("/webhooks/{webhook_id}/deliveries", response={200: DeliveryPage, **ERRORS},
            summary="Delivery log, newest first (status=dead: the dead-letter list)")
def list_deliveries(request: HttpRequest, webhook_id: int, params: Query[DeliveryParams]) -> dict[str, Any]:
    p = _manager(request)
    qs = WebhookDelivery.objects.filter(tenant=p.tenant, subscription=_get(p, webhook_id)).order_by("-id")
    if params.status:
        qs = qs.filter(status=params.status)
    return paginate(qs, params, delivery_out)


@router.post("/webhooks/{webhook_id}/replay", response={200: ReplayOut, **ERRORS},
             summary="Queue the subscription's dead deliveries again")
def replay(request: HttpRequest, webhook_id: int) -> dict[str, Any]:
    p = _manager(request)
    return {"replayed": actions.replay_deliveries(p.user, p.tenant, subscription=_get(p, webhook_id))}
