"""The chat widget's HTTP endpoints under /chat/ (docs/chat.md)."""

from __future__ import annotations

from django.urls import path

from linia.intake.chat import views

app_name = "chat"
urlpatterns = [
    path("api/<str:key>/config", views.config, name="config"),
    path("api/<str:key>/sessions", views.start, name="start"),
    path("api/<str:key>/sessions/<str:token>/files", views.upload, name="upload"),
    path("api/<str:key>/sessions/<str:token>/files/<int:seq>", views.download, name="file"),
    path("api/<str:key>/sessions/<str:token>/transcript", views.transcript, name="transcript"),
    path("api/<str:key>/sessions/<str:token>/rating", views.rating, name="rating"),
]
