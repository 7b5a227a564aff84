"""`linia email parse FILE` as a person runs it: a real process, JSON on stdout, exit 2 for non-mail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "linia.cli", "email", *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_parse_prints_one_json_object_with_the_issue_fields() -> None:
    result = run("parse", str(HERE / "corpus" / "gmail-inline-image.eml"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("message_id", "from_email", "from_name", "to", "subject", "date", "text", "html", "attachments",
                "is_auto", "in_reply_to", "references"):
        assert key in data
    assert data["from_email"] == "tom.lee@gmail.com"
    assert data["date"] == "2024-03-05T15:00:00+00:00"
    assert data["attachments"] == [{"filename": "IMG_2041.jpg", "content_type": "image/jpeg", "size": 278,
                                    "inline": True, "content_id": "ii_lt2xyz0", "dangerous": False}]
    assert data["is_auto"] is False


def test_parse_compact_is_one_line_and_keeps_unicode() -> None:
    result = run("parse", "--compact", str(HERE / "corpus" / "thunderbird-koi8r.eml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") <= 1
    assert json.loads(result.stdout)["subject"] == "Заказ не пришел"
    assert "Заказ" in result.stdout  # not \u-escaped


@pytest.mark.parametrize(("name", "reason"), [("picture.png", "PNG image"), ("empty.eml", "empty"),
                                              ("plain-text.txt", "not a header"), ("garbage.bin", "not")])
def test_not_an_email_exits_2_with_one_line(name: str, reason: str) -> None:
    result = run("parse", str(HERE / "not_email" / name))
    assert result.returncode == 2
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message and reason in message and name in message


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = run("parse", str(tmp_path / "missing.eml"))
    assert result.returncode == 2
    assert "No such file" in result.stderr
    result = run("parse", str(tmp_path))
    assert result.returncode == 2
