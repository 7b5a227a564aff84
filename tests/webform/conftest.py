from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.test.client import MULTIPART_CONTENT
from django.utils import timezone

from linia.core.models import Tenant
from linia.directory.models import Store
from linia.intake.webform.models import WebForm
from tests import factories as f

TOKEN_RE = re.compile(r'name="_lf_token" value="([^"]+)"')

FULL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 100},
        "bio": {"type": "string", "maxLength": 2000},
        "email": {"type": "string", "format": "email"},
        "phone": {"type": "string", "format": "phone"},
        "colour": {"type": "string", "enum": ["red", "green"]},
        "extras": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}, "uniqueItems": True,
                   "maxItems": 2},
        "when": {"type": "string", "format": "date-time"},
        "count": {"type": "integer", "minimum": 1, "maximum": 5},
        "store": {"type": "string", "format": "store"},
        "pickup_date": {"type": "string", "format": "date"},
        "pickup_time": {"type": "string", "format": "time"},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string", "enum": ["Margherita", "Pepperoni"]},
            "qty": {"type": "integer", "minimum": 1, "maximum": 5}}}},
        "doc": {"type": "string", "format": "file"},
        "code": {"type": "string", "pattern": r"^\d{4}$"},
        "consent": {"type": "boolean", "const": True},
    },
    "required": ["name", "consent"],
}
FULL_UI: dict[str, Any] = {
    "order": ["name", "email", "phone"],
    "fields": {
        "name": {"label": {"en": "Your name", "ru": "Ваше имя", "pl": "Imię", "fr": "Votre nom"}},
        "bio": {"widget": "textarea"},
        "colour": {"widget": "radio", "choices": {"red": {"en": "Red", "pl": "Czerwony"}}},
        "items": {"choices": {"Margherita": {"pl": "Margherita PL"}}},
        "doc": {"accept": [".pdf", ".png", ".exe"], "max_mb": 0.01},
        "code": {"error": {"en": "Four digits, please.", "pl": "Cztery cyfry."}},
    },
    "checks": [{"check": "store_hours", "store": "store", "date": "pickup_date", "time": "pickup_time"}],
}


@dataclass
class World:
    tenant: Tenant
    other: Tenant
    warsaw: Store
    vladivostok: Store
    foreign_store: Store
    form: WebForm
    foreign_form: WebForm
    client: Client

    def page(self, key: str | None = None, lang: str = "en", **extra: Any) -> tuple[int, str, str]:
        response = self.client.get(f"/forms/{key or self.form.public_key}/?lang={lang}", **extra)
        html = response.content.decode()
        match = TOKEN_RE.search(html)
        return response.status_code, html, match.group(1) if match else ""

    def post(self, data: dict[str, Any], *, key: str | None = None, lang: str = "en", token: str | None = None,
             **extra: Any) -> Any:
        key = key or self.form.public_key
        if token is None:
            token = self.page(key, lang)[2]
        body = {"_lf_token": token, "_lf_lang": lang, **data}
        return self.client.post(f"/forms/{key}/", body, content_type=MULTIPART_CONTENT, **extra)


def tomorrow_at(store: Store, hour: int, minute: int = 0) -> tuple[str, str]:
    """(date, time) strings for tomorrow in the store's time zone."""
    day = (timezone.now().astimezone(ZoneInfo(store.time_zone)) + timedelta(days=1)).date()
    return day.isoformat(), f"{hour:02d}:{minute:02d}"


def local(store: Store, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(store.time_zone))


@pytest.fixture(autouse=True)
def _no_wait(settings: Any) -> None:
    settings.LINIA_WEBFORM_MIN_SECONDS = 0


def make_form(tenant: Tenant, key: str, **kw: Any) -> WebForm:
    defaults: dict[str, Any] = {"name": "Full form", "titles": {"en": "Full form", "pl": "Pełny formularz"},
                                "schema": FULL_SCHEMA, "ui": FULL_UI, "subject": "Request from {name}",
                                "allowed_origins": ["https://shop.example.com"]}
    defaults.update(kw)
    return WebForm.objects.create(tenant=tenant, public_key=key, **defaults)


@pytest.fixture
def world(db: None) -> World:
    tenant = f.tenant("alfa", name="Alfa Market", ticket_prefix="ALF", default_language="pl")
    other = f.tenant("beta", name="Beta Foods", ticket_prefix="BET", default_language="en", time_zone="Europe/London")
    warsaw = f.store(tenant, "W-1", name="Mokotów", city="Warszawa", time_zone="Europe/Warsaw",
                     opening_hours={d: ["08:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    vladivostok = f.store(tenant, "V-1", name="Svetlanskaya", city="Vladivostok", time_zone="Asia/Vladivostok",
                          opening_hours={d: ["09:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    foreign_store = f.store(other, "B-1", name="Beta Soho", city="London", time_zone="Europe/London")
    form = make_form(tenant, "alfa-full")
    foreign_form = make_form(other, "beta-full", name="Beta form")
    return World(tenant, other, warsaw, vladivostok, foreign_store, form, foreign_form, Client())
