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
import re
import unicodedata

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

# Scoring a decoding as Russian/Ukrainian text, at C speed: each codec gets a byte → class table, the
# sample is translated to classes and counted. f: a frequent lower-case Cyrillic letter, r: another
# lower-case Cyrillic letter, U: upper-case Cyrillic, L: a Latin letter with diacritics, s: other
# symbols, x: control characters / undefined, a: an ASCII letter, "_": everything else ASCII.
_FREQUENT = set("оеаинтсрвлкмдпуяы")
_WEIGHTS = {b"f": 1.0, b"r": -0.3, b"U": 0.0, b"L": -1.0, b"s": -0.5, b"x": -3.0}
# lower → upper inside a word (koi8 ↔ cp1251 swaps case), Cyrillic next to ASCII letters inside a word
_PENALTIES = {b"fU": -2.0, b"rU": -2.0, b"af": -1.5, b"ar": -1.5, b"aU": -1.5, b"fa": -1.5, b"ra": -1.5,
              b"Ua": -1.5}
_SAMPLE = 2048
_TABLES: dict[str, bytes] = {}


def _table(codec: str) -> bytes:
    table = _TABLES.get(codec)
    if table is None:
        classes = bytearray()
        for byte in range(256):
            if byte < 0x80:
                ch = chr(byte)
                classes += b"a" if ch.isalpha() else b"_"
                continue
            try:
                ch = bytes([byte]).decode(codec)
            except (UnicodeDecodeError, LookupError):
                classes += b"x"
                continue
            if "\u0400" <= ch <= "\u04ff":
                classes += b"U" if ch.isupper() else (b"f" if ch in _FREQUENT else b"r")
            elif ch.isalpha():
                classes += b"L"
            elif unicodedata.category(ch).startswith("C"):
                classes += b"x"
            else:
                classes += b"s"
        table = _TABLES[codec] = bytes(classes)
    return table


def _score(sample: bytes, codec: str) -> float:
    """How much `sample` decoded with `codec` looks like Cyrillic text (about 0.5–1 for real Russian,
    below 0 for mojibake and for Latin text)."""
    classes = sample.translate(_table(codec))
    nonascii = len(classes) - classes.count(b"a") - classes.count(b"_")
    if not nonascii:
        return 0.0
    total = sum(weight * classes.count(cls) for cls, weight in _WEIGHTS.items())
    total += sum(weight * classes.count(pair) for pair, weight in _PENALTIES.items())
    return total / nonascii


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


_C1 = re.compile("[\x80-\x9f]")


def _best_cyrillic(data: bytes, first: str | None) -> tuple[str, float, float]:
    """(codec, its score, score of `first`) over the Cyrillic candidates (and `first`), on a sample."""
    sample = data[:_SAMPLE]
    scores: dict[str, float] = {}
    for codec in ((first,) if first else ()) + CYRILLIC_CANDIDATES:
        if codec not in scores:
            try:
                scores[codec] = _score(sample, codec)
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
        if codec in C1_FIX and _C1.search(text) and C1_FIX[codec] != codec:
            fixed = C1_FIX[codec]
            text, codec = data.decode(fixed, errors="replace"), fixed
            defect = defect or f"charset mislabelled: declared {declared}, decoded as {fixed}"
        if codec in CYRILLIC_SUSPECT:
            best, best_score, own = _best_cyrillic(data, codec)
            # short all-capitals words are ambiguous ("ОК" in koi8-r is "пл" in windows-1251): switch on
            # little text only when the declared reading itself looks broken (case swapped mid-word)
            if best != codec and best_score > own + 0.5 and best_score > 0.3 and (
                    own < 0 or sum(b >= 0x80 for b in data[:64]) >= 8):
                return (data.decode(best, errors="replace"),
                        f"charset mislabelled: declared {declared or hint}, decoded as {best}")
        return text, defect
    best, best_score, _ = _best_cyrillic(data, None)
    if best_score > 0.3:
        return data.decode(best, errors="replace"), defect or f"charset missing, guessed {best}"
    match = from_bytes(data[: _SAMPLE * 4]).best()
    if match is not None and match.encoding:
        try:
            return data.decode(match.encoding, errors="replace"), defect or (
                f"charset missing, guessed {match.encoding}")
        except LookupError:
            pass
    return data.decode("cp1252", errors="replace"), defect or "charset missing, decoded as windows-1252"
