"""The pure rendering core: subjects, header safety, HTML escaping, signatures, templates, References."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linia.dispatch import rendering


def test_subjects_keep_one_tag_and_one_prefix() -> None:
    assert rendering.reply_subject("Broken kettle", "SPR-000123") == "Re: Broken kettle [SPR-000123]"
    assert rendering.reply_subject("RE: Fwd: Broken kettle [SPR-000123]", "SPR-000123") == \
        "Re: Broken kettle [SPR-000123]"
    assert rendering.reply_subject("Отв: Сломался чайник", "LEN-000001") == "Re: Сломался чайник [LEN-000001]"
    assert rendering.reply_subject("", "SPR-000001") == "Re: SPR-000001 [SPR-000001]"


@given(st.text())
def test_header_values_never_contain_line_breaks(value: str) -> None:
    for text in (rendering.one_line(value), rendering.reply_subject(value, "SPR-000001"),
                 rendering.tagged_subject(value, "SPR-000001", prefix="Fwd: ")):
        assert "\r" not in text and "\n" not in text


def test_header_injection_in_a_subject_stays_in_the_subject() -> None:
    assert rendering.reply_subject("Hi\r\nBcc: evil@example.com", "SPR-000001") == \
        "Re: Hi Bcc: evil@example.com [SPR-000001]"


def test_text_to_html_escapes_and_keeps_paragraphs() -> None:
    assert rendering.text_to_html("a <b>&\nc\n\n\nd") == "<p>a &lt;b&gt;&amp;<br>c</p><p>d</p>"


def test_signature_per_language_with_fallbacks() -> None:
    value = {"ru": "С уважением", "en": "Regards"}
    assert rendering.signature_for(value, "ru") == "С уважением"
    assert rendering.signature_for(value, "pl", "ru") == "С уважением"
    assert rendering.signature_for(value, "pl", "fr") == "Regards"
    assert rendering.signature_for("Just one", "pl") == "Just one"
    assert rendering.signature_for(None, "pl") == ""
    body = rendering.with_signature("Hello", "Team <b>")
    assert body.text == "Hello\n\n-- \nTeam <b>\n" and "Team &lt;b&gt;" in body.html


def test_references_keep_the_first_and_the_latest_ids() -> None:
    ids = [f"m{n}@x" for n in range(30)] + ["m3@x", ""]
    refs = rendering.thread_references(ids, limit=5)
    assert refs == ["m0@x", "m26@x", "m27@x", "m28@x", "m29@x"]
    assert rendering.thread_references(["a", "b", "a"]) == ["a", "b"]


def test_templates_fill_only_known_placeholders() -> None:
    subject, body = rendering.acknowledgement(
        {"en": {"subject": "{reference} {__class__} {0}", "body": "{hello} {tenant} {name} {unknown}"}}, "en",
        reference="SPR-000009", subject="Re: Where is my order", name="", tenant="Spar")
    assert subject == "SPR-000009 {__class__} {0} [SPR-000009]"
    assert body.text == "Hello, Spar  {unknown}\n"
    assert rendering.language_of("", None, "fr", "ru-RU") == "ru"
    assert rendering.language_of("fr") == "en"


def test_forward_lists_fields_and_quotes_the_last_message() -> None:
    subject, body = rendering.forward(
        "ru", reference="LEN-000004", subject="Чайник", note="Решите, пожалуйста",
        fields=[("Магазин", "M1"), ("Пусто", "")], last_message="строка 1\n\nстрока 2",
        last_message_at="2026-11-26 10:00", attachment_names=["a.jpg"])
    assert subject == "Fwd: Чайник [LEN-000004]"
    assert "Магазин: M1" in body.text and "Пусто" not in body.text
    assert "> строка 1\n>\n> строка 2" in body.text and "a.jpg" in body.text and "LEN-000004" in body.text
