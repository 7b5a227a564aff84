"""Outbound dispatch models: per-tenant webhook subscriptions and their delivery log.

Other outbound models (email outbox, forwarding) are appended below by their owners.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linia.core.models import TenantOwned

# ---------------------------------------------------------------------------------------------------
# Webhooks (WEBHOOK helper)
# ---------------------------------------------------------------------------------------------------


class WebhookSubscription(TenantOwned):
    """A receiver URL of one tenant and the event types it wants, signed with its own secret.

    The secret is stored encrypted (Fernet, see ``linia.dispatch.crypto``) because every delivery is
    signed with it; the API and admin show it in clear only once, when it is created or rotated.
    Events with ids up to ``start_after_event_id`` (the newest event when the subscription was
    created) are never delivered: a new subscription does not receive the tenant's history.
    """

    name = models.CharField(_("name"), max_length=120, blank=True)
    url = models.URLField(_("URL"), max_length=500)
    secret_encrypted = models.TextField(_("secret (encrypted)"), editable=False)
    event_types = models.JSONField(
        _("event types"), default=list,
        help_text=_('Event types or patterns, e.g. "ticket.created", "task.*" or "*" for all.'))
    is_active = models.BooleanField(_("active"), default=True)
    start_after_event_id = models.BigIntegerField(_("deliver events after id"), default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["tenant", "id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [models.Index(fields=["tenant", "is_active"])]

    def __str__(self) -> str:
        return self.name or self.url


class WebhookCursor(models.Model):
    """How far the enqueuer has read the event log (one row, name "webhooks").

    One global cursor over ``Event.id`` rather than one per tenant: ids come from one sequence, so a
    gap in it (a transaction that has not committed yet, or rolled back) is visible. Missing ids are
    kept in ``gaps`` ({id: first seen}) and looked up again on every pass for a while, so an event
    that commits after a later one is still delivered.
    """

    name = models.CharField(max_length=40, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_event_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Dead (gave up)")


class WebhookDelivery(TenantOwned):
    """One event for one subscription: queued once, sent at least once until it succeeds or dies."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries",
                                     verbose_name=_("subscription"))
    event = models.ForeignKey("tickets.Event", on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("event"))
    event_type = models.CharField(_("event type"), max_length=60)
    status = models.CharField(_("status"), max_length=12, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("last response code"), null=True, blank=True)
    last_response = models.TextField(_("last response (excerpt)"), blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"]),
                   models.Index(fields=["tenant", "subscription", "-id"])]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.event_id} → {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery (the delivery log an admin reads)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log",
                                 verbose_name=_("delivery"))
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started"))
    duration_ms = models.PositiveIntegerField(_("duration, ms"), default=0)
    status_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    response = models.TextField(_("response (excerpt)"), blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number} {self.status_code or self.error[:40]}"


# ---------------------------------------------------------------------------------------------------
# Outbound email and forwarding to departments (FORWARD helper)
# ---------------------------------------------------------------------------------------------------


class ReplyToken(TenantOwned):
    """An unguessable token in a reply address (``support+t-<token>@...``) bound to a ticket (+ department)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("directory.Department", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+")
    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "department"], name="reply_token_ticket_department"),
            models.UniqueConstraint(fields=["ticket"], condition=models.Q(department__isnull=True),
                                    name="reply_token_ticket_customer"),
        ]
        verbose_name = _("reply token")
        verbose_name_plural = _("reply tokens")

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.department_id or '-'}"


class OutboundEmail(TenantOwned):
    """The email outbox: one row per message to send; a worker claims it, sends it and retries with backoff."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply to the customer")
        ACK = "ack", _("Acknowledgement")
        FORWARD = "forward", _("Forward to a department")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Failed, gave up")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="outbound_emails", verbose_name=_("ticket"))
    message = models.ForeignKey("tickets.Message", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("message"))
    department = models.ForeignKey("directory.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("department"))
    from_email = models.CharField(_("from"), max_length=320)
    to = models.JSONField(_("to"), default=list)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    recipient = models.CharField(max_length=254, db_index=True)  # first "to", lower-case (rate limits)
    reply_to = models.CharField(_("reply to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=400)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    attachment_ids = models.JSONField(default=list, blank=True)  # tickets.Attachment ids of the same tenant
    msgid = models.CharField(_("Message-ID"), max_length=300)  # the Message-ID header without <>
    in_reply_to = models.CharField(max_length=300, blank=True)
    references = models.TextField(blank=True)  # space-separated ids without <>
    headers = models.JSONField(default=dict, blank=True)  # extra headers, e.g. Auto-Submitted
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "msgid"], name="outbound_email_msgid")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbound_email_due"),
                   models.Index(fields=["tenant", "kind", "recipient", "created_at"], name="outbound_email_rate")]
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.status})"
