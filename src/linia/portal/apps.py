from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "linia.portal"
    label = "portal"
    verbose_name = "Portal"
