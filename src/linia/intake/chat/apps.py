from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "linia.intake.chat"
    label = "chat"
    verbose_name = "Chat"
