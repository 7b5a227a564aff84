"""Admin: mailboxes are configured per tenant (IMAP password write-only, stored encrypted); inbound mail is read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linia.core import audit
from linia.core.admin_scoping import TenantModelForm, TenantScopedAdmin
from linia.core.permissions import Perm
from linia.intake.email.models import InboundEmail, Mailbox


class MailboxForm(TenantModelForm):
    imap_password = forms.CharField(
        label=_("IMAP password"), required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown. Leave empty to keep the stored password."))
    clear_imap_password = forms.BooleanField(label=_("Remove the stored IMAP password"), required=False)

    class Meta:
        model = Mailbox
        fields = "__all__"

    def save(self, commit: bool = True) -> Mailbox:
        mailbox: Mailbox = super().save(commit=False)
        if self.cleaned_data.get("clear_imap_password"):
            mailbox.set_imap_password("")
        elif self.cleaned_data.get("imap_password"):
            mailbox.set_imap_password(self.cleaned_data["imap_password"])
        if commit:
            mailbox.save()
            self.save_m2m()
        return mailbox


@admin.register(Mailbox)
class MailboxAdmin(TenantScopedAdmin):
    view_perm = manage_perm = Perm.CONFIG_MANAGE
    form = MailboxForm
    list_display = ("address", "name", "queue", "language", "is_active", "imap_host", "password_set",
                    "last_polled_at", "tenant")
    list_filter = ("is_active", "tenant")
    search_fields = ("address", "name", "imap_host", "imap_user")
    readonly_fields = ("password_set", "uid_validity", "last_uid", "last_polled_at", "last_error")
    fieldsets = (
        (None, {"fields": ("tenant", "address", "name", "queue", "language", "is_active")}),
        (_("IMAP polling (optional)"), {"fields": (
            "imap_host", "imap_port", "imap_tls", "imap_user", "imap_password", "clear_imap_password",
            "password_set", "imap_folder", "imap_done_folder", "uid_validity", "last_uid", "last_polled_at",
            "last_error")}),
    )

    @admin.display(boolean=True, description=_("password stored"))
    def password_set(self, obj: Mailbox) -> bool:
        return bool(obj.imap_password_encrypted)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("imap_password") or form.cleaned_data.get("clear_imap_password"):
            audit.record(request.user, "update", obj, tenant=obj.tenant_id,
                         changes={"imap_password": ["(hidden)", "(changed)"]})


@admin.register(InboundEmail)
class InboundEmailAdmin(TenantScopedAdmin):
    view_perm = Perm.CONFIG_MANAGE
    manage_perm = None
    list_display = ("received_at", "status", "reason", "source", "from_email", "subject", "ticket", "size",
                    "tenant")
    list_filter = ("status", "source", "reason", "is_auto", "tenant")
    search_fields = ("from_email", "subject", "header_message_id", "dedupe_key")
    date_hierarchy = "received_at"
    list_select_related = ("ticket", "tenant")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
