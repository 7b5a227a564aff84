"""parse_message never fails on arbitrary bytes except with NotAnEmail, and what it returns is well-formed."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linia.intake.email.parse import NotAnEmail, parse_message, to_json

HEADERS = st.sampled_from([
    b"From: ", b"To: ", b"Subject: ", b"Content-Type: ", b"Content-Transfer-Encoding: ", b"Date: ", b"Message-ID: ",
    b"Content-Disposition: ", b"References: ", b"Auto-Submitted: ", b"Cc: ", b"X-Failed-Recipients: ", b" ",
])
VALUES = st.one_of(
    st.binary(max_size=80),
    st.sampled_from([b"multipart/mixed; boundary=b", b"multipart/alternative; boundary=b", b"base64",
                     b"quoted-printable", b"text/html; charset=koi8-r", b"message/rfc822", b"=?utf-8?B?0J/RgA?=",
                     b"=?x?Q?=FF=0D=0A?=", b"attachment; filename*=utf-8''%FF%D0", b"application/ms-tnef",
                     b"multipart/report; report-type=delivery-status; boundary=b", b"message/delivery-status",
                     b'"A, B" <a@b.c>, =?utf-8?Q?x?= <d@e>', b"<a@b> <c@d>", b"Mon, 99 Foo 2024 99:99 +9999"]),
)
LINE = st.tuples(HEADERS, VALUES).map(lambda t: t[0] + t[1] + b"\r\n")
BODY = st.lists(st.one_of(st.binary(max_size=60), st.sampled_from([
    b"--b\r\n", b"--b--\r\n", b"Content-Type: text/plain\r\n\r\n", b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Type: text/html\r\n\r\n<p onclick=x>hi<script>x</script>", b"\r\n", b"=\r\n", b"=FF",
    b"Final-Recipient: rfc822; x@y.z\r\nAction: failed\r\n\r\n"])), max_size=12).map(b"".join)
MAILISH = st.tuples(st.lists(LINE, min_size=1, max_size=10), BODY).map(
    lambda t: b"From: x@y.example\r\n" + b"".join(t[0]) + b"\r\n" + t[1])


def _check(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except NotAnEmail:
        return
    data = to_json(parsed)
    assert "\n" not in parsed.subject and "\r" not in parsed.subject
    assert "\n" not in parsed.from_name
    assert parsed.from_email is None or parsed.from_email == parsed.from_email.lower()
    assert isinstance(data["text"], str)
    if parsed.html is not None:
        assert "<script" not in parsed.html.lower()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(raw: bytes) -> None:
    _check(raw)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MAILISH)
def test_mail_shaped_bytes(raw: bytes) -> None:
    _check(raw)


CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.eml"))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(CORPUS)).read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        if not raw:
            break
        pos = draw(st.integers(0, len(raw) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if action == "flip":
            raw[pos] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[pos:]
        elif action == "insert":
            raw[pos:pos] = draw(st.sampled_from([b"=?", b"?=", b"\r\n", b"--", b"\r\n\r\n", b"\x00", b"\xff", b"=",
                                                 b"boundary=", b"<", b">", b'"', b";", b"*0*=", b"\t"]))
        else:
            del raw[pos:pos + draw(st.integers(1, 40))]
    return bytes(raw)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_corpus(raw: bytes) -> None:
    _check(raw)
