"""Mailboxes (an address names its tenant and queue) and every inbound message as received (raw .eml kept)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from linia.core.models import LANGUAGE_CHOICES, Tenant, TenantOwned
from linia.intake.email import crypto


class Mailbox(TenantOwned):
    """An address mail arrives at (SMTP/LMTP delivery or IMAP polling). Addresses are unique installation-wide."""

    address = models.EmailField(_("address"), max_length=254, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    queue = models.CharField(_("routing queue code"), max_length=60, blank=True,
                             help_text=_("New tickets from this address wait in this routing queue (blank: none)."))
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # IMAP polling (optional): used when imap_host is set.
    imap_host = models.CharField(_("IMAP host"), max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_tls = models.BooleanField(_("IMAP over TLS"), default=True)
    imap_user = models.CharField(_("IMAP user"), max_length=200, blank=True)
    imap_password_encrypted = models.TextField(blank=True, editable=False)
    imap_folder = models.CharField(_("IMAP folder"), max_length=200, default="INBOX")
    imap_done_folder = models.CharField(_("folder for processed mail"), max_length=200, default="Linia/Processed")
    uid_validity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(null=True, blank=True, editable=False)
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["address"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.address

    def clean(self) -> None:
        self.address = (self.address or "").strip().lower()
        errors: dict[str, Any] = {}
        if "+" in self.address.partition("@")[0]:
            errors["address"] = _("A mailbox address cannot contain '+': it is used for reply tokens.")
        if self.queue and self.tenant_id:
            from linia.routing.models import intake_queue_error

            queue_error = intake_queue_error(self.tenant_id, self.queue, "email")  # mail is routed as "email"
            if queue_error is not None:
                errors["queue"] = queue_error
        if errors:
            raise ValidationError(errors)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.address = (self.address or "").strip().lower()
        super().save(*args, **kwargs)

    def set_imap_password(self, plain: str) -> None:
        self.imap_password_encrypted = crypto.encrypt(plain)

    def imap_password(self) -> str:
        return crypto.decrypt(self.imap_password_encrypted)


class InboundEmail(models.Model):
    """One received message, stored before it is acknowledged; processing makes it a ticket or message.

    The tenant is null only for rejected mail whose recipient named no tenant.
    """

    class Source(models.TextChoices):
        SMTP = "smtp", _("SMTP/LMTP")
        IMAP = "imap", _("IMAP")
        PIPE = "pipe", _("Pipe")

    class Status(models.TextChoices):
        STORED = "stored", _("Stored, not processed yet")
        PROCESSED = "processed", _("Processed")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("tenant"))
    mailbox = models.ForeignKey(Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("mailbox"))
    raw = models.FileField(_("raw message (.eml)"), max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(_("size"), default=0)
    # Message-ID (without <>) or "sha256:<hash of the raw message>"; NULL for rejected mail.
    dedupe_key = models.CharField(max_length=300, null=True, blank=True)  # noqa: DJ001 (NULL: unique only when set)
    header_message_id = models.CharField(_("Message-ID"), max_length=300, blank=True)
    from_email = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.STORED)
    reason = models.CharField(_("reason"), max_length=40, blank=True)  # too_large, unknown_recipient, ...
    error = models.TextField(_("error"), blank=True)
    is_auto = models.BooleanField(_("automatic mail"), default=False)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("ticket"))
    message = models.ForeignKey("tickets.Message", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(_("received"), db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "dedupe_key"], name="inbound_email_once")]
        indexes = [models.Index(fields=["status", "id"], name="inbound_email_status")]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.from_email} {self.subject}".strip()
