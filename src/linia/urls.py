from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language
from django.views.static import serve

from linia.api.api import api
from linia.core.health import healthz
from linia.portal import views as portal_views

urlpatterns = [
    path("healthz", healthz, name="healthz"),  # for load balancers and supervisors (docs/operations.md)
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/login/", portal_views.LoginView.as_view(), name="login"),  # lands by role (portal or desk)
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("chat/", include("linia.intake.chat.urls")),
    path("forms/", include("linia.intake.webform.urls")),
    path("portal/", include("linia.portal.urls")),
    path("t/", include("linia.tickets.urls")),
    path("shop/", include("linia.demo.urls")),  # demo shop pages (chat widget, web forms)  # the customer's private ticket page
    path("", include("linia.desk.urls")),
]
if settings.DEBUG:
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
