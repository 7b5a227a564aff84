from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "linia.intake.voice"
    label = "voice"
    verbose_name = "Voice"
