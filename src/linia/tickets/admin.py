"""Admin for contacts, tags and (read-only) tickets and events.

Tickets change only through linia.tickets.actions (the desk and the API), which write the event log;
the admin shows them for inspection.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linia.core.admin_scoping import TenantModelForm, TenantScopedAdmin, TenantScopedInline, admin_tenant_ids
from linia.core.permissions import Perm, scope_tickets
from linia.tickets.contacts import REGION_BY_LANGUAGE, normalize_email, normalize_phone
from linia.tickets.models import Contact, ContactIdentity, CustomerLink, Event, Message, Rating, Tag, Ticket


class ContactIdentityForm(TenantModelForm):
    class Meta:
        model = ContactIdentity
        fields = ("kind", "value", "is_failing")

    def clean(self) -> dict[str, Any]:
        # Normalise before the uniqueness check so "+48 600-100-200" and "600100200" are one phone.
        data = super().clean()
        kind, value = data.get("kind"), data.get("value")
        if kind and value:
            try:
                data["value"] = normalize_email(value) if kind == ContactIdentity.Kind.EMAIL else \
                    normalize_phone(value, self._region())
            except ValueError as exc:
                self.add_error("value", ValidationError(str(exc)))
        return data

    def _region(self) -> str:
        tenant = getattr(self.instance, "tenant", None) if self.instance.tenant_id else None
        return REGION_BY_LANGUAGE.get(tenant.default_language if tenant else "", "RU")


class ContactIdentityInline(TenantScopedInline):
    model = ContactIdentity
    form = ContactIdentityForm
    fields = ("kind", "value", "is_failing")


@admin.register(Contact)
class ContactAdmin(TenantScopedAdmin):
    view_perm = Perm.CONTACTS_VIEW
    manage_perm = Perm.CONTACTS_CHANGE
    inlines = (ContactIdentityInline,)
    list_display = ("name", "language", "created_at", "tenant")
    list_filter = ("tenant", "language")
    search_fields = ("name", "identities__value")


@admin.register(Tag)
class TagAdmin(TenantScopedAdmin):
    view_perm = manage_perm = Perm.CONFIG_MANAGE
    list_display = ("name", "tenant")
    list_filter = ("tenant",)
    search_fields = ("name",)


class MessageInline(TenantScopedInline):
    model = Message
    read_only = True
    fields = ("created_at", "kind", "direction", "channel", "author_user", "author_contact", "body_text")
    readonly_fields = fields
    ordering = ("id",)


class TicketScopedAdmin(TenantScopedAdmin):
    """Rows tied to tickets follow scope_tickets: store staff and department staff see only theirs."""

    def scoped_tickets(self, request: HttpRequest) -> QuerySet[Ticket] | None:
        ids = admin_tenant_ids(request, self.view_perm)
        if ids is None:
            return None
        scoped = Ticket.objects.none()
        for tenant_id in ids:
            scoped = scoped | scope_tickets(request.user, tenant_id, Ticket.objects.all())
        return scoped


class TicketLogAdmin(TicketScopedAdmin):
    """Append-only rows that may belong to a ticket (events, outgoing mail): read-only, never deleted, and
    scoped like their ticket (rows without a ticket follow the tenant scope alone)."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)  # already limited to the user's tenants
        tickets = self.scoped_tickets(request)
        if tickets is None:
            return qs
        return qs.filter(Q(ticket__isnull=True) | Q(ticket__in=tickets.values("pk")))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(TicketScopedAdmin):
    view_perm = Perm.TICKETS_VIEW
    manage_perm = None
    inlines = (MessageInline,)
    list_display = ("reference", "subject", "status", "priority", "channel", "store", "category", "assignee",
                    "created_at", "tenant")
    list_filter = ("status", "priority", "channel", "tenant", "category", "department")
    search_fields = ("reference", "subject")
    date_hierarchy = "created_at"
    list_select_related = ("store", "category", "assignee", "tenant")
    exclude = ("tags",)
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Ticket._meta.fields if f.name != "id"] + ["tag_names"]

    @admin.display(description=_("tags"))
    def tag_names(self, obj: Ticket) -> str:
        return ", ".join(t.name for t in obj.tags.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        scoped = self.scoped_tickets(request)
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if scoped is None else qs.filter(pk__in=scoped.values("pk"))


@admin.register(Event)
class EventAdmin(TicketLogAdmin):
    """The append-only outbox, for auditing: never edited."""

    view_perm = Perm.AUDIT_VIEW
    manage_perm = None
    list_display = ("id", "created_at", "kind", "ticket", "actor", "tenant")
    list_filter = ("kind", "tenant")
    search_fields = ("kind", "ticket__reference")
    list_select_related = ("ticket", "actor", "tenant")
    show_full_result_count = False



@admin.register(CustomerLink)
class CustomerLinkAdmin(TicketLogAdmin):
    """Customers' private ticket links (only hashes are stored): see when they expire, end them early."""

    view_perm = Perm.TICKETS_VIEW
    manage_perm = Perm.TICKETS_CHANGE
    list_display = ("ticket", "created_at", "expires_at", "revoked_at", "last_used_at", "tenant")
    list_filter = ("tenant",)
    search_fields = ("ticket__reference",)
    list_select_related = ("ticket", "tenant")
    actions = ("revoke_links",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # links are issued by the desk ("Customer link") or with the acknowledgement

    @admin.action(description=_("Revoke every valid link of the selected links' tickets"))
    def revoke_links(self, request: HttpRequest, queryset: QuerySet[CustomerLink]) -> None:
        from linia.tickets.actions import revoke_customer_links

        tickets = {link.ticket_id: link.ticket for link in queryset.select_related("ticket")}
        revoked = sum(revoke_customer_links(request.user, ticket) for ticket in tickets.values())
        self.message_user(request, _("%(count)d links revoked.") % {"count": revoked})


@admin.register(Rating)
class RatingAdmin(TicketLogAdmin):
    """How customers rated the service (chat end, ticket page): for quality review, read-only."""

    view_perm = Perm.TICKETS_VIEW
    manage_perm = None
    list_display = ("created_at", "score", "source", "channel", "ticket", "agent", "comment", "tenant")
    list_filter = ("score", "source", "channel", "tenant")
    search_fields = ("ticket__reference", "comment")
    list_select_related = ("ticket", "agent", "tenant")
    date_hierarchy = "created_at"
