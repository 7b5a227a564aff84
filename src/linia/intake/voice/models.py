"""Phone lines, calls, and the raw CTI events (accepted and rejected) they were built from."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from linia.core.models import Tenant, TenantOwned


class LineKind(models.TextChoices):
    CUSTOMER_24_7 = "customer_24_7", _("Customer line (24/7)")
    STORE_TECHNICAL = "store_technical", _("Store technical line")
    PARTNER = "partner", _("Partner line")
    OTHER = "other", _("Other")


class LineMode(models.TextChoices):
    TRACK = "track", _("Track (the PBX distributes calls)")
    ROUTE = "route", _("Route (Linia picks the agent)")


class Line(TenantOwned):
    """A dialled number. Numbers are unique across the installation: the number names the tenant."""

    number = models.CharField(_("number (E.164)"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=LineKind.choices, default=LineKind.CUSTOMER_24_7)
    mode = models.CharField(_("mode"), max_length=10, choices=LineMode.choices, default=LineMode.TRACK)
    # The PBX's queue name for this line: AMI events and queue_log lines that carry no dialled number
    # find their line by it.
    pbx_queue = models.CharField(_("PBX queue name"), max_length=80, blank=True, db_index=True)
    queue = models.ForeignKey("routing.Queue", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("routing queue"),
                              help_text=_("Route mode: the queue whose agents take this line's calls."))

    class Meta:
        ordering = ["number"]
        verbose_name = _("phone line")
        verbose_name_plural = _("phone lines")

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()

    def clean(self) -> None:
        from linia.tickets.contacts import REGION_BY_LANGUAGE, normalize_phone

        language = self.tenant.default_language if self.tenant_id else ""
        try:
            self.number = normalize_phone(self.number, REGION_BY_LANGUAGE.get(language, "ZZ"))
        except ValueError:
            raise ValidationError({"number": _("Enter the number in international form, e.g. +48221234567.")}) \
                from None
        if self.mode == LineMode.ROUTE and self.queue_id is None:
            raise ValidationError({"queue": _("A route-mode line needs the routing queue whose agents answer it.")})
        if self.queue_id and self.queue and self.queue.tenant_id != self.tenant_id:
            raise ValidationError({"queue": _("The queue belongs to another tenant.")})


class Call(TenantOwned):
    pbx_call_id = models.CharField(max_length=200)
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="calls")
    caller = models.CharField(_("caller number"), max_length=64, blank=True)  # E.164 when parseable
    state = models.CharField(max_length=20)
    last_sequence = models.BigIntegerField()
    queued_at = models.DateTimeField(null=True, blank=True)
    ringing_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    wrapup_ends_at = models.DateTimeField(null=True, blank=True)
    abandoned = models.BooleanField(default=False)
    agent_extension = models.CharField(max_length=40, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    queue_code = models.CharField(max_length=80, blank=True)
    interaction = models.OneToOneField("tickets.Interaction", on_delete=models.PROTECT, related_name="call")
    task = models.ForeignKey("routing.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "pbx_call_id"], name="voice_call_pbx_id")]
        verbose_name = _("call")
        verbose_name_plural = _("calls")

    def __str__(self) -> str:
        return f"{self.pbx_call_id} {self.caller} {self.state}"


class CtiEvent(TenantOwned):
    """An accepted CTI event as received; (tenant, call id, sequence) makes redelivery harmless."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    pbx_call_id = models.CharField(max_length=200)
    sequence = models.BigIntegerField()
    event = models.CharField(max_length=20)
    source = models.CharField(max_length=20, default="api")  # api, ami, queue_log
    raw = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "pbx_call_id", "sequence"],
                                               name="voice_cti_event_once")]

    def __str__(self) -> str:
        return f"{self.pbx_call_id}#{self.sequence} {self.event}"


class RejectedCtiEvent(models.Model):
    """A refused event, kept for diagnosis (the tenant is unknown when the line is)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True, blank=True)
    pbx_call_id = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=20, default="api")
    code = models.CharField(max_length=40, db_index=True)
    message = models.CharField(max_length=500)
    raw = models.TextField(blank=True)  # as received: it may not even be JSON
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.code} {self.pbx_call_id}"
