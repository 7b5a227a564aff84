"""The page in the customer's language (en/ru/pl/fr) and its rate limits per token and per IP."""

from __future__ import annotations

import pytest
from django.test import Client

from linia.tickets.models import Message, Status, Ticket
from tests.customer_page.conftest import Setup, make_setup

pytestmark = pytest.mark.django_db

WORDS = {  # status "new" in plain words, the reply heading, the not-found title
    "ru": ("Получено", "Ваше сообщение", "Ссылка недействительна или устарела"),
    "pl": ("Otrzymane", "Twoja wiadomość", "Ten link jest nieprawidłowy lub wygasł"),
    "fr": ("Reçue", "Votre message", "Ce lien n’est pas valide ou a expiré"),
}


@pytest.mark.parametrize("language", ["ru", "pl", "fr"])
def test_the_page_speaks_the_tickets_language(client: Client, language: str) -> None:
    s = make_setup(language=language)
    response = client.get(s.url)
    html = response.content.decode()
    status_word, reply_label, _missing = WORDS[language]
    assert f'<html lang="{language}">' in html
    assert status_word in html and reply_label in html
    assert response["Content-Language"] == language


@pytest.mark.parametrize("language", ["ru", "pl", "fr"])
def test_the_not_found_page_follows_the_browser(client: Client, language: str) -> None:
    response = client.get("/t/unknown-token/", HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5")
    assert WORDS[language][2] in response.content.decode()


def test_without_a_ticket_language_the_browser_decides(client: Client) -> None:
    s = make_setup(language="")
    Ticket.objects.filter(pk=s.ticket.pk).update(language="")  # e.g. a ticket registered by phone
    html = client.get(s.url, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.8").content.decode()
    assert "Reçue" in html


def test_the_switcher_changes_the_language_and_remembers_it(client: Client) -> None:
    s = make_setup(language="ru")
    html = client.get(s.url).content.decode()
    assert 'href="' + s.url + '?lang=pl"' in html and 'aria-current="true"' in html
    switched = client.get(s.url + "?lang=pl")
    assert "Otrzymane" in switched.content.decode()
    assert switched.cookies["linia_customer_lang"].value == "pl"
    assert "Otrzymane" in client.get(s.url).content.decode()  # the cookie keeps the choice
    assert "Otrzymane" in client.get(s.url + "?lang=xx").content.decode()  # unknown codes are ignored


def test_errors_come_in_the_customers_language(client: Client) -> None:
    s = make_setup(language="fr", status=Status.SOLVED)
    assert "Veuillez écrire un message" in client.post(s.url + "reply/", {"body": ""}).content.decode()
    assert "Choisissez de 1 à 5 étoiles" in client.post(s.url + "rate/", {"score": "9"}).content.decode()


@pytest.fixture
def hour_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same allowances over an hour: a test's requests never straddle a window boundary (flaky)."""
    from linia.core.ratelimit import Limit
    from linia.tickets import public_views

    for name in ("VIEW_LIMITS", "WRITE_LIMITS"):
        limits = getattr(public_views, name)
        monkeypatch.setattr(public_views, name, {k: Limit(v.count, 3600) for k, v in limits.items()})


@pytest.mark.usefixtures("hour_windows")
def test_a_token_is_limited_to_60_page_views_a_minute(client: Client, setup: Setup) -> None:
    statuses = [client.get(setup.url, REMOTE_ADDR=f"10.0.0.{i % 50}").status_code for i in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429
    limited = client.get(setup.url, REMOTE_ADDR="10.0.1.1")
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert setup.ticket.reference not in limited.content.decode()
    assert limited["Referrer-Policy"] == "no-referrer"


@pytest.mark.usefixtures("hour_windows")
def test_an_ip_is_limited_across_tokens_so_guessing_is_slow(client: Client, setup: Setup) -> None:
    codes = [client.get(f"/t/guess-{i}/", REMOTE_ADDR="10.9.9.9").status_code for i in range(120)]
    assert set(codes) == {404}
    assert client.get(setup.url, REMOTE_ADDR="10.9.9.9").status_code == 429  # a valid token too
    assert client.get(setup.url, REMOTE_ADDR="10.9.9.10").status_code == 200  # another address is fine


@pytest.mark.usefixtures("hour_windows")
def test_replies_are_limited_per_token(client: Client, setup: Setup) -> None:
    codes = [client.post(setup.url + "reply/", {"body": f"spam {i}"}, REMOTE_ADDR=f"10.1.0.{i}").status_code
             for i in range(21)]
    assert codes[:20] == [303] * 20 and codes[20] == 429
    assert Message.objects.filter(body_text__startswith="spam").count() == 20
