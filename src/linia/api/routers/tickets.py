"""Tickets, their messages, attachments and history; ticket search. Thin callers of tickets.actions."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import FileResponse, HttpRequest
from ninja import Query, Router, Schema, Status

from linia.api import schemas
from linia.api import serializers as out
from linia.api.auth import Principal, principal
from linia.api.pagination import MAX_ID, PageParams, paginate
from linia.api.schemas import (
    AttachmentOut,
    AttachmentPage,
    ErrorOut,
    EventPage,
    MergeIn,
    MessageIn,
    MessageOut,
    MessagePage,
    StatusIn,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketPatch,
)
from linia.core.errors import ActionError, Conflict, NotFound
from linia.tickets import actions
from linia.tickets.models import Attachment, Message, Ticket
from linia.tickets.queries import TicketFilter, ticket_detail, ticket_history, ticket_list

router = Router(tags=["tickets"])
ERRORS: dict[int, Any] = {**schemas.ERRORS, 413: ErrorOut}  # uploads may be too large

MAX_FILES = 10
# Content types a browser could run or render as a page: always downloaded as opaque bytes.
_ACTIVE_TYPES = ("text/html", "application/xhtml", "image/svg", "text/xml", "application/xml",
                 "text/javascript", "application/javascript")


class TicketQuery(Schema):
    """Documented filters; values are parsed by TicketFilter.from_params (lists: repeat or comma-separate)."""

    q: str | None = None
    status: str | None = None
    priority: str | None = None
    channel: str | None = None
    category_id: str | None = None
    store_id: str | None = None
    department_id: str | None = None
    assignee: str | None = None
    tag: str | None = None
    contact_id: str | None = None
    created_from: str | None = None
    created_to: str | None = None
    open_only: str | None = None
    order: str | None = None


def _ticket(p: Principal, ticket_id: int) -> Ticket:
    return ticket_detail(p.user, p.tenant, ticket_id)


# --- tickets --------------------------------------------------------------------------------------

@router.get("/tickets", response={200: TicketPage, **ERRORS}, summary="List tickets (filters, search)")
def list_tickets(request: HttpRequest, filters: Query[TicketQuery], page: Query[PageParams]) -> dict[str, Any]:
    p = principal(request)
    qs = ticket_list(p.user, p.tenant, TicketFilter.from_params(request.GET))
    return _ticket_page(qs, page)


def _ticket_page(qs: Any, page: PageParams) -> dict[str, Any]:
    return {"count": qs.count(), "items": out.tickets(list(qs[page.offset:page.offset + page.limit]))}


@router.get("/search", response={200: TicketPage, **ERRORS}, summary="Full-text ticket search")
def search(request: HttpRequest, q: Query[str], page: Query[PageParams]) -> dict[str, Any]:
    p = principal(request)
    if not q.strip():
        raise ActionError("invalid_filter", "Say what to search for.", {"q": ["required"]})
    flt = TicketFilter.from_params({"q": q, "order": "relevance"})
    return _ticket_page(ticket_list(p.user, p.tenant, flt), page)


@router.get("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS})
def get_ticket(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    return out.ticket(_ticket(principal(request), ticket_id))


@router.post("/tickets", response={200: TicketOut, 201: TicketOut, **ERRORS},
             summary="Create a ticket (201), or return the one with this external_id (200)")
def create_ticket(request: HttpRequest, payload: TicketIn) -> Status[dict[str, Any]]:
    p = principal(request)
    if payload.external_id:
        existing = _by_external_id(p, payload.external_id)
        if existing is not None:
            return Status(200, out.ticket(existing))
        if not payload.body.strip():
            raise ActionError("invalid_value", "A ticket with an external_id needs a body (the first message).",
                              {"body": ["required with external_id"]})
    if payload.contact_id and payload.contact:
        raise ActionError("invalid_value", "Send contact_id or contact, not both.",
                          {"contact": ["leave out when contact_id is given"]})
    try:
        with transaction.atomic():  # an inline contact is not kept when the ticket is rejected
            # external_id_is_new: looked up above; a parallel retry that commits in between must fail on the
            # unique constraint (answered 200 below), not be handed its ticket back as if this one made it (201).
            ticket, _message = actions.create_ticket_with_message(
                p.user, p.tenant, subject=payload.subject, channel=payload.channel, body=payload.body,
                category=payload.category_id, store=payload.store_id, department=payload.department_id,
                contact=_contact_for(p, payload), priority=payload.priority, custom_fields=payload.custom_fields,
                tags=payload.tags, language=payload.language, queue=payload.queue, assignee=payload.assignee_id,
                external_id=payload.external_id, external_id_is_new=True)
    except IntegrityError:
        # A parallel retry with the same external_id won the race: answer with its ticket.
        existing = _by_external_id(p, payload.external_id) if payload.external_id else None
        if existing is None:
            raise
        return Status(200, out.ticket(existing))
    return Status(201, out.ticket(ticket))


def _by_external_id(p: Principal, external_id: str) -> Ticket | None:
    message = Message.objects.filter(tenant=p.tenant, external_id=external_id).only("ticket_id").first()
    if message is None:
        return None
    try:
        return _ticket(p, message.ticket_id)
    except NotFound:
        raise Conflict("external_id_taken", "This external_id is already used by a ticket you cannot see.",
                       {"external_id": ["already used"]}) from None


def _contact_for(p: Principal, payload: TicketIn) -> Any:
    if payload.contact is None:
        return payload.contact_id
    c = payload.contact
    if not (c.name.strip() or c.phone or c.email):
        return None
    return actions.find_or_create_contact(p.user, p.tenant, name=c.name, phones=[c.phone or ""],
                                          emails=[c.email or ""], language=payload.language)


_PATCH_FIELDS = {"category_id": "category", "store_id": "store", "department_id": "department",
                 "assignee_id": "assignee"}


@router.patch("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS})
def update_ticket(request: HttpRequest, payload: TicketPatch, ticket_id: int) -> dict[str, Any]:
    p = principal(request)
    ticket = _ticket(p, ticket_id)
    changes = {_PATCH_FIELDS.get(k, k): v for k, v in payload.model_dump(exclude_unset=True).items()}
    if changes:
        actions.update_ticket(p.user, ticket, **changes)
    return out.ticket(_ticket(p, ticket_id))


@router.post("/tickets/{ticket_id}/status", response={200: TicketOut, **ERRORS},
             summary="Change the status (transitions are checked)")
def change_status(request: HttpRequest, payload: StatusIn, ticket_id: int) -> dict[str, Any]:
    p = principal(request)
    actions.change_status(p.user, _ticket(p, ticket_id), payload.status)
    return out.ticket(_ticket(p, ticket_id))


@router.post("/tickets/{ticket_id}/merge", response={200: TicketOut, **ERRORS},
             summary="Merge this ticket into into_id; returns the ticket that stays")
def merge(request: HttpRequest, payload: MergeIn, ticket_id: int) -> dict[str, Any]:
    p = principal(request)
    source, target = _ticket(p, ticket_id), _ticket(p, payload.into_id)
    kept = actions.merge_tickets(p.user, source, target)
    return out.ticket(_ticket(p, kept.pk))


@router.get("/tickets/{ticket_id}/events", response={200: EventPage, **ERRORS}, summary="The ticket's history")
def history(request: HttpRequest, page: Query[PageParams], ticket_id: int) -> dict[str, Any]:
    return paginate(ticket_history(_ticket(principal(request), ticket_id)), page, out.event)


# --- messages -------------------------------------------------------------------------------------

def _messages(ticket: Ticket) -> Any:
    return Message.objects.filter(tenant_id=ticket.tenant_id, ticket=ticket).prefetch_related("attachments").order_by("id")


@router.get("/tickets/{ticket_id}/messages", response={200: MessagePage, **ERRORS}, tags=["messages"])
def list_messages(request: HttpRequest, page: Query[PageParams], ticket_id: int) -> dict[str, Any]:
    return paginate(_messages(_ticket(principal(request), ticket_id)), page, out.message)


@router.post("/tickets/{ticket_id}/messages", response={200: MessageOut, 201: MessageOut, **ERRORS},
             tags=["messages"], summary="Add a public reply or an internal note (kind=note)")
def add_message(request: HttpRequest, payload: MessageIn, ticket_id: int) -> Status[dict[str, Any]]:
    p = principal(request)
    ticket = _ticket(p, ticket_id)
    if payload.external_id:
        existing = _messages(ticket).filter(external_id=payload.external_id).first()
        if existing is not None:
            return Status(200, out.message(existing))
    message = actions.add_message(p.user, ticket, body=payload.body, kind=payload.kind,
                                  external_id=payload.external_id)
    return Status(201, out.message(_messages(ticket).get(pk=message.pk)))


@router.get("/messages/{message_id}", response={200: MessageOut, **ERRORS}, tags=["messages"])
def get_message(request: HttpRequest, message_id: int) -> dict[str, Any]:
    return out.message(_message(principal(request), message_id))


def _message(p: Principal, message_id: int) -> Message:
    if not 0 < message_id <= MAX_ID:
        raise NotFound("message")
    message = Message.objects.filter(tenant=p.tenant, pk=message_id).prefetch_related("attachments").first()
    if message is None:
        raise NotFound("message")
    _ticket(p, message.ticket_id)  # visible only with its ticket
    return message


# --- attachments ----------------------------------------------------------------------------------

_UPLOAD_DOC = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {
            "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "description": f"one to {MAX_FILES} files (repeat the field)"},
            "message_id": {"type": "integer", "description": "attach to this message of the ticket"},
            "body": {"type": "string", "description": "text of the new message (without message_id)"},
            "kind": {"type": "string", "enum": ["note", "public"], "default": "note"},
        }}}}},
}


@router.post("/tickets/{ticket_id}/attachments", response={201: AttachmentPage, **ERRORS}, tags=["attachments"],
             summary="Upload files (multipart): to a message, or as a new note", openapi_extra=_UPLOAD_DOC)
def upload(request: HttpRequest, ticket_id: int) -> Status[dict[str, Any]]:
    p = principal(request)
    ticket = _ticket(p, ticket_id)
    _check_upload_size(request)
    files = [actions.NewAttachment(filename=PurePath(f.name or "").name.replace("\x00", ""), data=f.read(),
                                   content_type=(f.content_type or "").split(";")[0][:120])
             for f in request.FILES.getlist("file") + request.FILES.getlist("files")]
    if not files or len(files) > MAX_FILES:
        raise ActionError("invalid_value", f"Send 1 to {MAX_FILES} files in the `file` field (multipart/form-data).",
                          {"file": ["required" if not files else f"at most {MAX_FILES}"]})
    stored = _store_files(p, ticket, request.POST, files)
    return Status(201, {"items": [out.attachment(a) for a in stored], "count": len(stored)})


def _check_upload_size(request: HttpRequest) -> None:
    limit = settings.LINIA_ATTACHMENT_MAX_BYTES + 1024 * 1024  # room for the multipart framing
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise _TooLarge(f"An upload may carry at most {settings.LINIA_ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB.")
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise ActionError("invalid_value", "Send the files as multipart/form-data.", {"file": ["required"]})


class _TooLarge(ActionError):
    status = 413

    def __init__(self, message: str) -> None:
        super().__init__("too_large", message)


def _store_files(p: Principal, ticket: Ticket, form: Any, files: list[actions.NewAttachment]) -> list[Attachment]:
    raw_id = (form.get("message_id") or "").strip()
    if raw_id:
        if not (raw_id.isascii() and raw_id.isdigit()) or not 0 < int(raw_id) <= MAX_ID:
            raise ActionError("invalid_value", "message_id must be a message id.", {"message_id": ["not an id"]})
        message = _messages(ticket).filter(pk=int(raw_id)).first()
        if message is None:
            raise NotFound("message")
        return actions.add_attachments(p.user, message, files)
    kind = (form.get("kind") or Message.Kind.NOTE).strip()
    if kind not in Message.Kind.values:
        raise ActionError("invalid_value", f"Unknown kind {kind[:40]!r}.", {"kind": ["one of: note, public"]})
    body = (form.get("body") or "").replace("\x00", "")
    message = actions.add_message(p.user, ticket, body=body, kind=kind, attachments=files)
    return list(message.attachments.order_by("id"))


@router.get("/tickets/{ticket_id}/attachments", response={200: AttachmentPage, **ERRORS}, tags=["attachments"])
def list_attachments(request: HttpRequest, page: Query[PageParams], ticket_id: int) -> dict[str, Any]:
    ticket = _ticket(principal(request), ticket_id)
    qs = Attachment.objects.filter(tenant_id=ticket.tenant_id, message__ticket=ticket).order_by("id")
    return paginate(qs, page, out.attachment)


def _attachment(p: Principal, attachment_id: int) -> Attachment:
    if not 0 < attachment_id <= MAX_ID:
        raise NotFound("attachment")
    attachment = Attachment.objects.select_related("message").filter(tenant=p.tenant, pk=attachment_id).first()
    if attachment is None:
        raise NotFound("attachment")
    _ticket(p, attachment.message.ticket_id)
    return attachment


@router.get("/attachments/{attachment_id}", response={200: AttachmentOut, **ERRORS}, tags=["attachments"])
def get_attachment(request: HttpRequest, attachment_id: int) -> dict[str, Any]:
    return out.attachment(_attachment(principal(request), attachment_id))


@router.get("/attachments/{attachment_id}/download", response={200: None, **ERRORS}, tags=["attachments"],
            url_name="attachment_download", summary="The file (always as a download, never rendered)")
def download(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = _attachment(principal(request), attachment_id)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise NotFound("attachment file") from None
    content_type = attachment.content_type or "application/octet-stream"
    if content_type.lower().startswith(_ACTIVE_TYPES):
        content_type = "application/octet-stream"
    response = FileResponse(handle, as_attachment=True, filename=attachment.filename or "attachment",
                            content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
