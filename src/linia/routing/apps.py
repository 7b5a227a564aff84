from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "linia.routing"
    label = "routing"
    verbose_name = "Routing"
