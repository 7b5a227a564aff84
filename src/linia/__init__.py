"""Linia: contact-center and service-desk platform for retail chains."""

__version__ = "0.1.0"
