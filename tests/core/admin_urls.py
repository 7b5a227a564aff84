"""Only the admin, so admin tests do not depend on other apps' URL modules."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
