"""Charset rules on their own: mislabelled and undeclared Cyrillic, Latin-1/2 labels on Windows bytes."""

from __future__ import annotations

import pytest

from linia.intake.email.charsets import decode, normalize

RU = "Здравствуйте! Мой заказ номер 12345 до сих пор не доставлен. Прошу разобраться, спасибо."
FR = "Bonjour, je n'ai pas reçu ma commande. Merci de vérifier où elle est. À bientôt"
PL = "Dzień dobry, nie otrzymałem zamówienia. Proszę o sprawdzenie. Dziękuję, Łukasz Świątek"


@pytest.mark.parametrize(("text", "encoding", "label", "fixed"), [
    (RU, "cp1251", "windows-1251", False), (RU, "koi8_r", "koi8-r", False),
    (RU, "cp1251", "koi8-r", True), (RU, "koi8_r", "windows-1251", True), (RU, "cp1251", "iso-8859-1", True),
    (RU, "utf-8", "windows-1251", True), (RU, "cp1251", "utf-8", True), (RU, "cp1251", None, True),
    (RU, "koi8_r", None, True), (RU, "cp1251", "x-no-such-charset", True),
    (FR, "cp1252", "iso-8859-1", False), (PL, "iso8859_2", "iso-8859-2", False), (PL, "cp1250", "iso-8859-2", True),
    ("Grüße aus München", "cp1252", "iso-8859-1", False), ("Café – “quotes”", "cp1252", "windows-1252", False),
    ("Привет", "cp1251", "koi8-r", True), ("Бухгалтерия", "koi8_r", "windows-1251", True),
    ("СРОЧНО ЗАКАЗ", "cp1251", "windows-1251", False), ("СРОЧНО ЗАКАЗ", "koi8_r", "koi8-r", False),
    ("ОК", "koi8_r", "koi8-r", False), ("ОК", "cp1251", "windows-1251", False), ("plain ascii", "ascii", "koi8-r", False),
])
def test_decode(text: str, encoding: str, label: str | None, fixed: bool) -> None:
    decoded, defect = decode(text.encode(encoding), label)
    assert decoded == text
    assert (defect is not None) == fixed, defect


def test_labels() -> None:
    assert normalize("Windows-1251") == "cp1251"
    assert normalize("win-1251") == "cp1251"
    assert normalize('"KOI8-R"') == "koi8_r"
    assert normalize("utf-8*ru") == "utf_8"
    assert normalize("iso-8859-1") == "cp1252"
    assert normalize("x-unknown") is None
    assert normalize("no-such-thing") is None
    assert normalize(None) is None
