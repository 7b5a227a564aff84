"""The widget's HTTP endpoints (JSON; CORS for the channel's allowed origins). Thin: checks, then actions.

Errors are 4xx ``{"error": code, "message": text, "fields": {field: [text]}}`` in the visitor's language
(``?lang=`` or Accept-Language among settings.CUSTOMER_LANGUAGES, else the channel's language).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from linia.core import languages
from linia.core.errors import ActionError
from linia.core.permissions import PermissionDenied
from linia.core.ratelimit import client_ip
from linia.intake.chat import actions, limits, queries
from linia.intake.chat.models import ChatChannel, ChatSession
from linia.intake.chat.serialize import message_payload

INLINE_IMAGES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff", "image/gif": b"GIF8",
                 "image/webp": b"RIFF"}

View = Callable[..., HttpResponseBase]


def request_language(request: HttpRequest, channel: ChatChannel | None) -> str:
    return languages.pick(request.GET.get("lang"), accept_language=request.headers.get("Accept-Language", ""),
                          fallbacks=(channel.default_language if channel is not None else None,))


def error(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, "fields": fields or {}}, status=status)


def _cors(response: HttpResponseBase, origin: str) -> HttpResponseBase:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, Accept-Language"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin, Accept-Language"
    return response


def public(view: View) -> View:
    """Channel by key (404), origin check (403), CORS headers, the visitor's language, errors as JSON."""
    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, key: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        channel = queries.channel_by_key(key)
        with translation.override(request_language(request, channel)):
            if channel is None:
                return error(404, "unknown_channel", _("This chat is not available."))
            origin = request.headers.get("Origin", "")
            if not queries.origin_allowed(channel, origin, request.get_host()):
                return error(403, "origin_not_allowed", _("This site may not use this chat."))
            if request.method == "OPTIONS":
                return _cors(HttpResponse(status=204), origin)
            response: HttpResponseBase
            try:
                response = view(request, channel, *args, **kwargs)
            except RequestDataTooBig:
                response = error(413, "too_large", _("The request is too large."))
            except PermissionDenied:
                response = error(403, "forbidden", _("You may not do that."))
            except ActionError as exc:
                response = error(exc.status, exc.code, exc.message, exc.fields)
            return _cors(response, origin)
    return wrapper


def _json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes ("[[[[...")
        raise ActionError("invalid_json", _("The request is not valid JSON.")) from None


def _limited() -> JsonResponse:
    return error(429, "rate_limited", _("Too many requests. Please wait a moment and try again."))


def _method(request: HttpRequest, allowed: str) -> JsonResponse | None:
    if request.method != allowed:
        return error(405, "method_not_allowed", _("This method is not allowed here."))
    return None


@public
def config(request: HttpRequest, channel: ChatChannel) -> HttpResponse:
    if (wrong := _method(request, "GET")) is not None:
        return wrong
    if not limits.allow("config_ip", client_ip(request.META)):
        return _limited()
    return JsonResponse(queries.config(channel, translation.get_language() or "en"))


@public
def start(request: HttpRequest, channel: ChatChannel) -> HttpResponse:
    if (wrong := _method(request, "POST")) is not None:
        return wrong
    ip = client_ip(request.META)
    if not limits.allow_all(("start_ip", ip), ("start_ip_hour", ip)):
        return _limited()
    data = _json(request)
    if isinstance(data, dict) and data.get("language") not in settings.CUSTOMER_LANGUAGES:
        data = {**data, "language": translation.get_language()}
    language = data.get("language") if isinstance(data, dict) else None
    with translation.override(language if isinstance(language, str) else translation.get_language()):
        started = actions.start_session(channel, data)  # form errors in the language the visitor chose
    session = started.session
    return JsonResponse({"token": started.token, "session_id": session.pk, "status": session.status,
                         "ticket_reference": session.ticket.reference if session.ticket else None,
                         "offline": started.offline, "expected_reply": started.expected_reply}, status=201)


@public
def upload(request: HttpRequest, channel: ChatChannel, token: str) -> HttpResponse:
    if (wrong := _method(request, "POST")) is not None:
        return wrong
    session = _session_or_404(channel, token)
    if isinstance(session, HttpResponse):
        return session
    if not limits.allow_all(("file_token", session.token_hash), ("message_ip", client_ip(request.META))):
        return _limited()
    upload_file = request.FILES.get("file")
    if upload_file is None:
        raise ActionError("file_required", _("Choose a file to send."), {"file": [_("required")]})
    if upload_file.size is not None and upload_file.size > actions.max_file_bytes():
        raise ActionError("file_too_large", _("The file is too large (at most %(mb)s MB).") % {
            "mb": max(1, actions.max_file_bytes() // (1024 * 1024))}, {"file": [_("too large")]})
    msg, _created = actions.visitor_file(session, filename=upload_file.name or "file", data=upload_file.read(),
                                         content_type=upload_file.content_type or "", client_id=request.POST.get(
                                             "client_id") or None)
    return JsonResponse({"message": message_payload(msg, key=channel.public_key, token=token)}, status=201)


@public
def download(request: HttpRequest, channel: ChatChannel, token: str, seq: int) -> HttpResponseBase:
    """A message's file. Only png/jpeg/gif/webp whose bytes are what they claim are shown inline; everything
    else (HTML, SVG, scripts...) is a download as application/octet-stream, never rendered by the browser."""
    if (wrong := _method(request, "GET")) is not None:
        return wrong
    session = _session_or_404(channel, token)
    if isinstance(session, HttpResponse):
        return session
    msg = queries.message_by_seq(session, seq)
    if msg is None or msg.attachment is None:
        return error(404, "not_found", _("There is no such file."))
    att = msg.attachment
    handle = att.file.open("rb")
    head = handle.read(16)
    handle.seek(0)
    magic = INLINE_IMAGES.get(att.content_type)
    inline = magic is not None and head.startswith(magic) and (att.content_type != "image/webp" or head[8:12] == b"WEBP")
    response = FileResponse(handle, as_attachment=not inline, filename=att.filename,
                            content_type=att.content_type if inline else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@public
def transcript(request: HttpRequest, channel: ChatChannel, token: str) -> HttpResponse:
    session = _posted_session(request, channel, token, "transcript_token")
    if isinstance(session, HttpResponse):
        return session
    data = _json(request)
    actions.email_transcript(session, data.get("email") if isinstance(data, dict) else None)
    return JsonResponse({"queued": True}, status=202)


@public
def rating(request: HttpRequest, channel: ChatChannel, token: str) -> HttpResponse:
    session = _posted_session(request, channel, token, "rating_token")
    if isinstance(session, HttpResponse):
        return session
    data = _json(request)
    if not isinstance(data, dict):
        raise ActionError("invalid_json", _("Send the rating as a JSON object."))
    row = actions.rate(session, data.get("score"), data.get("comment"))
    return JsonResponse({"score": row.score, "comment": row.comment})


def _posted_session(request: HttpRequest, channel: ChatChannel, token: str, limit: str) -> ChatSession | HttpResponse:
    """The session a visitor POSTs to, or the response refusing it: wrong method, unknown token, rate limit."""
    if (wrong := _method(request, "POST")) is not None:
        return wrong
    session = _session_or_404(channel, token)
    if isinstance(session, HttpResponse) or limits.allow(limit, session.token_hash):
        return session
    return _limited()


def _session_or_404(channel: ChatChannel, token: str) -> ChatSession | HttpResponse:
    session = queries.session_for_token(channel, token)
    if session is None:
        return error(404, "unknown_session", _("This chat has expired or does not exist. Please start a new chat."))
    return session
