"""Contacts, tickets, interactions, messages, attachments and the append-only event log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linia.core.models import LANGUAGE_CHOICES, TenantOwned


class Channel(models.TextChoices):
    CALL = "call", _("Call")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    MESSENGER = "messenger", _("Messenger")
    WEBFORM = "webform", _("Web form")
    PORTAL = "portal", _("Portal")
    FAX = "fax", _("Fax")
    POST = "post", _("Post")
    WALK_IN = "walk_in", _("Walk-in")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Pending customer")
    PENDING_CLIENT = "pending_client", _("Pending client")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Contact(TenantOwned):
    """A customer. Phones (E.164) and emails live in ContactIdentity, unique per tenant."""

    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class ContactIdentity(TenantOwned):
    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=254)  # E.164 phone or lower-case email
    is_failing = models.BooleanField(default=False)  # e.g. bounced email

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "kind", "value"], name="contact_identity_unique")]
        verbose_name = _("contact phone or email")

    def __str__(self) -> str:
        return self.value


class TicketCounter(models.Model):
    """Per-tenant sequence for human ticket numbers (incremented with an atomic UPDATE)."""

    tenant = models.OneToOneField("core.Tenant", on_delete=models.CASCADE, primary_key=True)
    last_number = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.last_number}"


class Tag(TenantOwned):
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="tag_tenant_name")]

    def __str__(self) -> str:
        return self.name


class Ticket(TenantOwned):
    number = models.BigIntegerField(_("number"))
    reference = models.CharField(_("reference"), max_length=24)  # e.g. SPR-000123
    subject = models.CharField(_("subject"), max_length=300)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    category = models.ForeignKey("directory.Category", on_delete=models.PROTECT, null=True, blank=True,
                                 verbose_name=_("category"))
    store = models.ForeignKey("directory.Store", on_delete=models.SET_NULL, null=True, blank=True,
                              verbose_name=_("store"))
    department = models.ForeignKey("directory.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   verbose_name=_("department"))
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="tickets", verbose_name=_("contact"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="assigned_tickets", verbose_name=_("assignee"))
    queue = models.CharField(_("queue"), max_length=60, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, verbose_name=_("tags"))
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="merged_tickets")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="ticket_tenant_number"),
            models.UniqueConstraint(fields=["tenant", "reference"], name="ticket_tenant_reference"),
        ]
        indexes = [models.Index(fields=["tenant", "status", "-id"]), models.Index(fields=["tenant", "-id"])]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"


class Interaction(TenantOwned):
    """One contact over a channel (a call, a chat session, an email exchange) with its timestamps."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="interactions")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    direction = models.CharField(max_length=10, default="inbound")
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 (NULL: unique only when set)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "channel", "external_id"],
                                               name="interaction_external_id")]

    def __str__(self) -> str:
        return f"{self.channel} {self.started_at:%Y-%m-%d %H:%M}"


class Message(TenantOwned):
    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public reply")
        NOTE = "note", _("Internal note")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        INTERNAL = "internal", _("Internal")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    interaction = models.ForeignKey(Interaction, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PUBLIC)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    author_contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    external_id = models.CharField(max_length=300, null=True, blank=True)  # noqa: DJ001 (idempotency key, NULL when absent)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "external_id"], name="message_external_id")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.tenant_id}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(TenantOwned):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename


class Event(TenantOwned):
    """Append-only outbox: one row per state change, written in the same transaction.

    Reports, SLA clocks, webhooks and the wallboard read it by ascending id (the cursor).
    """

    kind = models.CharField(max_length=60, db_index=True)  # ticket.created, ticket.status_changed, ...
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "id"])]

    def __str__(self) -> str:
        return f"{self.id} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("events are append-only")
        super().save(*args, **kwargs)


class CustomerLink(TenantOwned):
    """A customer's private link to one ticket (/t/<token>/). Only the token's hash is stored."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="customer_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("customer link")
        verbose_name_plural = _("customer links")

    def __str__(self) -> str:
        return f"link to {self.ticket_id} until {self.expires_at:%Y-%m-%d}"


class Rating(TenantOwned):
    """How a customer rated the service (1-5 and a comment) at the end of a chat, on the ticket page or in a
    survey: one row per (ticket, interaction, source), changed when the customer rates again. Quality
    reports read these rows."""

    class Source(models.TextChoices):
        CHAT = "chat", _("Chat")
        TICKET_PAGE = "ticket_page", _("Ticket page")
        SURVEY = "survey", _("Survey")

    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="ratings")
    interaction = models.ForeignKey(Interaction, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="ratings")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    channel = models.CharField(max_length=12, choices=Channel.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_5"),
            models.UniqueConstraint(fields=["ticket", "interaction", "source"], name="rating_once_per_interaction",
                                    condition=models.Q(interaction__isnull=False)),
            models.UniqueConstraint(fields=["ticket", "source"], name="rating_once_per_ticket",
                                    condition=models.Q(interaction__isnull=True)),
        ]
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")

    def __str__(self) -> str:
        return f"{self.score}/5 ({self.source})"
