from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.test import Client

import linia
from tests.desk.conftest import Desk

LOCALE = Path(linia.__file__).parent / "locale"
LANGS = ("ru", "pl")


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str | None, str]:
    return entry.msgctxt, entry.msgid


@pytest.mark.parametrize("lang", LANGS)
def test_mo_file_matches_po_file(lang: str) -> None:
    po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
    mo = polib.mofile(str(LOCALE / lang / "LC_MESSAGES" / "django.mo"))
    compiled = {_key(e): (e.msgstr, e.msgstr_plural) for e in mo}
    for entry in po.translated_entries():
        assert _key(entry) in compiled, f"{lang}: {entry.msgid!r} is not compiled; run compilemessages"
        msgstr, plural = compiled[_key(entry)]
        if entry.msgid_plural:
            assert {int(k): v for k, v in plural.items()} == {int(k): v for k, v in entry.msgstr_plural.items()}
        else:
            assert msgstr == entry.msgstr, f"{lang}: {entry.msgid!r} differs in the .mo; run compilemessages"


@pytest.mark.parametrize("lang", LANGS)
def test_desk_strings_are_all_translated(lang: str) -> None:
    po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
    desk_entries = [e for e in po if not e.obsolete and any(
        path.startswith(("templates/", "desk/")) for path, _line in e.occurrences)]
    assert len(desk_entries) > 150
    untranslated = [e.msgid for e in desk_entries if "fuzzy" in e.flags or not (
        all(e.msgstr_plural.values()) if e.msgid_plural else e.msgstr)]
    assert untranslated == []


@pytest.mark.django_db
def test_language_switch_renders_russian_and_polish(desk: Desk) -> None:
    response = desk.client.post("/i18n/setlang/", {"language": "ru", "next": "/tickets/"})
    assert response.status_code == 302
    page = desk.client.get("/tickets/").content.decode()
    assert "Заявки" in page and "Новая заявка" in page and "Справочник" in page and "Новая" in page
    assert '<html lang="ru">' in page
    desk.client.post("/i18n/setlang/", {"language": "pl", "next": "/tickets/"})
    page = desk.client.get(f"/tickets/{desk.ticket.pk}/").content.decode()
    assert "Odpowiedź publiczna" in page and "Notatka wewnętrzna" in page and "Zapisz zmiany" in page
    directory = desk.client.get("/directory/", {"q": "Svetlanskaya"}).content.decode()
    assert "Poniedziałek" in directory and ("Otwarte · zamknięcie" in directory or "Zamknięte · otwarcie" in directory)


@pytest.mark.django_db
def test_login_page_in_polish_and_user_language_preference(desk: Desk) -> None:
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="pl")
    assert "Nazwa użytkownika" in anonymous.get("/accounts/login/").content.decode()
    desk.agent.language = "ru"
    desk.agent.save()
    assert "Выйти" in desk.client.get("/tickets/").content.decode()


APP_CATALOGS = sorted(p for p in Path(linia.__file__).parent.glob("**/locale/*/LC_MESSAGES/django.po")
                      if p.parents[2] != LOCALE)


def test_apps_keep_their_own_catalogs() -> None:
    assert len(APP_CATALOGS) >= 9  # tickets, chat, webform, portal ... each in ru, pl and fr


@pytest.mark.parametrize("path", APP_CATALOGS, ids=lambda p: "/".join(p.parts[-6:-2]))
def test_every_app_catalog_is_translated_and_compiled(path: Path) -> None:
    """An app with a locale/ dir of its own gets every string of its files there (makemessages puts them
    there, not in the project catalog), so each such catalog must be complete and compiled."""
    po = polib.pofile(str(path))
    missing = [e.msgid for e in po if not e.obsolete and ("fuzzy" in e.flags or not (
        all(e.msgstr_plural.values()) if e.msgid_plural else e.msgstr))]
    assert missing == [], f"{path}: untranslated {missing[:10]}"
    compiled = {_key(e): e.msgstr for e in polib.mofile(str(path.with_suffix(".mo")))}
    stale = [e.msgid for e in po.translated_entries() if not e.msgid_plural and compiled.get(_key(e)) != e.msgstr]
    assert stale == [], f"{path}: run compilemessages ({stale[:5]})"


@pytest.mark.parametrize(("lang", "normal", "solved"), [("ru", "Обычный", "Решена"), ("pl", "Normalny", "Rozwiązane"),
                                                       ("fr", "Normale", "Résolue")])
def test_ticket_choices_speak_every_language(lang: str, normal: str, solved: str) -> None:
    from django.utils import translation

    from linia.tickets.models import Priority, Status

    with translation.override(lang):
        assert (str(Priority.NORMAL.label), str(Status.SOLVED.label)) == (normal, solved)
