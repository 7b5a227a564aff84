from __future__ import annotations

from django.urls import path, re_path

from linia.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.landing, name="landing"),
    path("tickets/", views.ticket_list, name="tickets"),
    re_path(r"^tickets/export\.(?P<fmt>csv|xlsx)$", views.ticket_export, name="tickets_export"),
    path("report/", views.report, name="report"),
    path("tickets/<int:pk>/", views.ticket_view, name="ticket"),
    path("tickets/<int:pk>/message/", views.ticket_message, name="ticket_message"),
    path("tickets/<int:pk>/confirm/", views.ticket_confirm, name="ticket_confirm"),
    path("tickets/<int:pk>/reopen/", views.ticket_reopen, name="ticket_reopen"),
    path("tickets/<int:pk>/status/", views.ticket_status, name="ticket_status"),
    path("tickets/<int:pk>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
