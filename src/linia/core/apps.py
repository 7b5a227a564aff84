from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "linia.core"
    label = "core"
    verbose_name = "Linia core"
