from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "linia.core"
    label = "core"
    verbose_name = "Linia core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from linia.core.pgsession import unprepared_orm

        connection_created.connect(unprepared_orm, dispatch_uid="linia-unprepared-orm")
