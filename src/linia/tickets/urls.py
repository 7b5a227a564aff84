"""The customer's private ticket page: /t/<token>/ (views in linia.tickets.public_views)."""

from __future__ import annotations

from django.urls import path

from linia.tickets import public_views

app_name = "customer"
urlpatterns = [
    path("<str:token>/", public_views.ticket_page, name="ticket"),
    path("<str:token>/reply/", public_views.reply, name="reply"),
    path("<str:token>/rate/", public_views.rate, name="rate"),
    path("<str:token>/files/<int:attachment_id>/", public_views.file, name="file"),
]
