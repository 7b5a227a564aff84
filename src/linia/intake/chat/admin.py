"""Admin for chat channels (tenant-scoped, checked JSON fields) and a read-only view of sessions."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from linia.core.admin_scoping import TenantModelForm, TenantScopedAdmin, require_object
from linia.intake.chat.models import ChatChannel, ChatSession
from linia.intake.chat.queries import _origin_parts

_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _texts_by_language(value: Any, example: str) -> dict[str, Any]:
    value = require_object(value, example)
    for lang, text in value.items():
        if lang not in settings.CUSTOMER_LANGUAGES:
            raise ValidationError(_("%(lang)s is not a language of the widget (use %(langs)s)."),
                                  params={"lang": lang, "langs": ", ".join(settings.CUSTOMER_LANGUAGES)})
        if not isinstance(text, str) or len(text) > 2000:
            raise ValidationError(_("Each text must be a string of at most 2000 characters."))
    return dict(value)


class ChatChannelForm(TenantModelForm):
    class Meta:
        model = ChatChannel
        fields = "__all__"

    def clean_allowed_origins(self) -> list[str]:
        value = self.cleaned_data.get("allowed_origins") or []
        if not isinstance(value, list):
            raise ValidationError(_('Give a list such as ["https://shop.example"].'))
        for origin in value:
            ok = isinstance(origin, str) and _origin_parts(origin.replace("://*.", "://", 1)) is not None
            if not ok or "/" in str(origin).split("://", 1)[-1]:
                raise ValidationError(_("%(origin)s is not an origin such as https://shop.example."),
                                      params={"origin": origin})
        return [o.rstrip("/") for o in value]

    def clean_greeting(self) -> dict[str, Any]:
        return _texts_by_language(self.cleaned_data.get("greeting"), '{"en": "Hello!"}')

    def clean_consent_text(self) -> dict[str, Any]:
        return _texts_by_language(self.cleaned_data.get("consent_text"), '{"en": "I agree ..."}')

    def clean_colours(self) -> dict[str, Any]:
        value = require_object(self.cleaned_data.get("colours"), '{"primary": "#0b6bcb", "on_primary": "#ffffff"}')
        for name, colour in value.items():
            if name not in ("primary", "on_primary") or not isinstance(colour, str) or not _COLOUR.match(colour):
                raise ValidationError(_('Colours are {"primary": "#rrggbb", "on_primary": "#rrggbb"}.'))
        return value

    def clean_topics(self) -> list[dict[str, Any]]:
        value = self.cleaned_data.get("topics") or []
        if not isinstance(value, list):
            raise ValidationError(_('Give a list such as [{"code": "order", "labels": {"en": "My order"}}].'))
        codes = set()
        for topic in value:
            if not isinstance(topic, dict) or not isinstance(topic.get("code"), str) or not topic["code"].strip():
                raise ValidationError(_("Each topic needs a code."))
            if topic["code"] in codes:
                raise ValidationError(_("Topic codes must differ (%(code)s twice)."), params={"code": topic["code"]})
            codes.add(topic["code"])
            if not isinstance(topic.get("labels", {}), dict):
                raise ValidationError(_("A topic's labels are {language: text}."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        queue = data.get("queue")
        if queue is not None and "chat" not in (queue.channels or []):
            self.add_error("queue", _("This queue does not serve chat."))
        return data


@admin.register(ChatChannel)
class ChatChannelAdmin(TenantScopedAdmin):
    form = ChatChannelForm
    list_display = ("name", "public_key", "queue", "default_language", "is_active", "tenant")
    list_filter = ("tenant", "is_active")
    search_fields = ("name", "public_key")
    readonly_fields = ("embed_code",)

    @admin.display(description=_("embed code"))
    def embed_code(self, obj: ChatChannel) -> str:
        if obj.pk is None:
            return "—"
        return format_html('<code>&lt;script src="{}/static/linia/widget.js" data-channel="{}" async&gt;'
                           "&lt;/script&gt;</code>", settings.PUBLIC_URL, obj.public_key)


@admin.register(ChatSession)
class ChatSessionAdmin(TenantScopedAdmin):
    manage_perm = None
    list_display = ("id", "channel", "visitor_name", "status", "agent", "created_at", "ended_at", "tenant")
    list_filter = ("tenant", "status")
    date_hierarchy = "created_at"
    exclude = ("token_hash",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name != "token_hash"]
