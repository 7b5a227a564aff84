"""Pure rendering of outbound email (no Django): subjects, plain text + HTML bodies, signatures, templates.

Customer-facing text is rendered in the ticket's language (en, ru, pl; anything else falls back to en),
so the wording lives here as small dictionaries instead of the UI's gettext catalogue.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LANGUAGES = ("en", "ru", "pl")
_CRLF = re.compile(r"[\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|odp|отв|ответ|пересл)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{(reference|subject|name|tenant|hello|link)\}")


def language_of(*candidates: str | None) -> str:
    """The first supported language among the candidates, else en."""
    for value in candidates:
        code = (value or "").strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def one_line(value: str, limit: int = 300) -> str:
    """A header value: control characters (CR/LF: header injection) become one space, trimmed."""
    return _CRLF.sub(" ", value or "").strip()[:limit]


def bare_subject(subject: str, reference: str) -> str:
    """The subject without Re:/Fwd: prefixes and without the ticket tag."""
    text = one_line(subject)
    if reference:
        text = text.replace(f"[{reference}]", " ")
    text = _REPLY_PREFIX.sub("", text)
    return " ".join(text.split())


def tagged_subject(subject: str, reference: str, *, prefix: str = "") -> str:
    """``<prefix>subject [SPR-000123]``: the tag lets the customer's reply thread even without headers."""
    text = bare_subject(subject, reference) or reference
    tag = f" [{reference}]" if reference else ""
    return one_line(f"{prefix}{text}{tag}", 400)


def reply_subject(subject: str, reference: str) -> str:
    return tagged_subject(subject, reference, prefix="Re: ")


def thread_references(ids: Sequence[str], limit: int = 12) -> list[str]:
    """References header ids in order without duplicates; long threads keep the first and the latest ones."""
    unique = list(dict.fromkeys(i for i in ids if i))
    if len(unique) <= limit:
        return unique
    return [unique[0], *unique[-(limit - 1):]]


def text_to_html(text: str) -> str:
    """Plain text as safe HTML: escaped, blank lines make paragraphs, single newlines <br>."""
    paragraphs = [p for p in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip()) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def signature_for(value: object, language: str, default_language: str = "en") -> str:
    """Tenant.settings["email_signature"]: one string, or {"ru": "...", "pl": "...", "en": "..."}."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        for code in (language, default_language, "en"):
            found = value.get(code)
            if isinstance(found, str) and found.strip():
                return found.strip()
        for found in value.values():
            if isinstance(found, str) and found.strip():
                return found.strip()
    return ""


@dataclass(frozen=True)
class Body:
    text: str
    html: str


def _wrap_html(inner: str) -> str:
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
            f'<body style="font-family:Arial,sans-serif;font-size:14px">{inner}</body></html>')


def with_signature(body: str, signature: str) -> Body:
    """The agent's text plus the signature after the standard "-- " separator (clients fold it away)."""
    text = (body or "").strip()
    inner = text_to_html(text)
    if signature:
        text = f"{text}\n\n-- \n{signature}"
        inner += f'<div class="signature" style="color:#555">-- <br>{text_to_html(signature)}</div>'
    return Body(text + "\n", _wrap_html(inner))


# --- acknowledgements -----------------------------------------------------------------------------

DEFAULT_ACK: dict[str, dict[str, str]] = {
    "en": {
        "subject": "We received your message: {subject}",
        "body": ("{hello}\n\nthank you for your message. We registered it as request {reference} "
                 "and will answer as soon as possible.\nPlease keep {reference} in the subject when you write "
                 "about this request.\n\n{tenant}"),
    },
    "ru": {
        "subject": "Мы получили ваше обращение: {subject}",
        "body": ("{hello}\n\nСпасибо за обращение. Мы зарегистрировали его под номером {reference} "
                 "и ответим как можно скорее.\nПожалуйста, сохраняйте {reference} в теме письма, когда пишете "
                 "по этому вопросу.\n\n{tenant}"),
    },
    "pl": {
        "subject": "Otrzymaliśmy Twoją wiadomość: {subject}",
        "body": ("{hello}\n\ndziękujemy za wiadomość. Zarejestrowaliśmy ją jako zgłoszenie {reference} "
                 "i odpowiemy najszybciej, jak to możliwe.\nPisząc w tej sprawie, zachowaj {reference} w temacie "
                 "wiadomości.\n\n{tenant}"),
    },
}


# The customer's private ticket page (/t/<token>/), added to acknowledgements whose template has no {link}.
LINK_LINE: dict[str, str] = {
    "en": "You can follow your request, reply and add files here: {link}",
    "ru": "Следить за обращением, отвечать и добавлять файлы можно здесь: {link}",
    "pl": "Tutaj możesz śledzić zgłoszenie, odpowiadać i dodawać pliki: {link}",
}


GREETING: dict[str, tuple[str, str]] = {  # (with a name, without)
    "en": ("Hello {name},", "Hello,"), "ru": ("Здравствуйте, {name}!", "Здравствуйте!"),
    "pl": ("Dzień dobry {name},", "Dzień dobry,"),
}


def greeting(language: str, name: str) -> str:
    named, anonymous = GREETING.get(language, GREETING["en"])
    return named.replace("{name}", name) if name else anonymous


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace only the known placeholders {reference} {subject} {name} {tenant} {hello}; other braces stay."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


def acknowledgement(templates: object, language: str, *, reference: str, subject: str, name: str,
                    tenant: str, signature: str = "", link: str = "") -> tuple[str, Body]:
    """Subject (always tagged with the reference) and body of the automatic acknowledgement.

    ``templates`` is Tenant.settings["email_ack"]["templates"]: {"ru": {"subject": ..., "body": ...}, ...};
    missing languages or keys fall back to the built-in en/ru/pl texts. ``link``: the customer's private
    ticket page; a body without the {link} placeholder gets it on a line of its own before the signature.
    """
    chosen = dict(DEFAULT_ACK.get(language, DEFAULT_ACK["en"]))
    if isinstance(templates, Mapping):
        custom = templates.get(language)
        if isinstance(custom, Mapping):
            chosen.update({k: str(v) for k, v in custom.items() if k in ("subject", "body") and str(v).strip()})
    clean_name = one_line(name, 100)
    values = {"reference": reference, "subject": bare_subject(subject, reference) or reference,
              "name": clean_name, "tenant": tenant, "hello": greeting(language, clean_name), "link": link}
    subject_line = tagged_subject(fill(chosen["subject"], values), reference)
    body = with_signature(fill(_with_link_line(chosen["body"], language, link), values), signature)
    if link:  # clickable in the HTML part (the text part keeps the bare URL)
        safe = html.escape(link, quote=True)
        body = Body(body.text, body.html.replace(safe, f'<a href="{safe}">{safe}</a>'))
    return subject_line, body


def _with_link_line(template: str, language: str, link: str) -> str:
    """The body template with a {link} line: before its last paragraph (the sign-off) when it has none;
    without any {link} line when there is no link."""
    if not link:
        return "\n".join(line for line in template.split("\n") if "{link}" not in line)
    if "{link}" in template:
        return template
    line = LINK_LINE.get(language, LINK_LINE["en"])
    parts = template.rstrip().split("\n\n")
    if len(parts) > 1:
        return "\n\n".join([*parts[:-1], line, parts[-1]])
    return f"{template.rstrip()}\n\n{line}"


# --- forwarding to a department -------------------------------------------------------------------

FORWARD_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "intro": "The contact center forwards request {reference} to you.",
        "note": "Note from the contact center", "fields": "Request",
        "last": "Last message from the customer", "attachments": "Attachments",
        "reply": "Reply to this email: your answer is added to request {reference} and the agent is notified.",
        "none": "(no message text)",
    },
    "ru": {
        "intro": "Контакт-центр передаёт вам обращение {reference}.",
        "note": "Комментарий контакт-центра", "fields": "Обращение",
        "last": "Последнее сообщение клиента", "attachments": "Вложения",
        "reply": "Ответьте на это письмо: ваш ответ будет добавлен в обращение {reference}, оператор его увидит.",
        "none": "(без текста)",
    },
    "pl": {
        "intro": "Centrum kontaktowe przekazuje Państwu zgłoszenie {reference}.",
        "note": "Uwaga od centrum kontaktowego", "fields": "Zgłoszenie",
        "last": "Ostatnia wiadomość od klienta", "attachments": "Załączniki",
        "reply": "Proszę odpowiedzieć na tę wiadomość: odpowiedź trafi do zgłoszenia {reference}, konsultant ją zobaczy.",
        "none": "(brak treści)",
    },
}

FIELD_NAMES: dict[str, dict[str, str]] = {
    "en": {"reference": "Reference", "subject": "Subject", "status": "Status", "priority": "Priority",
           "category": "Category", "store": "Store", "customer": "Customer", "phone": "Phone", "email": "Email",
           "created": "Created", "channel": "Channel"},
    "ru": {"reference": "Номер", "subject": "Тема", "status": "Статус", "priority": "Приоритет",
           "category": "Категория", "store": "Магазин", "customer": "Клиент", "phone": "Телефон",
           "email": "Эл. почта", "created": "Создано", "channel": "Канал"},
    "pl": {"reference": "Numer", "subject": "Temat", "status": "Status", "priority": "Priorytet",
           "category": "Kategoria", "store": "Sklep", "customer": "Klient", "phone": "Telefon",
           "email": "E-mail", "created": "Utworzono", "channel": "Kanał"},
}


def field_label(key: str, language: str) -> str:
    return FIELD_NAMES.get(language, FIELD_NAMES["en"]).get(key) or FIELD_NAMES["en"].get(key) or key


def forward(language: str, *, reference: str, subject: str, note: str, fields: Sequence[tuple[str, str]],
            last_message: str, last_message_at: str, attachment_names: Sequence[str],
            signature: str = "") -> tuple[str, Body]:
    """Subject and body of a forward: intro, the agent's note, the ticket's fields, the last customer message."""
    words = FORWARD_LABELS.get(language, FORWARD_LABELS["en"])
    intro = words["intro"].format(reference=reference)
    rows = [(label, one_line(value, 500)) for label, value in fields if value]
    message = (last_message or "").strip() or words["none"]
    text_parts = [intro]
    html_parts = [f"<p><strong>{html.escape(intro)}</strong></p>"]
    if note.strip():
        text_parts.append(f"{words['note']}:\n{note.strip()}")
        html_parts.append(f"<h3>{html.escape(words['note'])}</h3>{text_to_html(note)}")
    text_parts.append(f"{words['fields']}:\n" + "\n".join(f"  {label}: {value}" for label, value in rows))
    html_parts.append(
        f"<h3>{html.escape(words['fields'])}</h3><table cellpadding=\"4\" style=\"border-collapse:collapse\">"
        + "".join(f"<tr><th align=\"left\" style=\"color:#555\">{html.escape(label)}</th>"
                  f"<td>{html.escape(value)}</td></tr>" for label, value in rows)
        + "</table>")
    heading = f"{words['last']} ({last_message_at})" if last_message_at else words["last"]
    quoted = "\n".join(f"> {line}" if line else ">" for line in message.splitlines())
    text_parts.append(f"{heading}:\n{quoted}")
    html_parts.append(f"<h3>{html.escape(heading)}</h3><blockquote style=\"border-left:3px solid #ccc;"
                      f"margin:0;padding-left:8px\">{text_to_html(message)}</blockquote>")
    if attachment_names:
        text_parts.append(f"{words['attachments']}: " + ", ".join(attachment_names))
        html_parts.append(f"<p>{html.escape(words['attachments'])}: "
                          + html.escape(", ".join(attachment_names)) + "</p>")
    reply_hint = words["reply"].format(reference=reference)
    text_parts.append(reply_hint)
    html_parts.append(f"<p style=\"color:#555\">{html.escape(reply_hint)}</p>")
    text = "\n\n".join(text_parts)
    inner = "".join(html_parts)
    if signature:
        text += f"\n\n-- \n{signature}"
        inner += f"<div class=\"signature\" style=\"color:#555\">-- <br>{text_to_html(signature)}</div>"
    return tagged_subject(subject, reference, prefix="Fwd: "), Body(text + "\n", _wrap_html(inner))
