"""The demo's chat channels: one per demo tenant, key "demo-<slug>" (the demo shop page embeds it), with the
tenant's chat queue, its own greeting and colours. Idempotent: an existing channel is kept as it is."""

from __future__ import annotations

from django.conf import settings

from linia.core.models import Tenant
from linia.intake.chat.actions import ensure_chat_channel

TOPICS = [
    {"code": "order", "labels": {"en": "My order", "ru": "Мой заказ", "pl": "Moje zamówienie", "fr": "Ma commande"}},
    {"code": "delivery", "labels": {"en": "Delivery", "ru": "Доставка", "pl": "Dostawa", "fr": "Livraison"}},
    {"code": "store", "labels": {"en": "A store", "ru": "Магазин", "pl": "Sklep", "fr": "Un magasin"}},
    {"code": "other", "labels": {"en": "Something else", "ru": "Другое", "pl": "Inne", "fr": "Autre chose"}},
]
LOOKS = {  # slug: (primary colour: the demo shop page's, greeting)
    "vostok-market": ("#c0392b", {"ru": "Здравствуйте! Чем мы можем помочь?", "en": "Hello! How can we help?"}),
    "dyskont-pl": ("#1d6b2f", {"pl": "Dzień dobry! W czym możemy pomóc?", "en": "Hello! How can we help?"}),
    "maison-mode": ("#6d2e8c", {"fr": "Bonjour ! Comment pouvons-nous vous aider ?", "en": "Hello! How can we help?"}),
    "quickdrop": ("#0b6bcb", {"en": "Hi! Where can we help with your delivery?"}),
}
DEMO_ORIGINS = ["http://localhost:8000", "http://127.0.0.1:8000"]


def seed_chat_channels(tenants: list[Tenant]) -> None:
    origins = sorted({settings.PUBLIC_URL, *DEMO_ORIGINS})
    for tenant in tenants:
        colour, greeting = LOOKS.get(tenant.slug, ("#0b6bcb", {"en": "Hello! How can we help?"}))
        ensure_chat_channel(tenant, name=f"{tenant.name}", greeting=greeting, topics=TOPICS, allowed_origins=origins,
                            colours={"primary": colour, "on_primary": "#ffffff"})
