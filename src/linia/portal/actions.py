"""What store and client staff do in the portal: each a transaction through linia.tickets.actions.

Store staff report faults (a ticket on channel "portal" for their store), add information, confirm a fix
(solved → closed) or reopen it with a reason. Client staff reply as the client (a department's reply, like
an emailed answer to a forward: pending client → open). The user is the actor of every change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from linia.core.errors import ActionError
from linia.core.models import Membership, Role
from linia.core.permissions import PermissionDenied, can_see_ticket, membership
from linia.directory.models import Category, Department, DepartmentKind, Store
from linia.dispatch.forwarding import on_department_reply
from linia.portal.deadlines import portal_settings
from linia.tickets import actions as ticket_actions
from linia.tickets.actions import NewAttachment
from linia.tickets.events import emit
from linia.tickets.models import Channel, Message, Priority, Status, Ticket

FAULT_KINDS = ("equipment", "fittings", "building")
URGENCIES = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
DESCRIPTION_MAX = 5000
ASSET_MAX = 200
REASON_MAX = 2000
# Magic numbers of the photo formats phones and cameras produce.
_IMAGE_MAGIC: tuple[tuple[int, bytes], ...] = (
    (0, b"\xff\xd8\xff"), (0, b"\x89PNG\r\n\x1a\n"), (0, b"GIF87a"), (0, b"GIF89a"), (8, b"WEBP"),
    (4, b"ftypheic"), (4, b"ftypheix"), (4, b"ftypmif1"), (4, b"ftyphevc"), (0, b"BM"),
)


def max_photos() -> int:
    return int(getattr(settings, "LINIA_PORTAL_MAX_PHOTOS", 6))


def max_photo_bytes() -> int:
    return int(getattr(settings, "LINIA_PORTAL_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def is_image(head: bytes) -> bool:
    return any(head[offset:offset + len(magic)] == magic for offset, magic in _IMAGE_MAGIC)


def _member(actor: Any, tenant_id: int, role: str) -> Membership:
    member = membership(actor, tenant_id)
    if member is None or member.role != role or (role == Role.STORE_STAFF and member.store_id is None):
        raise PermissionDenied(role, f"only {role} may do this")
    return member


def _visible(actor: Any, ticket: Ticket) -> None:
    if not can_see_ticket(actor, ticket):
        raise PermissionDenied("tickets.view", "ticket not visible")


def check_photos(photos: Sequence[NewAttachment]) -> None:
    """Photos: at most max_photos(), each an image no larger than max_photo_bytes()."""
    errors: list[str] = []
    if len(photos) > max_photos():  # the files themselves are not looked at (the view may not have read them)
        raise ActionError("invalid_photos", _("Check the photos."),
                          {"photos": [_("At most %(n)d photos.") % {"n": max_photos()}]})
    limit_mb = max_photo_bytes() / (1024 * 1024)
    for photo in photos:
        if len(photo.data) > max_photo_bytes():
            errors.append(_("%(name)s is larger than %(mb).0f MB.") % {"name": photo.filename, "mb": limit_mb})
        elif not is_image(photo.data[:16]):
            errors.append(_("%(name)s is not a photo (JPEG, PNG, GIF, WebP, HEIC).") % {"name": photo.filename})
    if errors:
        raise ActionError("invalid_photos", _("Check the photos."), {"photos": errors})


def fault_category(tenant_id: int, tenant_settings: Any, kind: str) -> Category | None:
    """The category for a kind of fault: settings portal.fault_categories[kind] (a category code), else the
    category coded "fault-<kind>"; None when the tenant has neither."""
    codes = portal_settings(tenant_settings).get("fault_categories")
    wanted = [str(codes[kind])] if isinstance(codes, dict) and codes.get(kind) else []
    wanted.append(f"fault-{kind}")
    for code in wanted:
        found = Category.objects.filter(tenant_id=tenant_id, code=code, is_active=True).first()
        if found is not None:
            return found
    return None


def region_department(store: Store, category: Category | None) -> Department | None:
    """The store's regional office (or technical service) for its region, else the category's department."""
    region = (store.region or "").strip()
    if region:
        found = (Department.objects.filter(tenant_id=store.tenant_id, is_active=True, region__iexact=region,
                                           kind__in=[DepartmentKind.REGIONAL, DepartmentKind.TECHNICAL])
                 .order_by("kind", "id").first())  # "regional" sorts before "technical"
        if found is not None:
            return found
    return category.default_department if category is not None else None


def _custom_fields(tenant_settings: Any, kind: str, asset: str, urgency: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The ticket's custom fields and which form field each came from (to show schema errors there).

    settings portal.field_map maps "asset"/"urgency" to the category's own keys (e.g. asset_number), and
    portal.urgency_values maps our urgency to the category's values (e.g. "urgent" → "krytyczna").
    """
    conf = portal_settings(tenant_settings)
    values: dict[str, Any] = {"fault_kind": kind, "urgency": urgency}
    if asset:
        values["asset"] = asset
    origin = {"fault_kind": "kind", "asset": "asset", "urgency": "urgency"}
    field_map = conf.get("field_map") if isinstance(conf.get("field_map"), dict) else {}
    urgency_values = conf.get("urgency_values") if isinstance(conf.get("urgency_values"), dict) else {}
    for ours, theirs in (field_map or {}).items():
        if ours == "asset" and asset:
            values[str(theirs)] = asset
        elif ours == "urgency":
            values[str(theirs)] = (urgency_values or {}).get(urgency, urgency)
        origin[str(theirs)] = ours
    return values, origin


def report_fault(actor: Any, *, kind: str, asset: str, description: str, urgency: str,
                 photos: Sequence[NewAttachment] = ()) -> Ticket:
    """A store employee reports a technical fault of their store: one ticket with the photos, or nothing."""
    tenant_ids = list(Membership.objects.filter(user=actor, role=Role.STORE_STAFF).values_list("tenant_id", flat=True))
    if len(tenant_ids) != 1:
        raise PermissionDenied(Role.STORE_STAFF, "only store staff may report faults")
    member = _member(actor, tenant_ids[0], Role.STORE_STAFF)
    tenant, store = member.tenant, member.store
    assert store is not None  # _member checked it
    asset, description = (asset or "").strip(), (description or "").strip()
    errors: dict[str, list[str]] = {}
    if kind not in FAULT_KINDS:
        errors["kind"] = [_("Choose what is broken.")]
    if urgency not in URGENCIES:
        errors["urgency"] = [_("Choose how urgent it is.")]
    if not description:
        errors["description"] = [_("Describe the fault.")]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("At most %(n)d characters.") % {"n": DESCRIPTION_MAX}]
    if len(asset) > ASSET_MAX:
        errors["asset"] = [_("At most %(n)d characters.") % {"n": ASSET_MAX}]
    try:
        check_photos(photos)
    except ActionError as exc:
        errors.update(exc.fields)
    if errors:
        raise ActionError("invalid_report", _("The report was not sent: check the marked fields."), errors)
    category = fault_category(tenant.pk, tenant.settings, kind)
    values, origin = _custom_fields(tenant.settings, kind, asset, urgency)
    with translation.override(tenant.default_language or "en"):
        label = str(dict(fault_kind_choices())[kind])
    subject = f"{label}: {asset or description.splitlines()[0]}"[:200] + f" – {store.code}"
    try:
        return ticket_actions.create_ticket(
            actor, tenant, subject=subject, channel=Channel.PORTAL, body=description, category=category,
            store=store, department=region_department(store, category), priority=urgency,
            custom_fields=values, language=getattr(actor, "language", "") or tenant.default_language,
            attachments=photos)
    except ActionError as exc:
        if exc.code != "invalid_custom_fields":
            raise
        fields: dict[str, list[str]] = {}
        for key, items in exc.fields.items():
            name = origin.get(key.removeprefix("custom_fields."), "asset")
            fields.setdefault(name, []).append(_("Not accepted for this kind of fault (%(detail)s).")
                                               % {"detail": "; ".join(items)})
        raise ActionError("invalid_report", _("The report was not sent: check the marked fields."), fields) from exc


def fault_kind_choices() -> list[tuple[str, str]]:
    return [("equipment", _("Equipment (refrigeration, tills, scales)")),
            ("fittings", _("Fittings (shelves, doors, furniture)")),
            ("building", _("Building (roof, lighting, plumbing, heating)"))]


def add_information(actor: Any, ticket: Ticket, *, body: str, files: Sequence[NewAttachment] = ()) -> Message:
    """The store adds information: a public inbound message (pending customer → open, as a customer's answer).

    On a solved ticket the status stays: the store confirms or reopens explicitly."""
    _member(actor, ticket.tenant_id, Role.STORE_STAFF)
    _visible(actor, ticket)
    return ticket_actions.add_message(actor, ticket, body=body, kind=Message.Kind.PUBLIC,
                                      direction=Message.Direction.INBOUND, channel=Channel.PORTAL,
                                      attachments=files, reopen=ticket.status != Status.SOLVED)


def confirm_fix(actor: Any, ticket: Ticket) -> Ticket:
    """The store confirms that a solved fault is fixed: solved → closed."""
    _member(actor, ticket.tenant_id, Role.STORE_STAFF)
    _visible(actor, ticket)
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status != Status.SOLVED:
            raise ActionError("not_solved", _("Only a solved ticket can be confirmed."), {"status": [ticket.status]})
        ticket = ticket_actions.change_status(actor, ticket, Status.CLOSED)
        emit(ticket.tenant_id, "ticket.fix_confirmed", ticket=ticket, actor=actor, data={"channel": Channel.PORTAL})
    return ticket


def reopen(actor: Any, ticket: Ticket, *, reason: str, files: Sequence[NewAttachment] = ()) -> Ticket:
    """The fault is not fixed: the reason becomes the store's message and the ticket opens again."""
    _member(actor, ticket.tenant_id, Role.STORE_STAFF)
    _visible(actor, ticket)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError("invalid_value", _("Say why the fault is not fixed."), {"reason": [_("required")]})
    if len(reason) > REASON_MAX:
        raise ActionError("invalid_value", _("At most %(n)d characters.") % {"n": REASON_MAX},
                          {"reason": [_("too long")]})
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status != Status.SOLVED:
            raise ActionError("not_solved", _("Only a solved ticket can be reopened."), {"status": [ticket.status]})
        message = ticket_actions.add_message(actor, ticket, body=reason, kind=Message.Kind.PUBLIC,
                                             direction=Message.Direction.INBOUND, channel=Channel.PORTAL,
                                             attachments=files, reopen=False)
        ticket = ticket_actions.change_status(actor, ticket, Status.OPEN)
        emit(ticket.tenant_id, "ticket.fix_rejected", ticket=ticket, actor=actor, data={"message_id": message.pk})
    return ticket


def client_reply(actor: Any, ticket: Ticket, *, body: str, files: Sequence[NewAttachment] = ()) -> Message:
    """Client staff answer: the client's reply on the desk (like a department's emailed answer to a forward),
    never shown to the customer; pending client → open."""
    member = _member(actor, ticket.tenant_id, Role.CLIENT_STAFF)
    _visible(actor, ticket)
    with transaction.atomic():
        message = ticket_actions.add_message(actor, ticket, body=body, kind=Message.Kind.NOTE,
                                             direction=Message.Direction.INBOUND, channel=Channel.PORTAL,
                                             attachments=files, reopen=False)
        on_department_reply(ticket, message, department_id=member.department_id)
    return message


def client_set_status(actor: Any, ticket: Ticket, status: str) -> Ticket:
    """Client staff change the status (close, solve, reopen) of a ticket they see."""
    _member(actor, ticket.tenant_id, Role.CLIENT_STAFF)
    _visible(actor, ticket)
    return ticket_actions.change_status(actor, ticket, status)
