"""Live chat: a tenant's widget channels, the visitors' sessions and every message of a session.

All chat state lives here (nothing in server memory), so a restarted server or another web node serves a
reconnecting widget from the same rows. Each message also exists as a tickets.Message on the session's
ticket: the transcript stays on the ticket.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linia.core.models import LANGUAGE_CHOICES, TenantOwned


def new_public_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def _default_colours() -> dict[str, str]:
    return {"primary": "#0b6bcb", "on_primary": "#ffffff"}


class ChatChannel(TenantOwned):
    """One embeddable widget (one `data-channel` key) and the queue its chats go to."""

    public_key = models.CharField(_("public key"), max_length=64, unique=True, default=new_public_key,
                                  help_text=_("Goes into the widget's script tag (data-channel); not a secret."))
    name = models.CharField(_("name"), max_length=200)
    queue = models.ForeignKey("routing.Queue", on_delete=models.PROTECT, related_name="+", verbose_name=_("queue"))
    allowed_origins = models.JSONField(
        _("allowed origins"), default=list, blank=True,
        help_text=_('Sites that may embed the widget, e.g. ["https://shop.example", "https://*.shop.example"]. '
                    "This server itself is always allowed."))
    greeting = models.JSONField(_("greeting"), default=dict, blank=True,
                                help_text=_('By language: {"en": "Hello!", "ru": "Здравствуйте!"}'))
    colours = models.JSONField(_("colours"), default=_default_colours, blank=True,
                               help_text=_('{"primary": "#0b6bcb", "on_primary": "#ffffff"}'))
    default_language = models.CharField(_("default language"), max_length=8, choices=LANGUAGE_CHOICES,
                                        default="en")
    topics = models.JSONField(
        _("topics"), default=list, blank=True,
        help_text=_('[{"code": "order", "labels": {"en": "My order", "ru": "Мой заказ"}, "category": "orders"}]'))
    consent_required = models.BooleanField(_("consent required"), default=False)
    consent_text = models.JSONField(_("consent text"), default=dict, blank=True,
                                    help_text=_('By language: {"en": "I agree to the processing of my data."}'))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant", "name"]
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")

    def __str__(self) -> str:
        return self.name


class SessionStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for an agent")
    ACTIVE = "active", _("With an agent")
    ENDED = "ended", _("Ended")
    OFFLINE = "offline", _("Offline message")


class ChatSession(TenantOwned):
    """One visitor's chat. The visitor holds a secret token; only its SHA-256 is stored."""

    channel = models.ForeignKey(ChatChannel, on_delete=models.CASCADE, related_name="sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    visitor_name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)  # E.164
    topic = models.CharField(_("topic"), max_length=60, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    page_url = models.CharField(_("page"), max_length=500, blank=True)
    contact = models.ForeignKey("tickets.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="chat_sessions")
    interaction = models.ForeignKey("tickets.Interaction", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    task = models.ForeignKey("routing.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=SessionStatus.choices,
                              default=SessionStatus.WAITING)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("agent"))
    last_seq = models.PositiveIntegerField(default=0)  # incremented under the row lock: gapless, ordered
    created_at = models.DateTimeField(db_index=True)
    last_activity_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "status"], name="chat_session_status")]
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")

    def __str__(self) -> str:
        return f"chat {self.pk} ({self.status})"


class Sender(models.TextChoices):
    VISITOR = "visitor", _("Visitor")
    AGENT = "agent", _("Agent")
    SYSTEM = "system", _("System")


class ChatMessage(TenantOwned):
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=8, choices=Sender.choices)
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (NULL: unique only when set)
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    text = models.TextField(blank=True)  # plain text, never HTML: clients escape it
    attachment = models.ForeignKey("tickets.Attachment", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    message = models.ForeignKey("tickets.Message", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="chat_message_seq"),
            models.UniqueConstraint(fields=["session", "client_id"], condition=Q(client_id__isnull=False),
                                    name="chat_message_client_id"),
        ]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")

    def __str__(self) -> str:
        return f"{self.session_id}#{self.seq} {self.sender}"
