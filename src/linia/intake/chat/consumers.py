"""The visitor's websocket: /ws/chat/<key>/?token=<token> (protocol: docs/chat.md).

The consumer keeps no chat state of its own beyond the highest seq it delivered on this socket: every
message is in the database before it is acknowledged, and pushes are delivered in seq order without
gaps (a push that arrives ahead of a missing seq first sends the missing ones from the database, a push
already delivered — e.g. in the history — is dropped). A reconnecting widget sends ``resume`` with the last
seq it has and gets the rest, from this server or any other after a restart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext as _

from linia.core import languages
from linia.core.errors import ActionError
from linia.core.permissions import PermissionDenied
from linia.core.wsdb import WsDbConsumer, ws_db
from linia.intake.chat import actions, limits, queries
from linia.intake.chat.models import ChatChannel, ChatSession
from linia.intake.chat.realtime import chat_group
from linia.intake.chat.serialize import message_payload, state_payload, with_file_url

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_CHANNEL = 4404
CLOSE_RATE_LIMITED = 4429


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _client_ip(scope: dict[str, Any]) -> str:
    client = scope.get("client") or ("", 0)
    meta = {"REMOTE_ADDR": client[0] if client else "", "HTTP_X_FORWARDED_FOR": _header(scope, b"x-forwarded-for")}
    from linia.core.ratelimit import client_ip

    return client_ip(meta)


class VisitorConsumer(WsDbConsumer, AsyncWebsocketConsumer):  # type: ignore[misc]
    channel: ChatChannel
    session: ChatSession

    def db(self, func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
        """func on this socket's database thread (linia.core.wsdb): in order for this socket, in parallel
        with other sockets on PostgreSQL."""
        return ws_db(getattr(self, "channel_name", "") or str(id(self)), func)

    async def connect(self) -> None:
        self.group = ""
        self.delivered = 0
        await self.accept()  # accept first, so the widget sees our close code rather than a failed handshake
        key = str(self.scope.get("url_route", {}).get("kwargs", {}).get("key", ""))
        query = parse_qs((self.scope.get("query_string") or b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        self.ip = _client_ip(self.scope)
        if not await self.db(limits.allow)("connect_ip", self.ip):
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        found = await self.db(self._find)(key, token)
        if isinstance(found, int):
            await self.close(code=found)
            return
        self.channel, self.session = found
        self.key, self.token = key, token
        self.language = languages.pick((query.get("lang") or [""])[0], fallbacks=(self.session.language,))
        self.group = chat_group(self.session.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        state, last_seq = await self.db(self._state)()
        self.delivered = last_seq  # older messages come with the history the widget asks for (resume)
        await self.send_json(state)

    def _find(self, key: str, token: str) -> tuple[ChatChannel, ChatSession] | int:
        channel = queries.channel_by_key(key)
        if channel is None:
            return CLOSE_UNKNOWN_CHANNEL
        if not queries.origin_allowed(channel, _header(self.scope, b"origin"), _header(self.scope, b"host")):
            return CLOSE_FORBIDDEN
        session = queries.session_for_token(channel, token)
        if session is None:
            return CLOSE_FORBIDDEN
        return channel, session

    def _state(self) -> tuple[dict[str, Any], int]:
        from linia.routing.models import Task

        self.session = actions.sync_session(self.session)
        task = Task.objects.filter(pk=self.session.task_id).first() if self.session.task_id else None
        return state_payload(self.session, task), self.session.last_seq

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))

    # --- pushes ------------------------------------------------------------------------------------
    async def linia_event(self, event: dict[str, Any]) -> None:
        payload = event.get("payload") or {}
        if payload.get("type") != "message":
            await self.send_json(payload)
            return
        seq = int(payload.get("seq") or 0)
        if seq <= self.delivered:
            return  # already sent (history, or a gap fill)
        if seq > self.delivered + 1:  # an earlier message's push is still on its way: send from the database
            for missing in await self.db(self._between)(self.delivered, seq):
                await self.send_json(missing)
        await self.send_json(with_file_url(payload, self.key, self.token))
        self.delivered = seq

    def _between(self, after: int, before: int) -> list[dict[str, Any]]:
        return [m for m in queries.history(self.session, after, key=self.key, token=self.token) if m["seq"] < before]

    # --- the widget's messages --------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if not self.group:
            return
        with translation.override(self.language):
            if text_data is None:
                await self.error("bad_request", _("Send JSON text messages."))
                return
            if len(text_data) > actions.max_message_chars() * 6 + 1000:  # before parsing: refuse a huge frame
                await self.error("too_long", _("The message is too long (at most %(n)s characters).") % {
                    "n": actions.max_message_chars()})
                return
            try:
                content = json.loads(text_data)
            except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested deeper than the parser goes
                await self.error("bad_request", _("The message is not JSON."))
                return
            kind = content.get("type") if isinstance(content, dict) else None
            handler = self.handlers().get(kind) if isinstance(kind, str) else None
            if handler is None:
                await self.error("unknown_type", _("Unknown message type."))
                return
            client_id = content.get("client_id") if isinstance(content.get("client_id"), str) else None
            try:
                await handler(content)
            except PermissionDenied:
                await self.error("forbidden", _("You may not do that."), client_id)
            except ActionError as exc:
                await self.error(exc.code, exc.message, client_id)
            except Exception:  # one bad message must never take the visitor's chat down
                log.exception("chat websocket message failed")
                await self.error("server_error", _("Something went wrong. Please send it again."), client_id)

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        return {"resume": self.on_resume, "message": self.on_message, "typing": self.on_typing, "end": self.on_end}

    async def error(self, code: str, message: str, client_id: str | None = None) -> None:
        payload: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if client_id is not None:
            payload["client_id"] = client_id
        await self.send_json(payload)

    async def on_resume(self, content: dict[str, Any]) -> None:
        after = content.get("after_seq", 0)
        if after is None:
            after = 0
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ActionError("bad_request", _("after_seq must be a whole number."))
        messages, state = await self.db(self._resume)(after)
        await self.send_json({"type": "history", "messages": messages, "state": state})
        if messages:
            self.delivered = max(self.delivered, messages[-1]["seq"])

    def _resume(self, after: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        state, _last = self._state()
        return queries.history(self.session, after, key=self.key, token=self.token), state

    async def on_message(self, content: dict[str, Any]) -> None:
        if not await limits.allow_all_async(("message_token", self.session.token_hash), ("message_ip", self.ip)):
            raise ActionError("rate_limited", _("You are sending messages too fast. Please wait a moment."))
        msg = (await self.db(actions.visitor_send)(self.session, content.get("text"), content.get("client_id")))[0]
        ack = {"type": "ack", "client_id": msg.client_id, "seq": msg.seq, "created_at": msg.created_at.isoformat()}
        await self.send_json(ack)

    async def on_typing(self, content: dict[str, Any]) -> None:
        if not await limits.allow_all_async(("typing_token", self.session.token_hash)):
            return  # typing is a hint: too many are dropped silently
        await self.db(actions.visitor_typing)(self.session, content.get("on") is True)

    async def on_end(self, content: dict[str, Any]) -> None:
        self.session = await self.db(actions.visitor_end)(self.session)


__all__ = ["VisitorConsumer", "message_payload"]
