"""Tenants, users, memberships (roles), API tokens and the audit log."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in _TIME_ZONES:
        raise ValidationError(_("Unknown time zone %(tz)s; use an IANA name such as Europe/Warsaw."),
                              params={"tz": value})


_TIME_ZONES = frozenset(available_timezones())
LANGUAGE_CHOICES = [("en", "English"), ("ru", "Русский"), ("pl", "Polski"), ("fr", "Français")]


class Tenant(models.Model):
    """A client organisation served by the installation (a retail chain, a shop, a delivery service)."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    default_language = models.CharField(_("default language"), max_length=8, choices=LANGUAGE_CHOICES,
                                        default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC",
                                 validators=[validate_time_zone])
    ticket_prefix = models.CharField(
        _("ticket number prefix"), max_length=8, unique=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9]{1,7}$", _("2–8 capital letters or digits, e.g. SPR."))],
    )
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return self.name


class TenantOwned(models.Model):
    """Every tenant-owned row carries its tenant: the root of tenant isolation."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, verbose_name=_("tenant"))

    class Meta:
        abstract = True


class User(AbstractUser):
    """A person who logs in. Platform admins are superusers; other roles come from memberships."""

    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC",
                                 validators=[validate_time_zone])
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGE_CHOICES, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def display_name(self) -> str:
        """The name colleagues and customers see: the full name, else the login name."""
        return self.get_full_name() or self.username

    @property
    def greeting_name(self) -> str:
        """The name a customer is greeted with ("Anna here"): the first name, else the display name."""
        return self.first_name or self.display_name


class Role(models.TextChoices):
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agent")
    CLIENT_STAFF = "client_staff", _("Client staff")
    STORE_STAFF = "store_staff", _("Store staff")


class Membership(TenantOwned):
    """A user's role in one tenant. Agents may hold several; client and store staff exactly one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    department = models.ForeignKey("directory.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   verbose_name=_("department"))
    store = models.ForeignKey("directory.Store", on_delete=models.SET_NULL, null=True, blank=True,
                              verbose_name=_("store"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="membership_user_tenant")]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"

    def clean(self) -> None:
        if self.role == Role.STORE_STAFF and self.store_id is None:
            raise ValidationError({"store": _("Store staff must belong to a store.")})
        if self.store_id and self.store and self.store.tenant_id != self.tenant_id:
            raise ValidationError({"store": _("The store belongs to another tenant.")})
        if self.department_id and self.department and self.department.tenant_id != self.tenant_id:
            raise ValidationError({"department": _("The department belongs to another tenant.")})
        if self.role in (Role.CLIENT_STAFF, Role.STORE_STAFF) and self.user_id:
            others = Membership.objects.filter(user_id=self.user_id).exclude(pk=self.pk)
            if others.exists():
                raise ValidationError(_("Client and store staff belong to exactly one tenant."))


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(TenantOwned):
    """Bearer token scoped to one tenant; only its hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.tenant.slug}/{self.user})"

    @staticmethod
    def new_raw_key() -> str:
        return "lin_" + secrets.token_urlsafe(32)

    @staticmethod
    def hash_key(raw: str) -> str:
        return _hash_token(raw)


class AuditLog(models.Model):
    """Who changed what and when: configuration and tickets. Append-only."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(max_length=40)  # create, update, delete, login, token.create, ...
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["tenant", "-id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit log rows are append-only")
        super().save(*args, **kwargs)
