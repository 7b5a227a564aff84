"""Contacts (customers): list/search, get, create with de-duplication, patch."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from linia.api import serializers as out
from linia.api.auth import Principal, principal
from linia.api.pagination import MAX_ID, PageParams, paginate
from linia.api.schemas import ERRORS, ContactIn, ContactOut, ContactPage, ContactPatch
from linia.core.errors import NotFound
from linia.core.permissions import Perm
from linia.tickets import actions
from linia.tickets.models import Contact
from linia.tickets.queries import contact_search

router = Router(tags=["contacts"])


def _contact(p: Principal, contact_id: int) -> Contact:
    contact = (Contact.objects.filter(tenant=p.tenant, pk=contact_id).prefetch_related("identities").first()
               if 0 < contact_id <= MAX_ID else None)
    if contact is None:
        raise NotFound("contact")
    p.require(Perm.CONTACTS_VIEW)
    return contact


@router.get("", response={200: ContactPage, **ERRORS}, summary="List contacts, or search by name/phone/email")
def list_contacts(request: HttpRequest, page: Query[PageParams], q: str = "") -> dict[str, Any]:
    p = principal(request)
    p.require(Perm.CONTACTS_VIEW)
    qs = (contact_search(p.user, p.tenant, q) if q.strip() else
          Contact.objects.filter(tenant=p.tenant).prefetch_related("identities").order_by("name", "id"))
    return paginate(qs, page, out.contact)


@router.get("/{contact_id}", response={200: ContactOut, **ERRORS})
def get_contact(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    return out.contact(_contact(principal(request), contact_id))


@router.post("", response={200: ContactOut, 201: ContactOut, **ERRORS},
             summary="Create a contact (201), or return the one with the same phone/email (200)")
def create_contact(request: HttpRequest, payload: ContactIn) -> Status[dict[str, Any]]:
    p = principal(request)
    started = timezone.now()
    contact = actions.find_or_create_contact(p.user, p.tenant, name=payload.name, phones=payload.all_phones(),
                                             emails=payload.all_emails(), language=payload.language)
    status = 201 if contact.created_at >= started else 200
    return Status(status, out.contact(_contact(p, contact.pk)))


@router.patch("/{contact_id}", response={200: ContactOut, **ERRORS},
              summary="Change a contact; phones/emails, when sent, replace the stored ones")
def update_contact(request: HttpRequest, payload: ContactPatch, contact_id: int) -> dict[str, Any]:
    p = principal(request)
    contact = _contact(p, contact_id)
    actions.update_contact(p.user, contact, **payload.model_dump(exclude_unset=True))
    return out.contact(_contact(p, contact_id))
