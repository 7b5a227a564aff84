"""Pages the demo serves for trying the customer side: a shop page with the chat widget and web forms."""

from __future__ import annotations

from django.urls import path

from linia.demo import shop

app_name = "shop"
urlpatterns = [
    path("", shop.shop_index, name="index"),
    path("<slug:slug>/", shop.shop_page, name="page"),
]
