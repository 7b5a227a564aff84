"""Admin for the desk's own configuration: canned chat responses, tenant-scoped."""

from __future__ import annotations

from django.contrib import admin

from linia.core.admin_scoping import TenantScopedAdmin
from linia.desk.models import CannedResponse


@admin.register(CannedResponse)
class CannedResponseAdmin(TenantScopedAdmin):
    list_display = ("title", "shortcut", "language", "is_active", "tenant")
    list_filter = ("language", "is_active")
    search_fields = ("title", "shortcut", "body")
