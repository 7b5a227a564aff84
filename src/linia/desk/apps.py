from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "linia.desk"
    label = "desk"
