"""State changes the API needs that tickets.actions does not offer yet.

update_contact belongs in linia.tickets.actions (next to find_or_create_contact); it lives here only
because the API helper owns this package. Move it when tickets.actions grows a contact editor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from linia.core import audit
from linia.core.errors import Conflict
from linia.core.permissions import Perm, require
from linia.tickets.actions import _normalized_identities
from linia.tickets.events import emit
from linia.tickets.models import Contact, ContactIdentity


def update_contact(actor: Any, contact: Contact, *, name: str | None = None, language: str | None = None,
                   note: str | None = None, phones: Sequence[str] | None = None,
                   emails: Sequence[str] | None = None) -> Contact:
    """Change a contact; phones/emails, when given, replace the stored ones (None leaves them)."""
    if actor is not None:
        require(actor, Perm.CONTACTS_CHANGE, contact.tenant_id)
    tenant = contact.tenant
    wanted = _normalized_identities(tenant, phones or [], emails or [])
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        before = {"name": contact.name, "language": contact.language, "note": contact.note}
        if name is not None:
            contact.name = name.strip()[:200]
        if language is not None:
            contact.language = language
        if note is not None:
            contact.note = note
        contact.save()
        changed_ids = _replace_identities(contact, wanted, kinds=_kinds(phones, emails))
        diff = audit.diff(before, {"name": contact.name, "language": contact.language, "note": contact.note})
        if diff or changed_ids:
            emit(contact.tenant_id, "contact.updated", actor=actor,
                 data={"contact_id": contact.pk, "changes": diff, "identities_changed": changed_ids})
            if actor is not None:
                audit.record(actor, "update", contact, changes=diff)
    return contact


def _kinds(phones: Sequence[str] | None, emails: Sequence[str] | None) -> set[str]:
    kinds = set()
    if phones is not None:
        kinds.add(ContactIdentity.Kind.PHONE.value)
    if emails is not None:
        kinds.add(ContactIdentity.Kind.EMAIL.value)
    return kinds


def _replace_identities(contact: Contact, wanted: list[tuple[str, str]], *, kinds: set[str]) -> bool:
    if not kinds:
        return False
    taken = (ContactIdentity.objects.filter(tenant_id=contact.tenant_id)
             .exclude(contact=contact).filter(value__in=[v for _k, v in wanted]))
    clash = [i.value for i in taken if (i.kind, i.value) in set(wanted)]
    if clash:
        raise Conflict("identity_taken", "Another contact already has this phone or email; merge them instead.",
                       {"phones" if "@" not in clash[0] else "emails": [f"{v} belongs to another contact" for v in clash]})
    current = {(i.kind, i.value): i for i in contact.identities.filter(kind__in=kinds)}
    target = {(k, v) for k, v in wanted if k in kinds}
    removed = [i.pk for key, i in current.items() if key not in target]
    ContactIdentity.objects.filter(pk__in=removed).delete()
    added = [ContactIdentity(tenant_id=contact.tenant_id, contact=contact, kind=k, value=v)
             for k, v in sorted(target - set(current))]
    ContactIdentity.objects.bulk_create(added)
    return bool(removed or added)
