"""Public web forms: /forms/<key>/ (the page and its posts), the confirmation and the store search."""

from __future__ import annotations

from django.urls import path

from linia.intake.webform import views

app_name = "webform"
urlpatterns = [
    path("<str:key>/", views.form_view, name="form"),
    path("<str:key>/done/<str:blob>/", views.done_view, name="done"),
    path("<str:key>/stores/", views.stores_view, name="stores"),
]
