"""Demo shop pages: one per demo tenant, in its language, with the chat widget tag and only its own data."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linia.directory.models import Product
from linia.intake.webform.models import WebForm
from tests import factories as f

pytestmark = pytest.mark.django_db


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_shop_index_lists_the_demo_tenants_only() -> None:
    f.tenant("quickdrop", name="QuickDrop")
    f.tenant("vostok-market", name="Восток-Маркет")
    f.tenant("acme", name="Acme Other")
    html = _page(Client(), "/shop/")
    assert 'href="/shop/quickdrop/"' in html and 'href="/shop/vostok-market/"' in html
    assert "Acme Other" not in html


def test_shop_page_has_the_widget_tag_in_the_tenants_language_and_only_its_stores() -> None:
    vostok = f.tenant("vostok-market", name="Восток-Маркет")
    other = f.tenant("dyskont-pl", name="Dyskont PL")
    f.store(vostok, "VL-001", name="Светланская", city="Владивосток", time_zone="Asia/Vladivostok",
            opening_hours={d: ["08:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    f.store(other, "WA-001", name="Mokotów Galeria", city="Warszawa", time_zone="Europe/Warsaw")
    Product.objects.create(tenant=vostok, sku="460001", name="Молоко 3,2%", attributes={"brand": "Восток"})
    Product.objects.create(tenant=other, sku="590001", name="Mleko UHT")
    html = _page(Client(), "/shop/vostok-market/")
    assert '<html lang="ru">' in html
    tag = re.search(r'<script src="(/static/linia/widget\.js)" data-channel="demo-vostok-market" async></script>', html)
    assert tag, "the one-tag embed"
    assert "Светланская" in html and "ежедневно 08:00-22:00" in html and "Молоко 3,2%" in html
    assert "Mokotów" not in html and "Mleko" not in html
    assert 'data-lang="ru"' in _page(Client(), "/shop/vostok-market/?lang=ru")
    assert "data-lang" not in _page(Client(), "/shop/vostok-market/?lang=xx").split("widget.js")[1]


def test_unknown_or_non_demo_shop_is_404() -> None:
    f.tenant("acme", name="Acme")
    assert Client().get("/shop/acme/").status_code == 404
    assert Client().get("/shop/nope/").status_code == 404
    assert Client().get("/shop/quickdrop/").status_code == 404  # demo not seeded


def test_widget_script_is_served() -> None:
    response = Client().get("/static/linia/widget.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    assert b"data-channel" in body


def test_shop_page_embeds_the_tenants_active_web_forms_only() -> None:
    shop = f.tenant("quickdrop", name="QuickDrop")
    other = f.tenant("maison-mode", name="Maison Mode")
    WebForm.objects.create(tenant=shop, public_key="demo-quickdrop-refund", name="Refund",
                           titles={"en": "Refund request", "fr": "Remboursement"})
    WebForm.objects.create(tenant=shop, public_key="demo-quickdrop-old", name="Old form", is_active=False)
    WebForm.objects.create(tenant=other, public_key="demo-maison-mode-refund", name="Retour")
    html = _page(Client(), "/shop/quickdrop/")
    embeds = re.findall(r'<script src="/static/linia/form\.js" data-form="([^"]+)" data-lang="en" '
                        r'data-title="([^"]+)" async></script>', html)
    assert embeds == [("demo-quickdrop-refund", "Refund request")]
