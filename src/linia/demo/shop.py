"""Demo shop pages: each demo tenant's own website, in its language, with the chat widget and its web forms.

They stand in for the client's real site: the widget tag and the form embeds are exactly what a client would
paste into its pages (public keys "demo-<slug>" for the chat channel and "demo-<slug>-<form>" for the forms).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from linia.core.models import Tenant
from linia.demo.common import describe_hours
from linia.directory.models import Product, Promotion, Store
from linia.intake.webform.models import WebForm

PRODUCTS = 8
STORES = 6


@dataclass(frozen=True)
class ShopText:
    """The shop's own wording (a site is written in its language, not translated by Linia)."""

    language: str
    tagline: str
    intro: str
    products: str
    stores: str
    forms: str
    promotions: str
    chat_hint: str
    hours: str
    colour: str


SHOPS: dict[str, ShopText] = {
    "vostok-market": ShopText(
        "ru", "Свежие продукты рядом с домом", "Более 400 магазинов от Владивостока до Москвы. Заказывайте пиццу "
        "заранее и забирайте в удобное время.", "Популярные товары", "Наши магазины", "Заказы и обращения",
        "Акции", "Вопросы? Напишите нам в чат — кнопка в правом нижнем углу.", "Часы работы", "#c0392b"),
    "dyskont-pl": ShopText(
        "pl", "Niskie ceny każdego dnia", "Sklepy w całej Polsce. Sprawdź promocje tygodnia i najbliższy sklep.",
        "Polecane produkty", "Nasze sklepy", "Formularze", "Promocje",
        "Masz pytanie? Napisz do nas na czacie — przycisk w prawym dolnym rogu.", "Godziny otwarcia", "#1d6b2f"),
    "maison-mode": ShopText(
        "fr", "La mode à la française", "Boutiques à Paris, Lyon et partout en France. Retours gratuits sous 30 "
        "jours.", "Nouveautés", "Nos boutiques", "Vos demandes", "Offres",
        "Une question ? Écrivez-nous sur le chat, en bas à droite.", "Horaires", "#6d2e8c"),
    "quickdrop": ShopText(
        "en", "Parcels delivered the same day", "Next-day and same-day delivery across the UK. Track a parcel, "
        "ask for a refund or join our drivers.", "Popular services", "Depots", "Requests", "Offers",
        "Questions? Chat with us: the button at the bottom right.", "Opening hours", "#0b6bcb"),
}


def _shop_tenants() -> list[Tenant]:
    by_slug = {t.slug: t for t in Tenant.objects.filter(slug__in=SHOPS, is_active=True)}
    return [by_slug[slug] for slug in SHOPS if slug in by_slug]


def _forms(tenant: Tenant, language: str) -> list[dict[str, str]]:
    """The tenant's active web forms, the food pre-order first (the demo's main story), then by name."""
    forms = WebForm.objects.filter(tenant=tenant, is_active=True).select_related("tenant")
    ordered = sorted(forms, key=lambda f: ("preorder" not in f.public_key, f.name))
    return [{"key": f.public_key, "title": f.text("titles", language, f.name)} for f in ordered]


def shop_index(request: HttpRequest) -> HttpResponse:
    shops = [{"tenant": t, "text": SHOPS[t.slug]} for t in _shop_tenants()]
    return render(request, "shop/index.html", {"shops": shops})


def shop_page(request: HttpRequest, slug: str) -> HttpResponse:
    text = SHOPS.get(slug)
    tenant = get_object_or_404(Tenant, slug=slug, is_active=True) if text else None
    if tenant is None or text is None:
        return render(request, "shop/index.html", {"shops": [], "missing": slug}, status=404)
    today = timezone.localdate()
    stores = [{"store": s, "hours": describe_hours(s.opening_hours or {}, text.language)}
              for s in Store.objects.filter(tenant=tenant, is_active=True).order_by("code")[:STORES]]
    promotions = [p.texts.get(text.language) or p.title
                  for p in Promotion.objects.filter(tenant=tenant, starts_on__lte=today, ends_on__gte=today)[:3]]
    widget_lang = request.GET.get("lang", "")
    context: dict[str, Any] = {
        "tenant": tenant, "text": text, "stores": stores, "promotions": promotions,
        "products": Product.objects.filter(tenant=tenant).order_by("sku")[:PRODUCTS],
        "forms": _forms(tenant, text.language),
        "channel_key": f"demo-{slug}",
        # The widget follows the visitor's browser unless the page asks for a language (?lang=ru).
        "widget_lang": widget_lang if widget_lang in settings.CUSTOMER_LANGUAGES else "",
    }
    return render(request, "shop/shop.html", context)
