"""Request and response bodies of the API (pydantic v2 via ninja)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BaseModel, ModelWrapValidatorHandler, field_validator, model_validator

from linia.api.pagination import MAX_ID
from linia.tickets.models import Channel, Priority, Status

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Language = Literal["", "en", "ru", "pl", "fr"]
Text = Annotated[str, Field(max_length=100_000)]


def _no_nul(value: Any) -> Any:
    """Text the database cannot store (NUL, lone UTF-16 surrogates from JSON escapes) is bad input, not a 500."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL characters are not allowed")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("not valid Unicode (a lone surrogate escape?)") from None
    if isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k)
            _no_nul(v)
    if isinstance(value, list | tuple):
        for v in value:
            _no_nul(v)
    return value


class In(Schema):
    """Base of request bodies: a JSON object (never read from attributes), no text the database cannot store."""

    @model_validator(mode="wrap")
    @classmethod
    def _objects_only(cls, value: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # ninja's Schema reads attributes of any object; a request body part must be a JSON object.
        if not isinstance(value, dict | BaseModel):
            raise ValueError("must be a JSON object")
        return handler(value)

    @field_validator("*", mode="before")
    @classmethod
    def _reject_nul(cls, value: Any) -> Any:
        return _no_nul(value)


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class ErrorOut(Schema):
    error: ErrorDetail


# The 4xx answers every router documents in OpenAPI (one error format: see linia.api.errors).
ERRORS: dict[int, Any] = dict.fromkeys((400, 401, 403, 404, 409, 422), ErrorOut)


# --- directory --------------------------------------------------------------------------------

class OpenStatusOut(Schema):
    is_open: bool
    label: str = Field(description='"open now, closes at 22:00" / "closed, opens at 08:00 (Tue)" in store time')
    changes_at: datetime | None = Field(description="next opening or closing, in the store's time zone")
    changes_at_utc: datetime | None
    local_time: datetime = Field(description="the store's current local time")
    today: list[str] = Field(description="today's opening spans in store time, e.g. ['08:00-22:00']")


class StoreOut(Schema):
    id: int
    code: str
    name: str
    address: str
    city: str
    region: str
    latitude: float | None
    longitude: float | None
    phone: str
    time_zone: str
    opening_hours: dict[str, Any]
    is_active: bool
    updated_at: datetime


class StoreDetailOut(StoreOut):
    status: OpenStatusOut | None


class StoreIn(In):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=120)
    time_zone: str | None = Field(None, max_length=64, examples=["Europe/Warsaw"],
                                  description="IANA name; default: the tenant's")
    address: str = Field("", max_length=300)
    region: str = Field("", max_length=120)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    phone: str = Field("", max_length=32)
    opening_hours: dict[str, Any] | str = Field(
        default_factory=dict, examples=[{"mon": ["08:00-22:00"], "sun": ["10:00-18:00"]}],
        description='weekly JSON ({"always": true} for 24/7) or text such as "Mon-Fri 08:00-22:00; Sat 09:00-20:00"')
    is_active: bool = True


class StorePatch(In):
    code: str | None = Field(None, min_length=1, max_length=40)
    name: str | None = Field(None, min_length=1, max_length=200)
    city: str | None = Field(None, min_length=1, max_length=120)
    time_zone: str | None = Field(None, min_length=1, max_length=64)
    address: str | None = Field(None, max_length=300)
    region: str | None = Field(None, max_length=120)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    phone: str | None = Field(None, max_length=32)
    opening_hours: dict[str, Any] | str | None = None
    is_active: bool | None = None


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    email: str
    region: str
    is_active: bool


class CategoryOut(Schema):
    id: int
    parent_id: int | None
    code: str
    name: str
    names: dict[str, str]
    default_department_id: int | None
    is_active: bool


class CategoryDetailOut(CategoryOut):
    field_schema: dict[str, Any]


class CategoryNode(CategoryOut):
    children: list[CategoryNode]


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    attributes: dict[str, Any]
    updated_at: datetime


class ProductIn(In):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    attributes: dict[str, Any] = Field(default_factory=dict)


class ProductPatch(In):
    sku: str | None = Field(None, min_length=1, max_length=64)
    name: str | None = Field(None, min_length=1, max_length=300)
    attributes: dict[str, Any] | None = None


class StockOut(Schema):
    store_id: int
    store_code: str
    product_id: int
    sku: str
    product_name: str
    quantity: float
    updated_at: datetime


class StockBulkIn(In):
    rows: list[Any] = Field(
        max_length=100_000,
        description="each row: {store_code, sku, quantity, updated_at?}; rows are checked one by one",
        examples=[[{"store_code": "W001", "sku": "4820001", "quantity": 12, "updated_at": "2026-11-25T08:00:00Z"}]],
    )
    skip_invalid: bool = Field(False, description="apply the valid rows and report the rest (default: all or nothing)")


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class StockBulkOut(Schema):
    created: int
    updated: int
    unchanged: int = Field(description="rows that already had this quantity and time (a repeated push)")
    skipped: int
    errors: list[RowErrorOut]


class PromotionOut(Schema):
    id: int
    title: str
    starts_on: Any
    ends_on: Any
    store_ids: list[int]
    texts: dict[str, str]


class VacancyOut(Schema):
    id: int
    position: str
    store_id: int | None
    city: str
    text: str
    is_open: bool


# --- contacts ---------------------------------------------------------------------------------

class ContactOut(Schema):
    id: int
    name: str
    language: str
    note: str
    phones: list[str]
    emails: list[str]
    created_at: datetime
    updated_at: datetime


class ContactIn(In):
    name: str = Field("", max_length=200)
    phone: str | None = Field(None, max_length=64, description="shortcut for phones=[phone]")
    email: str | None = Field(None, max_length=254, description="shortcut for emails=[email]")
    phones: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=20)
    emails: list[Annotated[str, Field(max_length=254)]] = Field(default_factory=list, max_length=20)
    language: Language = ""

    def all_phones(self) -> list[str]:
        return [*([self.phone] if self.phone else []), *self.phones]

    def all_emails(self) -> list[str]:
        return [*([self.email] if self.email else []), *self.emails]


class ContactPatch(In):
    name: str | None = Field(None, max_length=200)
    language: Language | None = None
    note: str | None = Field(None, max_length=10_000)
    phones: list[Annotated[str, Field(max_length=64)]] | None = Field(None, max_length=20)
    emails: list[Annotated[str, Field(max_length=254)]] | None = Field(None, max_length=20)


# --- tickets ----------------------------------------------------------------------------------

class TicketOut(Schema):
    id: int
    reference: str
    number: int
    subject: str
    channel: str
    status: str
    priority: str
    category_id: int | None
    store_id: int | None
    department_id: int | None
    contact_id: int | None
    assignee_id: int | None
    queue: str
    language: str
    tags: list[str]
    custom_fields: dict[str, Any]
    merged_into_id: int | None
    messages_count: int
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None


class InlineContact(In):
    name: str = Field("", max_length=200)
    phone: str | None = Field(None, max_length=64)
    email: str | None = Field(None, max_length=254)


class TicketIn(In):
    subject: str = Field(min_length=1, max_length=300)
    channel: Channel
    body: Text = ""
    category_id: Id | None = None
    store_id: Id | None = None
    department_id: Id | None = None
    contact_id: Id | None = Field(None, description="an existing contact; or send `contact` instead")
    contact: InlineContact | None = Field(None, description="found by phone/email, else created")
    priority: Priority = Priority.NORMAL
    tags: list[Annotated[str, Field(max_length=60)]] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    language: Language = ""
    queue: str = Field("", max_length=60)
    assignee_id: Id | None = None
    external_id: str | None = Field(None, min_length=1, max_length=200,
                                    description="idempotency key: a retry with the same key returns the same ticket")


class TicketPatch(In):
    subject: str | None = Field(None, max_length=300)
    category_id: Id | None = None
    store_id: Id | None = None
    department_id: Id | None = None
    priority: Priority | None = None
    assignee_id: Id | None = None
    queue: str | None = Field(None, max_length=60)
    custom_fields: dict[str, Any] | None = None
    tags: list[Annotated[str, Field(max_length=60)]] | None = Field(None, max_length=50)


class StatusIn(In):
    status: Status


class MergeIn(In):
    into_id: Id = Field(description="the ticket that stays; this one is closed and points to it")


class AttachmentOut(Schema):
    id: int
    message_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    download_url: str


class MessageOut(Schema):
    id: int
    ticket_id: int
    kind: str
    direction: str
    channel: str
    author_user_id: int | None
    author_contact_id: int | None
    body_text: str
    created_at: datetime
    attachments: list[AttachmentOut]


class MessageIn(In):
    body: Text = Field(min_length=1)
    kind: Literal["public", "note"] = "public"
    external_id: str | None = Field(None, min_length=1, max_length=300,
                                    description="idempotency key: a retry returns the stored message")


class EventOut(Schema):
    id: int
    kind: str
    ticket_id: int | None
    actor_id: int | None
    data: dict[str, Any]
    created_at: datetime


class EventFeedOut(Schema):
    items: list[EventOut]
    next_cursor: int = Field(description="pass as `after` to get the next page")


# --- pages ------------------------------------------------------------------------------------

class StorePage(Schema):
    items: list[StoreDetailOut] = Field(description="status is filled when listing a city, else null")
    count: int


class DepartmentPage(Schema):
    items: list[DepartmentOut]
    count: int


class CategoryPage(Schema):
    items: list[CategoryOut]
    count: int


class ProductPage(Schema):
    items: list[ProductOut]
    count: int


class StockPage(Schema):
    items: list[StockOut]
    next_offset: int | None = Field(description="offset of the next page; null on the last page")


class PromotionPage(Schema):
    items: list[PromotionOut]
    count: int


class VacancyPage(Schema):
    items: list[VacancyOut]
    count: int


class ContactPage(Schema):
    items: list[ContactOut]
    count: int


class TicketPage(Schema):
    items: list[TicketOut]
    count: int


class MessagePage(Schema):
    items: list[MessageOut]
    count: int


class AttachmentPage(Schema):
    items: list[AttachmentOut]
    count: int


class EventPage(Schema):
    items: list[EventOut]
    count: int
