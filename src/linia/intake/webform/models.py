"""Web forms a tenant publishes (fields as JSON Schema, UI hints per field) and the submissions they received."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from linia.core.models import LANGUAGE_CHOICES, TenantOwned

ROUTING_CHANNEL = "ticket"  # submissions are written requests that are not email (linia.routing.models.CHANNELS)


def new_public_key() -> str:
    return "wf_" + secrets.token_urlsafe(12)


class WebForm(TenantOwned):
    """One form: what it asks (schema + ui), where its tickets go (category, department, queue) and who may
    embed it (allowed_origins). Texts by language are JSON objects {"en": ..., "ru": ..., "pl": ..., "fr": ...}."""

    public_key = models.CharField(_("public key"), max_length=64, unique=True, default=new_public_key,
                                  help_text=_("Used in the form's address /forms/<key>/ and in the embed code."))
    name = models.CharField(_("name"), max_length=200)
    default_language = models.CharField(_("default language"), max_length=8, choices=LANGUAGE_CHOICES,
                                        blank=True, help_text=_("Empty: the tenant's language."))
    titles = models.JSONField(_("title by language"), default=dict, blank=True)
    intros = models.JSONField(_("introduction by language"), default=dict, blank=True)
    schema = models.JSONField(_("fields (JSON Schema)"), default=dict)
    ui = models.JSONField(_("UI hints"), default=dict, blank=True)
    subject = models.CharField(_("ticket subject"), max_length=300, blank=True,
                               help_text=_("May use {field} placeholders, e.g. \"Pre-order {store}\". "
                                           "Empty: the form's title."))
    category = models.ForeignKey("directory.Category", on_delete=models.SET_NULL, null=True, blank=True,
                                 verbose_name=_("category"))
    department = models.ForeignKey("directory.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   verbose_name=_("department"))
    queue = models.CharField(_("queue"), max_length=60, blank=True,
                             help_text=_('Code of a routing queue that serves the "ticket" channel: each submission '
                                         "becomes a task offered to its agents. Empty: not routed."))
    allowed_origins = models.JSONField(
        _("allowed origins for embedding"), default=list, blank=True,
        help_text=_('Sites that may show the form in an iframe, e.g. ["https://shop.example.com"]. '
                    "This site itself always may."))
    success_texts = models.JSONField(_("success text by language"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.queue = (self.queue or "").strip()
        if self.queue and self.tenant_id:
            from linia.routing.models import intake_queue_error

            queue_error = intake_queue_error(self.tenant_id, self.queue, ROUTING_CHANNEL)
            if queue_error is not None:
                raise ValidationError({"queue": queue_error})

    def text(self, field: str, language: str, fallback: str = "") -> str:
        """A per-language text (titles, intros, success_texts) in ``language``, else the form's language."""
        values: Any = getattr(self, field) or {}
        if not isinstance(values, dict):
            return fallback
        for code in (language, self.default_language, self.tenant.default_language, "en"):
            value = values.get(code)
            if isinstance(value, str) and value.strip():
                return value
        return next((v for v in values.values() if isinstance(v, str) and v.strip()), fallback)


class Submission(TenantOwned):
    """One accepted submission; the submission id (from the form page) makes a double submit file one ticket."""

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="submissions")
    submission_id = models.CharField(max_length=64)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    language = models.CharField(max_length=8, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "submission_id"], name="webform_submission_once")]
        verbose_name = _("web form submission")
        verbose_name_plural = _("web form submissions")

    def __str__(self) -> str:
        return f"{self.form_id}/{self.submission_id}"
