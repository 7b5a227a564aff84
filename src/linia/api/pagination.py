"""Limit/offset pagination for list endpoints: {"items": [...], "count": N}."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Field, Schema

MAX_LIMIT = 200
MAX_ID = 2**63 - 1  # the largest id a 64-bit column holds; bigger ids are rejected, not sent to the DB

M = TypeVar("M", bound=Model)


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"items per page, 1–{MAX_LIMIT}")
    offset: int = Field(0, ge=0, le=10**9, description="items to skip")


def paginate(items: QuerySet[M] | Sequence[Any], page: PageParams,
             convert: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    count = items.count() if isinstance(items, QuerySet) else len(items)
    chunk = list(items[page.offset:page.offset + page.limit])
    return {"items": [convert(x) for x in chunk] if convert else chunk, "count": count}
