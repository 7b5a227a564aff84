"""Saved ticket-list filters: an agent's own, or shared with everyone in the tenant."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linia.core.models import TenantOwned


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
