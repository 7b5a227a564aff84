"""Admin of the dispatch app: webhook subscriptions (secret shown once) and the delivery log with replay.

Tenant scoping and auditing come from TenantScopedAdmin; only supervisors and platform admins
(Perm.WEBHOOKS_MANAGE) see these pages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

import linia.dispatch.email_admin  # noqa: F401 (registers the email outbox admin)
from linia.core.admin_scoping import TenantModelForm, TenantScopedAdmin, TenantScopedInline
from linia.core.permissions import Perm
from linia.dispatch import actions, crypto, webhooks
from linia.dispatch.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription

# --- webhooks --------------------------------------------------------------------------------------


class WebhookSubscriptionForm(TenantModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookSubscription
        fields = ("tenant", "name", "url", "event_types", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "event_types" in self.fields:
            self.fields["event_types"].required = False  # clean_event_types explains what is missing

    def clean_url(self) -> str:
        url = str(self.cleaned_data.get("url") or "")
        try:
            webhooks.resolve(url)
        except webhooks.BadWebhook as exc:
            raise ValidationError(str(exc)) from None
        return url.strip()

    def clean_event_types(self) -> list[str]:
        try:
            return webhooks.clean_event_types(self.cleaned_data.get("event_types"))
        except webhooks.BadWebhook as exc:
            raise ValidationError(str(exc)) from None


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(TenantScopedAdmin):
    view_perm = manage_perm = Perm.WEBHOOKS_MANAGE
    form = WebhookSubscriptionForm
    list_display = ("__str__", "tenant", "url", "event_types", "is_active", "deliveries_link", "created_at")
    list_filter = ("tenant", "is_active")
    search_fields = ("name", "url")
    readonly_fields = ("created_by", "created_at", "updated_at", "deliveries_link")
    actions = ("rotate_secret", "replay_dead")

    @admin.display(description=_("deliveries"))
    def deliveries_link(self, obj: WebhookSubscription) -> str:
        if obj.pk is None:
            return "-"
        dead = WebhookDelivery.objects.filter(subscription=obj, status=DeliveryStatus.DEAD).count()
        total = WebhookDelivery.objects.filter(subscription=obj).count()
        url = reverse("admin:dispatch_webhookdelivery_changelist")
        return format_html('<a href="{}?subscription__id__exact={}">{}</a>', url, obj.pk,
                           _("%(total)d, dead %(dead)d") % {"total": total, "dead": dead})

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        secret = ""
        if not change:
            secret = webhooks.new_secret()
            obj.secret_encrypted = crypto.encrypt(secret)
            obj.start_after_event_id = webhooks.current_event_id()
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        if secret:
            self.message_user(request, _("Signing secret of %(hook)s (copy it now, it is not shown again): %(secret)s")
                              % {"hook": obj, "secret": secret}, messages.WARNING)

    @admin.action(description=_("Rotate the signing secret"))
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for sub in queryset:
            secret = actions.rotate_secret(request.user, sub)
            self.message_user(request, _("New signing secret of %(hook)s (copy it now, it is not shown again): "
                                         "%(secret)s") % {"hook": sub, "secret": secret}, messages.WARNING)

    @admin.action(description=_("Replay dead deliveries"))
    def replay_dead(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        n = sum(actions.replay_deliveries(request.user, sub.tenant_id, subscription=sub) for sub in queryset)
        self.message_user(request, ngettext("%(n)d dead delivery queued again.",
                                            "%(n)d dead deliveries queued again.", n) % {"n": n})


class WebhookAttemptInline(TenantScopedInline):
    model = WebhookAttempt
    read_only = True
    fields = ("number", "started_at", "duration_ms", "status_code", "error", "response")
    readonly_fields = fields
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantScopedAdmin):
    """The delivery log and dead-letter list (read-only; "replay" queues dead deliveries again)."""

    view_perm = Perm.WEBHOOKS_MANAGE
    manage_perm = None
    list_display = ("id", "event_type", "event_id", "subscription", "tenant", "status", "attempts",
                    "last_status_code", "next_attempt_at", "created_at")
    list_filter = ("status", "tenant", "subscription", "event_type")
    search_fields = ("=event__id", "event_type", "last_error")
    readonly_fields = ("tenant", "subscription", "event", "event_type", "status", "attempts", "next_attempt_at",
                       "last_attempt_at", "last_status_code", "last_response", "last_error", "created_at",
                       "delivered_at")
    fields = readonly_fields
    inlines = (WebhookAttemptInline,)
    actions = ("replay",)
    list_select_related = ("subscription", "tenant")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allowed(request, self.view_perm, obj)

    @admin.action(description=_("Replay (dead deliveries are queued again)"))
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        rows = list(queryset)
        by_tenant: dict[int, list[WebhookDelivery]] = {}
        for d in rows:
            by_tenant.setdefault(d.tenant_id, []).append(d)
        n = sum(actions.replay_deliveries(request.user, t, ds) for t, ds in by_tenant.items())
        skipped = len(rows) - n
        self.message_user(request, ngettext("%(n)d dead delivery queued again.",
                                            "%(n)d dead deliveries queued again.", n) % {"n": n})
        if skipped:
            self.message_user(request, ngettext("%(n)d selected delivery was not dead and was left alone.",
                                                "%(n)d selected deliveries were not dead and were left alone.",
                                                skipped) % {"n": skipped}, messages.WARNING)
