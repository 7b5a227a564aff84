"""One error format for every API response: {"error": {"code", "message", "fields"}} with a 4xx status.

Every exception an endpoint (or ninja itself) can raise is mapped here, so no bad input becomes a 500
and no traceback ever reaches a client.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import (
    BadRequest,
    ObjectDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from linia.core.errors import ActionError
from linia.core.permissions import PermissionDenied

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("linia.api")

# Parameter-source prefixes ninja puts in front of validation error locations.
_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}
BODY_PARAM = "payload"  # every endpoint names its JSON body parameter `payload`


class MalformedJSON(ValueError):
    """The request body is not valid JSON (raised by the API's parser)."""


def error_body(code: str, message: str, fields: Mapping[str, Iterable[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message,
                      "fields": {k: [str(m) for m in v] for k, v in (fields or {}).items()}}}


def error_response(status: int, code: str, message: str,
                   fields: Mapping[str, Iterable[str]] | None = None) -> HttpResponse:
    return JsonResponse(error_body(code, message, fields), status=status,
                        json_dumps_params={"ensure_ascii": False})


def _field_name(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source in {"body", "form", "file"} and parts and parts[0] == BODY_PARAM:
            parts.pop(0)
        if not parts:
            return source
    return ".".join(parts) or "request"


def validation_fields(errors: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        fields.setdefault(_field_name(err.get("loc", ())), []).append(str(err.get("msg", "invalid")))
    return fields


def _on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields = validation_fields(exc.errors)
    return error_response(422, "invalid_request", "Some fields are missing or have the wrong type.", fields)


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, MalformedJSON):
        return error_response(400, "malformed_json", f"The request body is not valid JSON: {exc.__cause__}")
    if isinstance(exc, AuthenticationError):
        return unauthorized()
    if isinstance(exc, AuthorizationError):
        return error_response(403, "forbidden", "You may not do this.")
    if exc.status_code == 429:
        return error_response(429, "throttled", "Too many requests; retry later.")
    status = exc.status_code if 400 <= exc.status_code < 600 else 400
    return error_response(status, "http_error", str(exc))


def unauthorized(message: str = "Send a valid API token: `Authorization: Bearer <token>`.") -> HttpResponse:
    response = error_response(401, "unauthorized", message)
    response["WWW-Authenticate"] = 'Bearer realm="linia"'
    return response


# Refusals because of the object's state, not the request's fields: they stay 400 even with `fields`.
STATE_CODES = frozenset({"invalid_transition", "invalid_merge", "ticket_closed"})


def action_status(exc: ActionError) -> int:
    """ActionError's own status; a 400 that names bad fields is reported as 422, like schema errors."""
    status = exc.status if 400 <= exc.status < 500 else 400
    if status == 400 and exc.fields and exc.code not in STATE_CODES:
        return 422
    return status


def _on_action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return error_response(action_status(exc), exc.code, exc.message, exc.fields)


def _on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, "forbidden", f"Your role does not allow this ({exc.perm}).")


def _on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(404, "not_found", "Not found.")


def _on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(413, "too_large", "The request body is too large.")


def _on_bad_request(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(400, "bad_request", f"The request could not be read: {exc}"[:300])


def _on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    fields = ({k: [str(m) for m in v] for k, v in exc.message_dict.items()}
              if hasattr(exc, "error_dict") else {"request": [str(m) for m in exc.messages]})
    return error_response(422, "invalid_request", "Some fields are invalid.", fields)


def _on_integrity(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.info("integrity error on %s: %s", request.path, exc)
    return error_response(409, "conflict", "This conflicts with existing data (a duplicate code or key?).")


def _on_data_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(400, "invalid_value", "A value is out of range or too long.")


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.error("unexpected API error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(500, "server_error", "Something went wrong on our side; it has been logged.")


def install(api: NinjaAPI) -> None:
    handlers: list[tuple[type[Exception], Any]] = [
        (NinjaValidationError, _on_validation),
        (HttpError, _on_http_error),
        (ActionError, _on_action_error),
        (PermissionDenied, _on_permission_denied),
        (Http404, _on_not_found),
        (ObjectDoesNotExist, _on_not_found),
        (RequestDataTooBig, _on_too_big),
        (TooManyFieldsSent, _on_too_big),
        (SuspiciousOperation, _on_bad_request),
        (BadRequest, _on_bad_request),
        (MultiPartParserError, _on_bad_request),
        (UnreadablePostError, _on_bad_request),
        (DjangoValidationError, _on_django_validation),
        (IntegrityError, _on_integrity),
        (DataError, _on_data_error),
        (OverflowError, _on_data_error),
        (Exception, _on_unexpected),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)


def parse_json(raw: bytes) -> Any:
    """Strict JSON: rejects NaN/Infinity and numbers too big for a float (they break JSON columns)."""
    def reject(name: str) -> Any:
        raise MalformedJSON(f"{name} is not allowed")

    def finite(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise MalformedJSON(f"the number {text[:40]} is too large")
        return value

    try:
        return json.loads(raw, parse_constant=reject, parse_float=finite)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise MalformedJSON(str(exc)) from exc
