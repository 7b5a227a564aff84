from django.apps import AppConfig


class WebformConfig(AppConfig):
    name = "linia.intake.webform"
    label = "webform"
    verbose_name = "Web forms"
