"""verify_signature: the helper receivers use (pure, no Django)."""

from __future__ import annotations

import hashlib
import hmac
import time

from linia.dispatch.signing import signature, verify_signature

SECRET = "whsec_test"
BODY = '{"id":1,"type":"ticket.created","data":{"subject":"Żółć"}}'.encode()


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    ts = 1_790_000_000
    expected = hmac.new(SECRET.encode(), b"1790000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, ts, BODY) == f"sha256={expected}"


def test_verify_accepts_a_fresh_good_signature_and_refuses_everything_else() -> None:
    ts = int(time.time())
    header = signature(SECRET, ts, BODY)
    assert verify_signature(SECRET, ts, BODY, header)
    assert verify_signature(SECRET, str(ts), BODY, header)
    assert verify_signature(SECRET, ts, BODY, f"sha256=deadbeef, {header}")  # rotation: any one matches
    assert not verify_signature("whsec_other", ts, BODY, header)
    assert not verify_signature(SECRET, ts, BODY + b" ", header)
    assert not verify_signature(SECRET, ts + 1, BODY, header)
    assert not verify_signature(SECRET, ts, BODY, header.upper())
    assert not verify_signature(SECRET, ts, BODY, "")
    assert not verify_signature(SECRET, "yesterday", BODY, header)


def test_old_or_future_timestamps_are_refused_unless_tolerance_is_off() -> None:
    old = int(time.time()) - 3600
    header = signature(SECRET, old, BODY)
    assert not verify_signature(SECRET, old, BODY, header)
    assert verify_signature(SECRET, old, BODY, header, tolerance=None)
    assert verify_signature(SECRET, old, BODY, header, tolerance=7200)
    future = int(time.time()) + 3600
    assert not verify_signature(SECRET, future, BODY, signature(SECRET, future, BODY))


def test_the_receiver_example_in_the_docs_verifies_linia_signatures() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    code = doc.split("```python\n", 1)[1].split("\n# Flask", 1)[0]
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102 (our own documentation)
    verify = namespace["verify_signature"]
    ts = int(time.time())
    assert callable(verify)
    assert verify(SECRET, str(ts), BODY, signature(SECRET, ts, BODY))
    assert not verify(SECRET, str(ts), BODY + b"x", signature(SECRET, ts, BODY))
    assert not verify(SECRET, str(ts - 3600), BODY, signature(SECRET, ts - 3600, BODY))
