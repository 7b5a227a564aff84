"""Errors raised by actions; the API turns them into {"error": {code, message, fields}} with a 4xx status."""

from __future__ import annotations


class ActionError(Exception):
    status = 400

    def __init__(self, code: str, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}


class NotFound(ActionError):
    status = 404

    def __init__(self, what: str = "object") -> None:
        super().__init__("not_found", f"{what} not found")


class Conflict(ActionError):
    status = 409
