from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

import linia

VENDOR = Path(linia.__file__).parent / "static" / "vendor"


@pytest.mark.parametrize("path", ["/static/linia/desk.css", "/static/linia/desk.js",
                                  "/static/vendor/htmx/htmx.min.js"])
def test_desk_assets_are_served_without_a_cdn(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) if response.streaming else response.content


def test_vendored_htmx_is_pinned_and_recorded() -> None:
    versions = (VENDOR / "VERSIONS.md").read_text()
    assert "| htmx.org (npm) | 2." in versions and "0BSD" in versions
    assert (VENDOR / "htmx" / "htmx.min.js").read_text().count("htmx") > 10
