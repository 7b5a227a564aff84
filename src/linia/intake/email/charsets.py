"""Decoding mail text whose charset label may be missing or wrong.

Pure (no Django). The rules, in order:
- ASCII is ASCII whatever the label says;
- bytes that are valid UTF-8 and contain non-ASCII are UTF-8 (legacy single-byte text of real words is
  practically never valid UTF-8), whatever the label says;
- the declared charset (with the aliases mail clients really use) when its decoding looks like text:
  a single-byte decoding that yields C1 control characters is a mislabel (iso-8859-1 → windows-1252,
  iso-8859-2 → windows-1250), and Cyrillic text is checked against the usual mix-ups (koi8-r ↔
  windows-1251 ↔ iso-8859-5 ↔ cp866, and Russian sent as "iso-8859-1") by a letter-frequency score;
- no usable label: the Cyrillic score, then charset-normalizer, then windows-1252 with replacement.
"""

from __future__ import annotations

import codecs
import math
import re

from charset_normalizer import from_bytes

ALIASES = {
    "win-1251": "cp1251", "windows-1251": "cp1251", "cp-1251": "cp1251", "x-cp1251": "cp1251",
    "win1251": "cp1251", "windows1251": "cp1251", "1251": "cp1251", "x-win1251": "cp1251",
    "koi8r": "koi8_r", "koi8-r": "koi8_r", "koi-8-r": "koi8_r", "koi8": "koi8_r", "x-koi8-r": "koi8_r",
    "koi8-u": "koi8_u", "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252",
    "latin-1": "cp1252", "us-ascii": "ascii", "ascii": "ascii", "ansi_x3.4-1968": "ascii",
    "iso-8859-2": "iso8859_2", "utf8": "utf_8", "utf-8": "utf_8", "x-unknown": "", "unknown-8bit": "",
    "x-user-defined": "", "default": "", "ks_c_5601-1987": "cp949", "gb2312": "gb18030", "gbk": "gb18030",
    "iso-8859-8-i": "iso8859_8", "x-mac-cyrillic": "mac_cyrillic", "ibm866": "cp866", "cp-866": "cp866",
    "unicode-1-1-utf-7": "utf_7", "x-sjis": "shift_jis", "shift-jis": "shift_jis", "tis-620": "cp874",
    "windows-874": "cp874", "iso-8859-11": "cp874",
}
SINGLE_BYTE = {"cp1252", "cp1251", "cp1250", "koi8_r", "koi8_u", "iso8859_2", "iso8859_5", "cp866",
               "mac_cyrillic", "iso8859_15", "cp1257", "iso8859_13", "iso8859_4", "cp1254", "iso8859_9"}
CYRILLIC_CANDIDATES = ("cp1251", "koi8_r", "iso8859_5", "cp866")
# where the label is known to lie: Cyrillic single-byte labels, and Latin-1 labels on Russian text
CYRILLIC_SUSPECT = {"cp1251", "koi8_r", "koi8_u", "iso8859_5", "cp866", "mac_cyrillic", "cp1252", "ascii"}
C1_FIX = {"cp1252": "cp1252", "iso8859_2": "cp1250", "iso8859_5": "cp1251", "iso8859_15": "cp1252"}
UNICODE_LABELS = {"utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be", "utf_7"}

# relative frequencies of Russian (and a little Ukrainian) letters, per 1000
_FREQ = {
    "о": 110, "е": 85, "а": 80, "и": 73, "н": 67, "т": 63, "с": 55, "р": 47, "в": 45, "л": 44, "к": 35,
    "м": 32, "д": 30, "п": 28, "у": 26, "я": 20, "ы": 19, "ь": 17, "г": 17, "з": 16, "б": 16, "ч": 14,
    "й": 12, "х": 10, "ж": 9, "ш": 7, "ю": 6, "ц": 5, "щ": 4, "э": 3, "ф": 3, "ъ": 0.4, "ё": 1, "і": 3,
    "ї": 1, "є": 1, "ґ": 0.2, "ў": 0.2,
}
_LOGP = {ch: math.log(f / 1000) for ch, f in _FREQ.items()}
_RARE = math.log(0.0001)  # a character that is very unlikely in real text
_SYMBOL = math.log(0.01)  # punctuation, dashes, quotes, no-break space, №
_LATIN_ACCENT = math.log(0.02)  # é, ą, ł inside a word that has ASCII letters too
_WORD = re.compile(r"[^\W\d_]+")
_SAMPLE = 4096


def normalize(label: str | None) -> str | None:
    """Python codec name for a MIME charset label; None when there is no usable label."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if "*" in key:  # RFC 2231 language suffix: utf-8*ru
        key = key.split("*", 1)[0]
    mapped = ALIASES.get(key)
    if mapped is not None:
        return mapped or None
    try:
        name = codecs.lookup(key).name
    except (LookupError, ValueError):
        return None
    name = name.replace("-", "_")
    return "cp1252" if name in ("iso8859_1", "latin_1") else name


def _score(text: str) -> float:
    """Average log-likelihood that `text`'s non-ASCII characters are real Russian/Latin text, not mojibake."""
    total = 0.0
    count = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        has_ascii = any(c.isascii() for c in word)
        mixed_case = not (word.islower() or word.isupper() or word.istitle())
        for ch in word:
            if ch.isascii():
                continue
            count += 1
            low = ch.lower()
            if low in _LOGP:
                total += _RARE if has_ascii else _LOGP[low] - (2.0 if mixed_case else 0.0)
            elif "\u00c0" <= ch <= "\u024f":
                total += _LATIN_ACCENT if has_ascii else _RARE
            else:
                total += _RARE
    for ch in text:
        if not ch.isascii() and not ch.isalpha():
            count += 1
            total += _RARE if ("\x80" <= ch <= "\x9f" or ch == "\ufffd") else _SYMBOL
    return total / count if count else 0.0


def _has_c1(text: str) -> bool:
    return any("\x80" <= ch <= "\x9f" for ch in text)


def _best_cyrillic(data: bytes, first: str | None) -> tuple[str, float, float]:
    """(codec, its score, score of `first`) over the Cyrillic candidates (and `first`), on a sample."""
    sample = data[:_SAMPLE]
    scores: dict[str, float] = {}
    for codec in ((first,) if first else ()) + CYRILLIC_CANDIDATES:
        if codec in scores:
            continue
        try:
            scores[codec] = _score(sample.decode(codec, errors="replace"))
        except LookupError:
            continue
    best = max(scores, key=lambda c: scores[c])
    return best, scores[best], scores.get(first or "", -99.0)


def decode(data: bytes, declared: str | None, hint: str | None = None) -> tuple[str, str | None]:
    """Decode mail text. Returns (text, defect) where defect names a charset problem that was worked around."""
    codec = normalize(declared)
    if codec in UNICODE_LABELS:
        try:
            return data.decode(codec), None
        except (UnicodeDecodeError, LookupError):
            pass
    if data.isascii():
        return data.decode("ascii"), None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if codec in (None, "utf_8", "ascii"):
            return text, None
        return text, f"charset mislabelled: declared {declared}, decoded as utf-8"
    if codec is None and declared and normalize(declared) is None and declared.strip().lower() not in ALIASES:
        defect: str | None = f"unknown charset {declared!r}"
    else:
        defect = None
    if codec == "utf_8":
        codec, defect = None, f"charset mislabelled: declared {declared}, not valid utf-8"
    if codec is None and hint:
        codec = normalize(hint)
        if codec in ("utf_8", "ascii"):
            codec = None
    if codec is not None and codec not in SINGLE_BYTE and codec not in CYRILLIC_SUSPECT:
        try:
            return data.decode(codec), defect
        except (UnicodeDecodeError, LookupError):
            defect = f"charset mislabelled: declared {declared}, bytes do not decode"
            codec = None
    if codec is not None:
        text = data.decode(codec, errors="replace")
        if _has_c1(text) and codec in C1_FIX and C1_FIX[codec] != codec:
            fixed = C1_FIX[codec]
            text, codec = data.decode(fixed, errors="replace"), fixed
            defect = defect or f"charset mislabelled: declared {declared}, decoded as {fixed}"
        if codec in CYRILLIC_SUSPECT:
            best, best_score, own = _best_cyrillic(data, codec)
            if best != codec and best_score > own + 1.0 and best_score > -5.5:
                return (data.decode(best, errors="replace"),
                        f"charset mislabelled: declared {declared or hint}, decoded as {best}")
        return text, defect
    best, best_score, _ = _best_cyrillic(data, None)
    if best_score > -5.0:
        return data.decode(best, errors="replace"), defect or f"charset missing, guessed {best}"
    match = from_bytes(data[: _SAMPLE * 4]).best()
    if match is not None and match.encoding:
        try:
            return data.decode(match.encoding, errors="replace"), defect or (
                f"charset missing, guessed {match.encoding}")
        except LookupError:
            pass
    return data.decode("cp1252", errors="replace"), defect or "charset missing, decoded as windows-1252"
