from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "linia.desk"
    label = "desk"

    def ready(self) -> None:
        from linia.desk import access

        access.connect()
