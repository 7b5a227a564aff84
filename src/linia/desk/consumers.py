"""Websockets of the agent desktop and the supervisor view.

On connect the client gets a full snapshot (so a reconnect never shows stale state), then the routing
events published to its groups. Client operations call the routing actions and are answered with
{"kind": "ack"} or {"kind": "error", "code", "message"}; no bad input closes the socket with a crash.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linia.core.errors import ActionError
from linia.core.models import Tenant, User
from linia.core.permissions import PermissionDenied, forget_memberships
from linia.core.wsdb import WsDbConsumer, ws_db
from linia.desk.messages import translated_error
from linia.desk.realtime_access import agent_tenants, is_agent, supervised_tenants
from linia.routing import actions, queries
from linia.routing.models import Queue, Task
from linia.routing.realtime import ACCESS_CHANGED, agent_group, supervisor_group, user_group

log = logging.getLogger(__name__)
CLOSE_FORBIDDEN = 4403
CLOSE_ACCESS_CHANGED = 4409  # the desk reconnects at once and gets what the user may see now
MAX_TEXT = 200
OPEN_TASKS_SHOWN = 200

Op = Callable[[User, dict[str, Any]], Any]


def _int(content: dict[str, Any], key: str) -> int:
    value = content.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ActionError("bad_request", _("%(field)s must be a whole number.") % {"field": key}, {key: ["int"]})
    return int(value)


def _text(content: dict[str, Any], key: str) -> str:
    value = content.get(key, "")
    if not isinstance(value, str) or "\x00" in value:
        raise ActionError("bad_request", _("%(field)s must be text.") % {"field": key}, {key: ["text"]})
    return value.strip()[:MAX_TEXT]


def _server_error() -> dict[str, Any]:
    return {"code": "server_error", "message": _("Something went wrong; the state was not changed.")}


class _DeskConsumer(WsDbConsumer, AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Shared plumbing: access check, groups, snapshot, op dispatch with errors as messages."""

    ops: dict[str, Op] = {}
    op_result: Any = None  # what the last op returned (chat ops reply with it)

    async def connect(self) -> None:
        self.joined: list[str] = []
        self.chat_replies: asyncio.Future[None] | None = None  # the last chat op's reply, sent or to be sent
        user = self.scope.get("user")
        await self.accept()  # accept first so the browser sees our close code, not a bare handshake failure
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user: User = user
        groups = await ws_db(self.channel_name, self.allowed_groups)()
        if not groups:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.access = sorted(groups)
        for group in [*groups, user_group(user.pk)]:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.send_snapshots()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def linia_event(self, event: dict[str, Any]) -> None:
        payload = event.get("payload") or {}
        if payload.get("kind") == ACCESS_CHANGED:
            await self.recheck_access()
            return
        await self.send_json(payload)

    async def recheck_access(self) -> None:
        """The user's memberships or account changed: a socket whose access changed closes, and the desk
        reconnects at once to what the user may see now (or is refused with 4403)."""
        groups = await ws_db(self.channel_name, self.current_groups)()
        if groups != self.access:
            await self.close(code=CLOSE_ACCESS_CHANGED)

    def current_groups(self) -> list[str]:
        self.forget_access()
        if not User.objects.filter(pk=self.user.pk, is_active=True).exists():
            return []
        return sorted(self.allowed_groups())

    def forget_access(self) -> None:
        """Memberships are remembered on the user object per request; a socket lives for hours, so every
        database hop reads them afresh (a removed agent or supervisor loses access at their next op)."""
        forget_memberships(self.user)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self.send_error("bad_request", _("The message is not JSON."))
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not self.joined:
            return
        op = content.get("op") if isinstance(content, dict) else None
        if op == "snapshot":
            await self.send_snapshots()
            return
        handler = self.ops.get(op) if isinstance(op, str) else None
        if handler is None:
            await self.send_error("unknown_op", _("Unknown operation."))
            return
        if handler in CHAT_OPS:
            # Started at once, not after the previous op's reply: this socket's database work runs in order on its
            # one ws_db thread, so a busy agent's messages are stored back to back while pushes to this socket (the
            # visitors' messages) go out meanwhile. Replies leave in the order of the ops.
            work = asyncio.ensure_future(ws_db(self.channel_name, self.run_quiet_op)(handler, content))
            self.chat_replies = asyncio.ensure_future(self.reply_in_order(self.chat_replies, work))
            return
        if self.chat_replies is not None:  # an op after chat ops sees their effects and is answered after them
            await asyncio.wait([self.chat_replies])
        error, snapshots = await ws_db(self.channel_name, self.run_op_and_snapshot)(handler, content)
        if error is not None:
            await self.send_json({"kind": "error", "op": op, **error})
            return
        await self.send_json({"kind": "ack", "op": op, "ok": True})
        for snapshot in snapshots:  # the authoritative state after the change, whatever events said
            await self.send_json(snapshot)

    async def reply_in_order(self, previous: asyncio.Future[None] | None,
                             work: asyncio.Future[dict[str, Any]]) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            reply = await work
        except Exception:  # run_quiet_op answers every error of the op itself: this is the hop failing
            log.exception("desk chat op failed")
            reply = {"kind": "error", **_server_error()}
        try:
            await self.send_json(reply)
        except Exception:  # the socket closed meanwhile: the op is done, its reply has nowhere to go
            log.debug("desk chat reply not sent", exc_info=True)

    def run_op_and_snapshot(self, handler: Op, content: dict[str, Any]) -> tuple[dict[str, Any] | None,
                                                                                 list[dict[str, Any]]]:
        """The op, then (when it worked) the snapshots, read in the same worker thread hop."""
        error = self.run_op(handler, content)
        return error, ([] if error is not None else self.snapshots())

    def run_quiet_op(self, handler: Op, content: dict[str, Any]) -> dict[str, Any]:
        """An op without dispatch or snapshot: its error, or the reply it made (an ack by default)."""
        error = self.run_op(handler, content)
        if error is not None:  # which message failed, so the desk can mark it
            echo = {k: content[k] for k in ("task_id", "client_id") if isinstance(content.get(k), int | str)}
            return {"kind": "error", "op": content.get("op"), **echo, **error}
        result = self.op_result if isinstance(self.op_result, dict) else {"kind": "ack"}
        return {"op": content.get("op"), "ok": True, **result}

    def snapshots(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def run_op(self, handler: Op, content: dict[str, Any]) -> dict[str, Any] | None:
        self.forget_access()
        with translation.override(self.language()):
            try:
                self.op_result = handler(self.user, content)
                if handler not in NO_DISPATCH:
                    actions.dispatch_after_change(self.dispatch_tenant_ids())
            except PermissionDenied:
                return {"code": "forbidden", "message": _("You may not do that.")}
            except ActionError as exc:
                message, fields = translated_error(exc)
                return {"code": exc.code, "message": message, "fields": fields}
            except Exception:  # never let one bad message kill the agent's connection
                log.exception("desk websocket op failed")
                return _server_error()
        return None

    def dispatch_tenant_ids(self) -> list[int]:
        """Tenants whose routing may change after this consumer's ops."""
        return []

    def language(self) -> str:
        cookie = (self.scope.get("cookies") or {}).get("django_language", "")
        return cookie or getattr(self.user, "language", "") or "en"

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"kind": "error", "code": code, "message": message})

    def allowed_groups(self) -> list[str]:
        raise NotImplementedError

    async def send_snapshots(self) -> None:
        for snapshot in await ws_db(self.channel_name, self.fresh_snapshots)():
            await self.send_json(snapshot)

    def fresh_snapshots(self) -> list[dict[str, Any]]:
        self.forget_access()
        return self.snapshots()


# --- agent ----------------------------------------------------------------------------------------------

def _presence(user: User, c: dict[str, Any]) -> Any:
    return actions.set_presence(user, user, _text(c, "state"), _text(c, "reason"))


def _sync_chat(task: Task) -> Task:
    """A chat changed hands or was completed: the visitor sees the new agent, waiting again, or the end at once."""
    if task.channel == "chat":
        from linia.intake.chat import actions as chat

        try:
            chat.sync_task(task.pk)
        except Exception:  # the routing change is committed; the chat catches up at its next message
            log.exception("chat of task %s not synced", task.pk)
    return task


def _accept(user: User, c: dict[str, Any]) -> Any:
    return _sync_chat(actions.accept_offer(user, _int(c, "reservation_id")))


def _decline(user: User, c: dict[str, Any]) -> Any:
    return actions.decline_offer(user, _int(c, "reservation_id"))


def _complete(user: User, c: dict[str, Any]) -> Any:
    return _sync_chat(actions.complete_task(user, _int(c, "task_id"), disposition=_text(c, "disposition")))


def _finish_wrapup(user: User, c: dict[str, Any]) -> Any:
    return actions.finish_wrapup(user, user)


def _task_queue(task_id: int, raw: Any) -> Queue | None:
    """The target queue must belong to the task's tenant (ids of other tenants do not exist here)."""
    if raw in (None, ""):
        return None
    task = Task.objects.filter(pk=task_id).only("tenant_id").first()
    if task is None:
        raise ActionError("not_found", _("No such task."), {"task_id": ["not_found"]})
    queue = Queue.objects.filter(pk=_int({"queue_id": raw}, "queue_id"), tenant_id=task.tenant_id).first()
    if queue is None:
        raise ActionError("not_found", _("No such queue."), {"queue_id": ["not_found"]})
    return queue


def _transfer(user: User, c: dict[str, Any]) -> Any:
    task_id = _int(c, "task_id")
    to_agent = User.objects.filter(pk=_int(c, "agent_id")).first() if c.get("agent_id") not in (None, "") else None
    if c.get("agent_id") not in (None, "") and to_agent is None:
        raise ActionError("not_found", _("No such agent."), {"agent_id": ["not_found"]})
    return _sync_chat(actions.transfer_task(user, task_id, to_queue=_task_queue(task_id, c.get("queue_id")),
                                            to_agent=to_agent))


# --- chat (linia.intake.chat does the work; the desk only checks the shape of the input) -------------------

CHAT_TEXT_MAX = 10_000  # the chat's own limit (shorter) is checked by its action, with its own message


def _client_id(content: dict[str, Any]) -> str | None:
    value = content.get("client_id")
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 64 or not value.isprintable():
        raise ActionError("bad_request", _("%(field)s must be text.") % {"field": "client_id"}, {"client_id": ["text"]})
    return value


def _chat_text(content: dict[str, Any]) -> str:
    value = content.get("text", "")
    if not isinstance(value, str) or "\x00" in value or len(value) > CHAT_TEXT_MAX:
        raise ActionError("bad_request", _("%(field)s must be text.") % {"field": "text"}, {"text": ["text"]})
    return value


def _chat_send(user: User, c: dict[str, Any]) -> dict[str, Any]:
    from linia.intake.chat import actions as chat

    task_id, client_id = _int(c, "task_id"), _client_id(c)
    message = chat.agent_send(user, task_id, _chat_text(c), client_id)
    return {"kind": "ack", "task_id": task_id, "client_id": client_id, "seq": message.seq,
            "created_at": message.created_at.isoformat()}


def _chat_typing(user: User, c: dict[str, Any]) -> dict[str, Any]:
    from linia.intake.chat import actions as chat

    task_id = _int(c, "task_id")
    chat.agent_typing(user, task_id, c.get("on") is True)
    return {"kind": "ack", "task_id": task_id}


def _chat_history(user: User, c: dict[str, Any]) -> dict[str, Any]:
    from linia.intake.chat import queries as chat

    task_id = _int(c, "task_id")
    after = _int(c, "after_seq") if c.get("after_seq") not in (None, "") else 0
    messages = chat.transcript(user, task_id, after_seq=after)
    about = chat.chat_for_task(user, task_id)
    return {"kind": "chat.history", "task_id": task_id, "messages": messages,
            "chat": {k: about.get(k) for k in ("status", "name", "email", "phone", "topic", "language", "page_url")}}


def _chat_end(user: User, c: dict[str, Any]) -> dict[str, Any]:
    from linia.intake.chat import actions as chat

    task_id = _int(c, "task_id")
    chat.agent_end(user, task_id)
    return {"kind": "ack", "task_id": task_id}


# Chat ops change no routing state: no dispatch and no snapshot after them (a busy agent sends many),
# and their reply is what the op returned.
CHAT_OPS: frozenset[Op] = frozenset({_chat_send, _chat_typing, _chat_history, _chat_end})

# Accepting an offer frees no capacity and adds no task (the offer already counted): nothing to dispatch.
NO_DISPATCH: frozenset[Op] = frozenset({_accept}) | CHAT_OPS


class AgentConsumer(_DeskConsumer):
    """ws/desk/agent/: the signed-in agent's offers, tasks and presence."""

    ops = {"presence": _presence, "accept": _accept, "decline": _decline, "complete": _complete,
           "finish_wrapup": _finish_wrapup, "transfer": _transfer, "chat.send": _chat_send,
           "chat.typing": _chat_typing, "chat.history": _chat_history, "chat.end": _chat_end}

    def allowed_groups(self) -> list[str]:
        return [agent_group(self.user.pk)] if agent_tenants(self.user) else []

    def dispatch_tenant_ids(self) -> list[int]:
        return [t.pk for t in agent_tenants(self.user)]

    def snapshots(self) -> list[dict[str, Any]]:
        return [{**queries.agent_snapshot(self.user), "kind": "snapshot", "now": timezone.now().isoformat()}]



# --- supervisor -----------------------------------------------------------------------------------------

def _supervised(user: User, tenant_id: int) -> Tenant:
    tenant = next((t for t in supervised_tenants(user) if t.pk == tenant_id), None)
    if tenant is None:
        raise PermissionDenied("supervisor")
    return tenant


def _set_state(user: User, c: dict[str, Any]) -> Any:
    agent = User.objects.filter(pk=_int(c, "user_id")).first()
    tenant = next((t for t in supervised_tenants(user) if agent is not None and is_agent(agent, t.pk)), None)
    if agent is None or tenant is None:
        raise ActionError("not_found", _("No such agent."), {"user_id": ["not_found"]})
    return actions.set_presence(user, agent, _text(c, "state"), _text(c, "reason"), tenant=tenant)


def _move_task(user: User, c: dict[str, Any]) -> Any:
    task_id = _int(c, "task_id")
    _int(c, "queue_id")  # a move needs a target
    task = Task.objects.filter(pk=task_id).only("tenant_id").first()
    if task is None:
        raise ActionError("not_found", _("No such task."), {"task_id": ["not_found"]})
    tenant = _supervised(user, task.tenant_id)
    return actions.transfer_task(user, task_id, to_queue=_task_queue(task_id, c.get("queue_id")), tenant=tenant)


def _supervisor_snapshot(tenant: Tenant) -> dict[str, Any]:
    # Never the cached copy: a snapshot older than the events already shown would undo them on screen.
    snapshot = queries.supervisor_snapshot(tenant, use_cache=False)
    return {**snapshot, "kind": "snapshot", "tenant_id": tenant.pk, "now": timezone.now().isoformat(),
            "tasks": queries.open_tasks(tenant, OPEN_TASKS_SHOWN)}


class SupervisorConsumer(_DeskConsumer):
    """ws/desk/supervisor/[?tenant=ID]: agents and queues of the tenants the user supervises."""

    ops = {"set_state": _set_state, "move_task": _move_task}

    def allowed_groups(self) -> list[str]:
        tenants = supervised_tenants(self.user)
        wanted = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("tenant", [""])[0]
        if wanted:
            tenants = [t for t in tenants if str(t.pk) == wanted]
        self.tenants = tenants
        return [supervisor_group(t.pk) for t in tenants]

    def dispatch_tenant_ids(self) -> list[int]:
        return [t.pk for t in self.tenants]

    def snapshots(self) -> list[dict[str, Any]]:
        still = {t.pk for t in supervised_tenants(self.user)}  # memberships as they are now
        return [_supervisor_snapshot(tenant) for tenant in self.tenants if tenant.pk in still]

