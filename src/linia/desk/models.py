"""Saved ticket-list filters: an agent's own, or shared with everyone in the tenant."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linia.core.models import LANGUAGE_CHOICES, TenantOwned


class SavedFilter(TenantOwned):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters",
                             verbose_name=_("owner"))
    name = models.CharField(_("name"), max_length=80)
    # The query string of the ticket list as a mapping (TicketFilter.to_params()).
    params = models.JSONField(_("filter"), default=dict, blank=True)
    shared = models.BooleanField(_("shared with the team"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "user", "name"], name="savedfilter_owner_name")]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")

    def __str__(self) -> str:
        return self.name


class CannedResponse(TenantOwned):
    """A ready answer for chats, in one language (blank: any), picked in the chat composer by title or
    shortcut. Placeholders such as {customer_name} are filled for the chat at hand (linia.desk.canned)."""

    title = models.CharField(_("title"), max_length=100)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, blank=True,
                                help_text=_("Empty: offered in every language."))
    body = models.TextField(_("text"), max_length=2000, help_text=_(
        "Placeholders: {customer_name}, {agent_name}, {store_hours}, {ticket_number}."))
    shortcut = models.SlugField(_("shortcut"), max_length=40, blank=True,
                                help_text=_('Typed after "/" in the chat composer, e.g. "hours".'))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["tenant", "language", "shortcut"],
                                               condition=~models.Q(shortcut=""), name="canned_shortcut")]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return self.title
