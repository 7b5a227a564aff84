"""A few canned chat responses per demo tenant, in the tenant's language, with placeholders the desk fills
({customer_name}, {agent_name}, {store_hours}, {ticket_number}). Idempotent: kept by (tenant, language,
shortcut), so a text an admin edited is not overwritten."""

from __future__ import annotations

from linia.core.models import Tenant
from linia.desk.models import CannedResponse

# language: [(shortcut, title, body)]
TEXTS: dict[str, list[tuple[str, str, str]]] = {
    "en": [
        ("hello", "Greeting", "Hello {customer_name}, this is {agent_name}. How can I help you?"),
        ("hours", "Store hours", "Our store is open: {store_hours}."),
        ("ticket", "Ticket number", "I have registered your request as {ticket_number}; we will keep you posted."),
        ("wait", "One moment", "Thank you, {customer_name}. One moment please, I am checking this for you."),
        ("bye", "Goodbye", "Is there anything else I can do for you? Have a nice day!"),
    ],
    "ru": [
        ("hello", "Приветствие", "Здравствуйте, {customer_name}! Меня зовут {agent_name}. Чем могу помочь?"),
        ("hours", "Часы работы", "Наш магазин работает: {store_hours}."),
        ("ticket", "Номер обращения", "Я зарегистрировал(а) ваше обращение под номером {ticket_number}, "
                                      "мы сообщим вам о ходе решения."),
        ("wait", "Минутку", "Спасибо, {customer_name}. Минутку, пожалуйста, я уточняю информацию."),
        ("bye", "Прощание", "Могу ли я помочь чем-то ещё? Хорошего дня!"),
    ],
    "pl": [
        ("hello", "Powitanie", "Dzień dobry, {customer_name}! Nazywam się {agent_name}. W czym mogę pomóc?"),
        ("hours", "Godziny otwarcia", "Nasz sklep jest otwarty: {store_hours}."),
        ("ticket", "Numer zgłoszenia", "Zarejestrowałem/am Pana/Pani zgłoszenie pod numerem {ticket_number}; "
                                       "będziemy informować o postępach."),
        ("wait", "Chwileczkę", "Dziękuję, {customer_name}. Proszę o chwilę cierpliwości, sprawdzam to."),
        ("bye", "Pożegnanie", "Czy mogę pomóc w czymś jeszcze? Miłego dnia!"),
    ],
    "fr": [
        ("hello", "Accueil", "Bonjour {customer_name}, je suis {agent_name}. Comment puis-je vous aider ?"),
        ("hours", "Horaires du magasin", "Notre magasin est ouvert : {store_hours}."),
        ("ticket", "Numéro de demande", "J'ai enregistré votre demande sous le numéro {ticket_number} ; "
                                        "nous vous tiendrons informé(e)."),
        ("wait", "Un instant", "Merci, {customer_name}. Un instant s'il vous plaît, je vérifie pour vous."),
        ("bye", "Au revoir", "Puis-je faire autre chose pour vous ? Bonne journée !"),
    ],
}


def seed_canned_responses(tenants: list[Tenant]) -> int:
    """Returns how many were added."""
    added = 0
    for tenant in tenants:
        language = tenant.default_language if tenant.default_language in TEXTS else "en"
        for shortcut, title, body in TEXTS[language]:
            _row, created = CannedResponse.objects.get_or_create(
                tenant=tenant, language=language, shortcut=shortcut, defaults={"title": title, "body": body})
            added += created
    return added
