"""Typo-tolerant store search: normalisation, typos, transliteration, ranking, cities."""

from __future__ import annotations

import pytest

from linia.directory.fuzzy import StoreIndex, StoreRow, city_matches, normalize, tokens

ROWS = [
    StoreRow(1, "VL-001", "Самбери Светланская", "Владивосток", "ул. Светланская, 29", "Приморский край"),
    StoreRow(2, "VL-002", "Самбери Океанский", "Владивосток", "Океанский проспект, 90", "Приморский край"),
    StoreRow(3, "KH-001", "Самбери Ленина", "Хабаровск", "ул. Ленина, 1", "Хабаровский край"),
    StoreRow(4, "PL-0042", "Biedronka Piotrkowska", "Łódź", "ul. Piotrkowska 12", "łódzkie"),
    StoreRow(5, "PL-0043", "Biedronka Prosta", "Warszawa", "ul. Prosta 5", "mazowieckie"),
    StoreRow(6, "PL-0044", "Biedronka Marszałkowska", "Warszawa", "ul. Marszałkowska 100", "mazowieckie"),
    StoreRow(7, "PL-0045", "Biedronka Prostka", "Kraków", "ul. Długa 3", "małopolskie"),
    StoreRow(8, "FR-01", "Mode Rivoli", "Paris", "12 rue de Rivoli", "Île-de-France"),
]


@pytest.fixture(scope="module")
def index() -> StoreIndex:
    return StoreIndex(ROWS)


def ids(index: StoreIndex, query: str, **kw: str) -> list[int]:
    return [m.id for m in index.search(query, **kw)]  # type: ignore[arg-type]


def test_normalize_strips_diacritics_and_transliterates() -> None:
    assert normalize("Łódź Żółć") == "lodz zolc"
    assert normalize("Владивосток") == "vladivostok"
    assert normalize("Хабаровск") == "khabarovsk"
    assert normalize("Île-de-France") == "ile-de-france"
    assert tokens("ul. Marszałkowska 100") == ["ul", "marszalkowska", "100"]


@pytest.mark.parametrize("query", ["vladivostok", "Владивосток", "Vladivostk", "VLADIWOSTOK", "Владивасток"])
def test_city_in_any_script_and_with_typos(index: StoreIndex, query: str) -> None:
    assert sorted(ids(index, query)) == [1, 2]


@pytest.mark.parametrize(("query", "expected"), [
    ("lodz", [4]),
    ("Łódź piotrkowska", [4]),
    ("piotrkowska 12", [4]),
    ("marszalkowska", [6]),
    ("Marszałkowska", [6]),
    ("marszlakowska", [6]),  # swapped letters
    ("habarovsk lenina", [3]),
    ("svetlanskaya", [1]),
    ("okeanskiy", [2]),
    ("rivoli", [8]),
    ("ul. prosta 5", [5]),
])
def test_typos_diacritics_and_street_words(index: StoreIndex, query: str, expected: list[int]) -> None:
    assert ids(index, query)[: len(expected)] == expected


def test_every_token_must_match(index: StoreIndex) -> None:
    assert ids(index, "warszawa prosta") == [5]
    assert ids(index, "warszawa lenina") == []


def test_exact_code_ranks_first_and_codes_need_no_typos(index: StoreIndex) -> None:
    result = index.search("pl-0042")
    assert result[0].id == 4 and result[0].score > 100
    assert ids(index, "PL0042")[0] == 4
    assert 5 not in ids(index, "PL0042")  # a one-digit difference is another store, not a typo


def test_exact_beats_fuzzy(index: StoreIndex) -> None:
    result = index.search("prosta")
    assert [m.id for m in result[:2]] == [5, 7]  # "Prosta" exactly, then "Prostka" by one edit
    assert result[0].score > result[1].score


def test_prefix_while_typing(index: StoreIndex) -> None:
    assert sorted(ids(index, "warsz")) == [5, 6]
    assert sorted(ids(index, "влад")) == [1, 2]


def test_empty_and_no_match(index: StoreIndex) -> None:
    assert index.search("") == []
    assert index.search("  ,. ") == []
    assert index.search("zzzzqqq") == []
    assert StoreIndex([]).search("warszawa") == []


def test_city_filter_and_city_lookup(index: StoreIndex) -> None:
    assert ids(index, "", city="Warszwa") == [5, 6]
    assert ids(index, "biedronka", city="warszawa") == [6, 5]  # equal scores: by name
    assert ids(index, "biedronka", city="Krakow") == [7]
    assert index.city_ids("Владивосток") == [1, 2]
    assert index.city_ids("Habarovsk") == [3]
    assert index.city_ids("Berlin") == []
    assert index.city_spellings("lodz") == ["Łódź"] and index.city_spellings("Berlin") == []
    assert city_matches("Warszwa", "Warszawa") and not city_matches("Kraków", "Warszawa")


def test_limit(index: StoreIndex) -> None:
    assert len(index.search("biedronka", limit=2)) == 2


def test_ranks_the_right_store_first_among_thousands() -> None:
    cities = ["Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Владивосток", "Хабаровск", "Находка"]
    streets = ["Prosta", "Długa", "Kościuszki", "Mickiewicza", "Piłsudskiego", "Ленина", "Светланская"]
    rows = [StoreRow(i, f"S{i:05d}", f"Sklep {i}", cities[i % len(cities)],
                     f"ul. {streets[(i // len(cities)) % len(streets)]} {i // 56 + 1}", "")
            for i in range(2600)]
    index = StoreIndex(rows)
    # Each (city, street, number) is unique: numbers go up once every city has had every street.
    target = next(r for r in rows if r.city == "Хабаровск" and "Светланская" in r.address and r.id > 1000)
    number = target.address.split()[-1]
    assert index.search(f"habarovsk svetlanskaja {number}")[0].id == target.id
    assert index.search(target.code.lower())[0] == (target.id, 200.0)
    assert all(rows[m.id].city == "Łódź" for m in index.search("lodz", limit=50))
