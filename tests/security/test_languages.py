"""One language rule on every customer surface (linia.core.languages.pick): ?lang= first, then the browser's
Accept-Language by quality, then the channel's / form's / tenant's language; hostile headers fall back safely."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.chat.conftest import SHOP, Chat
from tests.security.conftest import FEW

pytestmark = pytest.mark.django_db


def chat_language(accept: str, query: str = "") -> str:
    response = Client().get(f"/chat/api/pk_spar/config{query}", HTTP_ORIGIN=SHOP, HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    return str(response.json()["language"])


def not_found_language(accept: str, query: str = "") -> str:
    response = Client().get(f"/t/no-such-token/{query}", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 404
    return str(response["Content-Language"])


def test_quality_order_and_query_win(chat: Chat) -> None:
    for language_of in (chat_language, not_found_language):
        assert language_of("de, fr;q=0.5, pl;q=0.9") == "pl"  # by quality, not by position
        assert language_of("pl-PL,pl;q=0.9", "?lang=fr") == "fr"
    assert chat_language("de, ja") == "ru"  # the channel's language
    assert not_found_language("de, ja") == "en"  # no ticket: English


@FEW
@given(accept=st.text(max_size=600).filter(lambda v: v.isprintable() and v.isascii()), lang=st.text(max_size=20))
def test_any_header_or_lang_gives_a_customer_language(chat: Chat, accept: str, lang: str) -> None:
    from urllib.parse import quote

    query = "?lang=" + quote(lang.encode("utf-8", "surrogatepass"), safe="")
    assert chat_language(accept, query) in ("en", "ru", "pl", "fr")
    assert not_found_language(accept, query) in ("en", "ru", "pl", "fr")
