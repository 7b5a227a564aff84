"""The corpus: every message parses to what a person reading it would say (tests/email/build_corpus.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from linia.intake.email.parse import NotAnEmail, ParsedEmail, content_hash, parse_message, to_json

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
SPECIAL = {"text_contains", "html_contains", "html_excludes", "defects_contains"}


def check(parsed: ParsedEmail, expected: dict[str, Any]) -> list[str]:
    got = to_json(parsed)
    problems = []
    for key, want in expected.items():
        if key in SPECIAL:
            continue
        if key == "attachments":
            fields = [{k: a[k] for k in w if k != "verbatim"} for a, w in zip(got["attachments"], want, strict=False)]
            wanted = [{k: v for k, v in w.items() if k != "verbatim"} for w in want]
            if len(got["attachments"]) != len(want) or fields != wanted:
                problems.append(f"attachments: want {want}, got {got['attachments']}")
        elif got[key] != want:
            problems.append(f"{key}: want {want!r}, got {got[key]!r}")
    for needle in expected.get("text_contains", []):
        if needle not in got["text"]:
            problems.append(f"text lacks {needle!r}: {got['text']!r}")
    for needle in expected.get("html_contains", []):
        if needle not in (got["html"] or ""):
            problems.append(f"html lacks {needle!r}: {got['html']!r}")
    for needle in expected.get("html_excludes", []):
        if needle in (got["html"] or ""):
            problems.append(f"html has {needle!r}")
    for needle in expected.get("defects_contains", []):
        if needle not in got["defects"]:
            problems.append(f"defects lack {needle!r}: {got['defects']}")
    return problems


def test_corpus_is_big_enough_and_matches_the_builder(tmp_path: Path) -> None:
    assert len(EXPECTED) >= 60
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)
    subprocess.run([sys.executable, str(HERE / "build_corpus.py"), str(tmp_path)], check=True, capture_output=True)
    for folder in ("corpus", "not_email"):
        committed = {p.name: p.read_bytes() for p in (HERE / folder).iterdir()}
        built = {p.name: p.read_bytes() for p in (tmp_path / folder).iterdir()}
        assert committed == built, f"the committed {folder} differs from what build_corpus.py writes"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name: str) -> None:
    expected = EXPECTED[name]
    for key in ("message_id", "from_email", "subject", "date", "is_auto", "attachments"):
        assert key in expected, f"{name}: expected result must state {key}"
    raw = (CORPUS / name).read_bytes()
    parsed = parse_message(raw)
    problems = check(parsed, expected)
    for attachment, want in zip(parsed.attachments, expected["attachments"], strict=False):
        if want.get("verbatim"):  # kept byte for byte as it was in the message
            assert attachment.payload in raw, f"{name}: {attachment.filename} is not the original bytes"
    assert not problems, f"{name}:\n" + "\n".join(problems)
    assert "\n" not in parsed.subject and "\r" not in parsed.subject and "\n" not in parsed.from_name
    if parsed.html is not None:
        assert "<script" not in parsed.html.lower()
    for attachment in parsed.attachments:
        assert len(attachment.payload) == attachment.size
        assert "/" not in attachment.filename and "\\" not in attachment.filename


@pytest.mark.parametrize("name", sorted(p.name for p in (HERE / "not_email").iterdir()))
def test_not_an_email(name: str) -> None:
    with pytest.raises(NotAnEmail):
        parse_message((HERE / "not_email" / name).read_bytes())


def test_content_hash_ignores_trace_headers_and_line_ends() -> None:
    raw = b"From: a@x.example\r\nSubject: hi\r\n\r\nbody\r\n"
    relayed = b"Received: from mx by imap\r\nDelivered-To: s@y.example\r\n" + raw.replace(b"\r\n", b"\n")
    assert content_hash(raw) == content_hash(relayed)
    assert content_hash(raw) != content_hash(raw.replace(b"body", b"other"))
    assert len(content_hash(raw)) == 64


def test_bounce_with_dsn_lists_only_failed_recipients() -> None:
    parsed = parse_message((CORPUS / "dsn-delayed.eml").read_bytes())
    assert parsed.is_auto and parsed.auto_kind == "bounce" and parsed.bounced_recipients == []


def test_forwarded_eml_attachment_is_the_whole_inner_message() -> None:
    parsed = parse_message((CORPUS / "outlook-forward-eml-with-attachment.eml").read_bytes())
    inner = parse_message(parsed.attachments[0].payload)
    assert inner.message_id == "complaint@example.com"
    assert [a.filename for a in inner.attachments] == ["kettle.jpg"]
    assert inner.text == "The kettle leaks."
