from django.apps import AppConfig


class EmailConfig(AppConfig):
    name = "linia.intake.email"
    label = "intake_email"
    verbose_name = "Email"
