"""Hostile-input tests of the public surfaces (chat API and websocket, web forms, the customer ticket page, the
demo shop, the portal). Fixtures come from the apps' own test packages; rate limits are lifted so that many
generated examples can hit one endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.chat.conftest import Chat, chat  # noqa: F401  (fixture)
from tests.customer_page.conftest import Setup, setup  # noqa: F401  (fixture)

EXAMPLES = hsettings(max_examples=15, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FEW = hsettings(EXAMPLES, max_examples=10)

# Text that tends to break things: NUL, lone surrogates, CRLF, markup, very long runs, odd unicode.
NASTY = st.sampled_from([
    "\x00", "a\x00b", "\ud800", "x\udfffy", "\r\nBcc: evil@example.com", "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>", "../../etc/passwd", "A" * 100_000, "%00", "${{7*7}}", "\u202e\u0000",
    "😀" * 300, "null", "[]", "{}", "", " ", "\t\n",
])
TEXT = st.one_of(NASTY, st.text(max_size=300))
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                         st.floats(allow_nan=False), TEXT)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                 st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=4)),
                           max_leaves=12)
XSS = st.sampled_from(["<script>alert('x1')</script>", "\"><svg onload=alert('x2')>",
                       "<img src=x onerror=alert('x3')>", "javascript:alert('x4')//<b>x</b>",
                       "</textarea><script>alert('x5')</script>", "'\"><iframe src=javascript:alert('x6')>"])


def dump(value: Any) -> bytes:
    """JSON as bytes even when the text holds lone surrogates (json escapes them, as a browser may send)."""
    return json.dumps(value).encode()


def lift_limits(settings: Any) -> None:
    from linia.intake.chat.limits import DEFAULTS

    settings.LINIA_CHAT_RATE_LIMITS = dict.fromkeys(DEFAULTS, (100000, 60))
    settings.LINIA_WEBFORM_POSTS_PER_IP = 100_000
    settings.LINIA_WEBFORM_VIEWS_PER_IP = 100_000
    settings.LINIA_WEBFORM_MIN_SECONDS = 0


@pytest.fixture(autouse=True)
def _hostile(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    lift_limits(settings)
    yield
    cache.clear()


def counts() -> dict[str, int]:
    """Rows a refused request must not write."""
    from linia.dispatch.models import OutboundEmail
    from linia.intake.chat.models import ChatMessage, ChatSession
    from linia.intake.webform.models import Submission
    from linia.routing.models import Task
    from linia.tickets.models import Attachment, Contact, Message, Rating, Ticket

    models = (Ticket, Message, Attachment, Contact, ChatSession, ChatMessage, Submission, Rating, OutboundEmail, Task)
    return {m.__name__: m.objects.count() for m in models}


def assert_json_error(response: Any) -> dict[str, Any]:
    """A refused API request: 4xx with {"error": code, "message": text}."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert isinstance(body.get("message"), str) and body["message"]
    return body


def assert_html_error(response: Any) -> str:
    """A refused page: 4xx HTML with a message in it, not a traceback."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    html: str = response.content.decode()
    assert "Traceback" not in html
    assert len(html.strip()) > 0
    return html


def sent_mail_headers() -> list[tuple[str, str]]:
    """Send what the outbox holds (as the worker would) into Django's locmem outbox; every header of every mail."""
    from django.core import mail

    from linia.dispatch import outbox

    outbox.send_due()
    return [(name, str(value)) for sent in mail.outbox for name, value in sent.message().items()]


def assert_no_injected_headers(headers: list[tuple[str, str]]) -> None:
    for name, value in headers:
        unfolded = value.replace("\r\n ", " ").replace("\n ", " ").replace("\r\n\t", " ").replace("\n\t", " ")
        assert "\r" not in unfolded and "\n" not in unfolded, (name, value)
        assert name.lower() not in ("bcc", "x-injected"), (name, value)
        if name.lower() in ("to", "cc", "bcc", "from", "reply-to", "sender"):  # in a subject it is just text
            assert "evil@example.com" not in value, (name, value)
