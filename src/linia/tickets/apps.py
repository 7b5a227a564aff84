from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "linia.tickets"
    label = "tickets"
