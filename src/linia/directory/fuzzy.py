"""Typo-tolerant store search for the first line (pure: no Django).

Text is normalised before matching: case-folded, diacritics stripped (ł -> l), Cyrillic
transliterated to Latin, so "Владивосток", "vladivostok" and "Vladivostk" meet. Every query token must
match some token of the store (code, name, city, street, region) exactly, as a prefix, or within a few
edits (optimal string alignment: a swap of two letters is one edit). An exact store code ranks first.

The index keeps a vocabulary of distinct tokens with posting lists, so a query compares each of its
tokens once against the vocabulary (in C, through rapidfuzz) instead of against every store.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
}
# Letters NFKD does not decompose into a base letter and a mark.
_LATIN = {"ł": "l", "ß": "ss", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th"}
_TRANSLATE = str.maketrans({**_CYRILLIC, **_LATIN})
_TOKEN_RE = re.compile(r"[a-z0-9]+")
# Street-type words carry no information and differ between how agents and files write them.
STOPWORDS = frozenset({
    "ul", "ulica", "al", "aleja", "aleje", "pl", "plac", "os", "osiedle", "st", "street", "str",
    "ave", "avenue", "rd", "road", "ulitsa", "pr", "prosp", "prospekt", "per", "pereulok", "d", "dom",
    "rue", "av", "bd", "boulevard", "bld", "g", "gorod", "m", "mkr",
})
# Field weights: a hit on the name or city counts a little more than one in the street or region.
_WEIGHTS = {"code": 1.0, "name": 1.0, "city": 1.0, "address": 0.95, "region": 0.9}
_EXACT_CODE_SCORE = 200.0


def normalize(text: str) -> str:
    """Case-fold, transliterate Cyrillic, strip diacritics: "Łódź" -> "lodz", "Хабаровск" -> "khabarovsk"."""
    folded = text.casefold().translate(_TRANSLATE)
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(normalize(text))


def max_edits(token: str) -> int:
    """Typos tolerated for a query token of this length (codes and numbers must match exactly)."""
    if len(token) <= 3 or any(ch.isdigit() for ch in token):
        return 0
    if len(token) <= 5:
        return 1
    return 2 if len(token) <= 8 else 3


class StoreRow(NamedTuple):
    id: int
    code: str
    name: str
    city: str
    address: str = ""
    region: str = ""


class Match(NamedTuple):
    id: int
    score: float


class StoreIndex:
    """Built once from rows; answers queries in well under a millisecond per token."""

    def __init__(self, rows: Iterable[StoreRow]) -> None:
        self.rows = list(rows)
        vocab: dict[str, int] = {}
        self._postings: list[dict[int, float]] = []
        self._codes: dict[str, list[int]] = {}
        self._city_of: list[str] = []
        self._cities: dict[str, list[int]] = {}
        for pos, row in enumerate(self.rows):
            code = "".join(tokens(row.code))
            self._codes.setdefault(code, []).append(pos)
            city = " ".join(tokens(row.city))
            self._city_of.append(city)
            self._cities.setdefault(city, []).append(pos)
            for field_name, text in (("code", row.code), ("name", row.name), ("city", row.city),
                                     ("address", row.address), ("region", row.region)):
                field_tokens = tokens(text) + ([code] if field_name == "code" else [])
                for tok in field_tokens:
                    idx = vocab.setdefault(tok, len(vocab))
                    if idx == len(self._postings):
                        self._postings.append({})
                    posting = self._postings[idx]
                    posting[pos] = max(posting.get(pos, 0.0), _WEIGHTS[field_name])
        self._vocab = list(vocab)
        self._prefixes: dict[int, list[str]] = {}
        self._city_names = list(self._cities)

    def __len__(self) -> int:
        return len(self.rows)

    # --- token matching ---------------------------------------------------------------------------

    def _prefix_list(self, length: int) -> list[str]:
        cached = self._prefixes.get(length)
        if cached is None:
            # Only longer tokens: an equal-length one is a whole-token match, scored elsewhere.
            cached = [t[:length] if len(t) > length else "" for t in self._vocab]
            self._prefixes[length] = cached
        return cached

    def _token_scores(self, qt: str) -> dict[int, float]:
        """Best score per store position for one query token: 100 exact, 90 prefix, less per typo."""
        edits = max_edits(qt)
        hits: dict[int, float] = {}  # vocabulary index -> score
        for _tok, dist, idx in process.extract(qt, self._vocab, scorer=OSA.distance, score_cutoff=edits,
                                               limit=None):
            hits[idx] = 100.0 * (1 - dist / max(len(qt), 1))
        if len(qt) >= 2 and not qt.isdigit():
            prefix_edits = edits if len(qt) >= 4 else 0
            for _tok, dist, idx in process.extract(qt, self._prefix_list(len(qt)), scorer=OSA.distance,
                                                   score_cutoff=prefix_edits, limit=None):
                score = 90.0 * (1 - dist / len(qt))
                if score > hits.get(idx, 0.0):
                    hits[idx] = score
        per_store: dict[int, float] = {}
        for idx, score in hits.items():
            for pos, weight in self._postings[idx].items():
                weighted = score * weight
                if weighted > per_store.get(pos, 0.0):
                    per_store[pos] = weighted
        return per_store

    # --- cities -------------------------------------------------------------------------------------

    def match_city(self, city: str) -> list[str]:
        """Normalised city names matching ``city``: the exact one, else the closest within a few typos."""
        wanted = " ".join(tokens(city))
        if not wanted:
            return []
        if wanted in self._cities:
            return [wanted]
        found = process.extract(wanted, self._city_names, scorer=OSA.distance,
                                score_cutoff=max_edits(wanted.replace(" ", "")), limit=None)
        if not found:
            return []
        best = min(dist for _name, dist, _idx in found)
        return [name for name, dist, _idx in found if dist == best]

    def city_ids(self, city: str) -> list[int]:
        """Ids of the stores in the city (typo-tolerant), in index order."""
        return [self.rows[pos].id for name in self.match_city(city) for pos in self._cities[name]]

    def city_spellings(self, city: str) -> list[str]:
        """The cities as the stores spell them ("Łódź"), for an indexed ``city__in`` lookup."""
        return sorted({self.rows[pos].city for name in self.match_city(city) for pos in self._cities[name]})

    # --- search ---------------------------------------------------------------------------------------

    def search(self, query: str, *, city: str = "", limit: int = 20) -> list[Match]:
        """Ranked matches; every query token must match. Empty query with a city lists that city."""
        allowed: set[int] | None = None
        if city.strip():
            names = set(self.match_city(city))
            allowed = {pos for pos, c in enumerate(self._city_of) if c in names}
        q_tokens = tokens(query)
        if not q_tokens:
            if allowed is None:
                return []
            return [Match(self.rows[pos].id, 100.0) for pos in sorted(allowed)][:limit]
        scores = self._exact_code(q_tokens, allowed)
        meaningful = [t for t in q_tokens if t not in STOPWORDS] or q_tokens
        combined = self._all_tokens(meaningful, allowed)
        for pos, score in combined.items():
            scores.setdefault(pos, score)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self.rows[item[0]].name, item[0]))
        return [Match(self.rows[pos].id, round(score, 2)) for pos, score in ranked[:limit]]

    def _exact_code(self, q_tokens: list[str], allowed: set[int] | None) -> dict[int, float]:
        positions = self._codes.get("".join(q_tokens), [])
        return {pos: _EXACT_CODE_SCORE for pos in positions if allowed is None or pos in allowed}

    def _all_tokens(self, q_tokens: list[str], allowed: set[int] | None) -> dict[int, float]:
        """Mean of the per-token scores over stores matching every token (AND)."""
        total: dict[int, float] | None = None
        for qt in q_tokens:
            per_store = self._token_scores(qt)
            if total is None:
                total = {p: s for p, s in per_store.items() if allowed is None or p in allowed}
            else:
                total = {p: s + per_store[p] for p, s in total.items() if p in per_store}
            if not total:
                return {}
        assert total is not None
        return {pos: score / len(q_tokens) for pos, score in total.items()}


def city_matches(query: str, city: str) -> bool:
    """One-off typo-tolerant comparison of two city names (for small lists, e.g. vacancies)."""
    a, b = " ".join(tokens(query)), " ".join(tokens(city))
    return bool(a) and OSA.distance(a, b) <= max_edits(a.replace(" ", ""))
