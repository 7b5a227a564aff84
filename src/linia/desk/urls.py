from __future__ import annotations

from django.urls import path

from linia.desk import views

app_name = "desk"
urlpatterns = [
    path("", views.home, name="home"),
    path("tickets/", views.home, name="tickets"),
]
