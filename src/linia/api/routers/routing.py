"""Routing for agents, supervisors and integrations: presence, offers, tasks, wrap-up, live snapshots.

Thin callers of linia.routing.actions / queries. After a change that can free an agent or add a task
the endpoint runs a dispatch of the token's tenant, so offers go out at once (the periodic tick is the
safety net).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Status

from linia.api.auth import Principal, principal
from linia.api.pagination import MAX_ID
from linia.api.schemas import ERRORS, In
from linia.core.errors import NotFound
from linia.core.models import Role
from linia.core.permissions import PermissionDenied, is_platform_admin, membership
from linia.routing import actions, queries
from linia.routing.models import CHANNELS, Queue, Task
from linia.routing.serialize import task_brief

log = logging.getLogger(__name__)
router = Router(tags=["routing"])
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Code = Annotated[str, Field(min_length=1, max_length=40)]


class PresenceIn(In):
    state: Annotated[str, Field(max_length=20)]
    reason: Annotated[str, Field(max_length=100)] = ""
    user_id: Id | None = Field(None, description="another agent (supervisors only)")


class CompleteIn(In):
    disposition: Annotated[str, Field(max_length=40)] = ""


class TransferIn(In):
    to_queue: Code | None = Field(None, description="queue code")
    to_agent: Id | None = Field(None, description="user id of the agent")


class EscalateIn(In):
    note: Annotated[str, Field(max_length=2000)] = ""


class AbandonIn(In):
    reason: Annotated[str, Field(max_length=200)] = ""


class WrapupIn(In):
    user_id: Id | None = None


class TaskIn(In):
    channel: Annotated[str, Field(max_length=12, description=", ".join(CHANNELS))]
    queue: Code
    language: Annotated[str, Field(max_length=8)] = ""
    required_skills: dict[Annotated[str, Field(max_length=60)], Annotated[int, Field(ge=1, le=10)]] = {}
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    external_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    attributes: dict[str, Any] = {}


def _dispatch(p: Principal) -> None:
    actions.dispatch_after_change([p.tenant.pk])


def _require_supervisor(p: Principal) -> None:
    member = membership(p.user, p.tenant)
    if not (is_platform_admin(p.user) or (member is not None and member.role == Role.SUPERVISOR)):
        raise PermissionDenied("routing.supervise", "supervisors only")


def _task_out(task: Task) -> dict[str, Any]:
    return task_brief(Task.objects.select_related("queue").get(pk=task.pk))


@router.get("/routing/me", response={200: dict[str, Any], **ERRORS}, summary="My routing state (snapshot)")
def my_snapshot(request: HttpRequest) -> dict[str, Any]:
    p = principal(request)
    return queries.agent_snapshot(p.user, p.tenant)


@router.get("/routing/presence", response={200: dict[str, Any], **ERRORS}, summary="My presence")
def get_presence(request: HttpRequest) -> dict[str, Any]:
    p = principal(request)
    snap = queries.agent_snapshot(p.user, p.tenant)
    return {k: snap[k] for k in ("user_id", "presence", "reason", "since", "seconds_in_state", "not_responding",
                                 "wrapup_until")}


@router.post("/routing/presence", response={200: dict[str, Any], **ERRORS},
             summary="Set presence (mine, or an agent's as a supervisor)")
def set_presence(request: HttpRequest, body: PresenceIn) -> dict[str, Any]:
    p = principal(request)
    target = body.user_id or p.user.pk
    profile = actions.set_presence(p.user, target, body.state, body.reason, tenant=p.tenant)
    _dispatch(p)
    return {"user_id": target, "presence": profile.presence, "reason": profile.presence_reason,
            "since": profile.presence_since.isoformat() if profile.presence_since else None,
            "not_responding": profile.not_responding}


@router.post("/routing/offers/{reservation_id}/accept", response={200: dict[str, Any], **ERRORS},
             summary="Accept an offer (409 offer_expired when too late)")
def accept(request: HttpRequest, reservation_id: Id) -> dict[str, Any]:
    p = principal(request)
    return _task_out(actions.accept_offer(p.user, reservation_id, tenant=p.tenant))


@router.post("/routing/offers/{reservation_id}/decline", response={200: dict[str, Any], **ERRORS},
             summary="Decline an offer: it goes to the next agent")
def decline(request: HttpRequest, reservation_id: Id) -> dict[str, Any]:
    p = principal(request)
    actions.decline_offer(p.user, reservation_id, tenant=p.tenant)
    _dispatch(p)
    return {"declined": reservation_id}


@router.post("/routing/tasks", response={200: dict[str, Any], 201: dict[str, Any], **ERRORS},
             summary="Create a task (integrations, simulator); idempotent by external_id")
def create_task(request: HttpRequest, body: TaskIn) -> Status[dict[str, Any]]:
    p = principal(request)
    existed = bool(body.external_id) and Task.objects.filter(tenant=p.tenant, external_id=body.external_id).exists()
    task = actions.create_task(p.user, p.tenant, channel=body.channel, queue=body.queue, language=body.language,
                               required_skills=dict(body.required_skills), priority=body.priority,
                               external_id=body.external_id, attributes=dict(body.attributes))
    if not existed:
        _dispatch(p)
    return Status(200 if existed else 201, _task_out(task))


@router.get("/routing/tasks/{task_id}", response={200: dict[str, Any], **ERRORS},
            summary="One task of this tenant: status, queue, who holds it (integrations, the simulator)")
def get_task(request: HttpRequest, task_id: Id) -> dict[str, Any]:
    p = principal(request)
    if membership(p.user, p.tenant) is None and not is_platform_admin(p.user):
        raise PermissionDenied("routing.work")
    task = Task.objects.select_related("queue").filter(tenant=p.tenant, pk=task_id).first()
    if task is None:
        raise NotFound("task")
    return _task_out(task)


@router.post("/routing/tasks/{task_id}/complete", response={200: dict[str, Any], **ERRORS},
             summary="End the conversation: the agent goes to wrap-up")
def complete(request: HttpRequest, task_id: Id, body: CompleteIn) -> dict[str, Any]:
    p = principal(request)
    task = actions.complete_task(p.user, task_id, body.disposition, tenant=p.tenant)
    _dispatch(p)
    return _task_out(task)


@router.post("/routing/tasks/{task_id}/first-response", response={200: dict[str, Any], **ERRORS},
             summary="Chats: the agent sent its first public reply (the service level counts from it)")
def first_response(request: HttpRequest, task_id: Id) -> dict[str, Any]:
    p = principal(request)
    return _task_out(actions.first_response(p.user, task_id, tenant=p.tenant))


@router.post("/routing/tasks/{task_id}/transfer", response={200: dict[str, Any], **ERRORS},
             summary="Blind transfer to a queue or an agent")
def transfer(request: HttpRequest, task_id: Id, body: TransferIn) -> dict[str, Any]:
    p = principal(request)
    task = actions.transfer_task(p.user, task_id, to_queue=body.to_queue, to_agent=body.to_agent, tenant=p.tenant)
    _dispatch(p)
    return _task_out(task)


@router.post("/routing/tasks/{task_id}/escalate", response={200: dict[str, Any], **ERRORS},
             summary="Escalate to the second line with a note")
def escalate(request: HttpRequest, task_id: Id, body: EscalateIn) -> dict[str, Any]:
    p = principal(request)
    task = actions.escalate_task(p.user, task_id, body.note, tenant=p.tenant)
    _dispatch(p)
    return _task_out(task)


@router.post("/routing/tasks/{task_id}/abandon", response={200: dict[str, Any], **ERRORS},
             summary="The customer left before an agent answered")
def abandon(request: HttpRequest, task_id: Id, body: AbandonIn) -> dict[str, Any]:
    p = principal(request)
    return _task_out(actions.abandon_task(p.user, task_id, body.reason, tenant=p.tenant))


@router.post("/routing/wrapup/finish", response={200: dict[str, Any], **ERRORS},
             summary="Wrap-up done: ready for the next contact")
def finish_wrapup(request: HttpRequest, body: WrapupIn) -> dict[str, Any]:
    p = principal(request)
    target = body.user_id or p.user.pk
    profile = actions.finish_wrapup(p.user, target, tenant=p.tenant)
    _dispatch(p)
    return {"user_id": target, "presence": profile.presence}


@router.get("/routing/supervisor", response={200: dict[str, Any], **ERRORS},
            summary="Supervisor snapshot: agents by state, queues with waiting, longest wait, today's SL (B)")
def supervisor(request: HttpRequest) -> dict[str, Any]:
    p = principal(request)
    _require_supervisor(p)
    return queries.supervisor_snapshot(p.tenant)


@router.get("/routing/queues", response={200: dict[str, Any], **ERRORS}, summary="The tenant's queues")
def queues(request: HttpRequest) -> dict[str, Any]:
    p = principal(request)
    if membership(p.user, p.tenant) is None and not is_platform_admin(p.user):
        raise PermissionDenied("routing.work")
    rows = Queue.objects.filter(tenant=p.tenant).select_related("tenant").order_by("code")
    return {"items": [{"id": q.pk, "code": q.code, "name": q.name, "channels": q.channels, "tier": q.tier,
                       "priority": q.priority, "strategy": q.strategy, "target_answer_seconds": q.target_answer_seconds,
                       "offer_timeout_seconds": q.offer_timeout_seconds, "wrapup_seconds": q.wrapup_seconds,
                       "is_active": q.is_active, "capacity": q.capacity,
                       "hours": queries.queue_open_status(q)} for q in rows]}
