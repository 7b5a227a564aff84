from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "linia.directory"
    label = "directory"
