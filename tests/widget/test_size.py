"""The widget's budget: one small plain-JS file that never inserts data as HTML."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import linia

WIDGET = Path(linia.__file__).parent / "static" / "linia" / "widget.js"
BUDGET = 30 * 1024  # bytes, gzipped


def test_widget_is_under_30_kb_gzipped() -> None:
    raw = WIDGET.read_bytes()
    packed = len(gzip.compress(raw, compresslevel=9))
    assert 0 < packed < BUDGET, f"widget.js is {packed} bytes gzipped (budget {BUDGET})"


def test_widget_needs_no_framework_or_build_step() -> None:
    text = WIDGET.read_text()
    assert not re.search(r"^\s*(import|export)\s", text, re.M), "an ES module would need type=module or a bundler"
    assert "require(" not in text


def test_nothing_is_ever_parsed_as_html() -> None:
    # Data goes in with textContent and attributes; even the icons are built as SVG nodes.
    text = WIDGET.read_text()
    assert not re.findall(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", text)


def test_every_string_exists_in_en_ru_pl_fr() -> None:
    text = WIDGET.read_text()
    blocks = dict(re.findall(r"\n    (en|ru|pl|fr): \{(.*?)\n    \}", text, re.S))
    assert sorted(blocks) == ["en", "fr", "pl", "ru"]
    keys = {lang: set(re.findall(r"(\w+): \"", body)) for lang, body in blocks.items()}
    assert len(keys["en"]) > 40
    for lang in ("ru", "pl", "fr"):
        assert keys[lang] == keys["en"], (lang, keys["en"] ^ keys[lang])
    used = set(re.findall(r"\bt\(\"(\w+)\"", text))
    assert used <= keys["en"], used - keys["en"]
