"""The names a user is shown by: on the desk and portal (display_name) and in greetings (greeting_name)."""

from __future__ import annotations

from linia.core.models import User


def test_display_name_is_the_full_name_else_the_login() -> None:
    assert User(username="anna.k", first_name="Anna", last_name="Kowalska").display_name == "Anna Kowalska"
    assert User(username="anna.k", first_name="Anna").display_name == "Anna"
    assert User(username="anna.k").display_name == "anna.k"


def test_greeting_name_is_the_first_name_else_the_display_name() -> None:
    assert User(username="anna.k", first_name="Anna", last_name="Kowalska").greeting_name == "Anna"
    assert User(username="anna.k", last_name="Kowalska").greeting_name == "Kowalska"
    assert User(username="anna.k").greeting_name == "anna.k"
