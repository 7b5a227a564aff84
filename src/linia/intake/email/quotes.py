"""The new part of a reply: quoted history and signatures stripped (pure).

Cut at the first quote header the common clients write (Gmail/Apple/Thunderbird "On ... wrote:" and
their Russian, Polish and French forms, mail.ru/Yandex "date, Name <addr>:", Outlook's
"-----Original Message-----" and "From: ... Sent: ..." blocks in en/ru/pl/fr), then drop a trailing
block of "> " lines, then the signature ("-- " line, "Sent from my iPhone" and the like at the end).
Forwarded-message markers are not quote headers: a forward's text is the content. The full text is
always kept elsewhere; when stripping would leave nothing, the text is returned whole.
"""

from __future__ import annotations

import re

_WROTE = re.compile(
    r"(wrote|writes|пишет|написал|написала|написал\(а\)|napisał|napisała|napisał\(a\)|a écrit|schrieb|escribió)"
    r"\s*:\s*$", re.I)
_ON = re.compile(r"^\s*(on|le|w dniu|am|el|dnia)\b", re.I)
_ADDR_COLON = re.compile(r"<?[\w.+'-]+@[\w-]+(\.[\w-]+)+>?\s*:\s*$")
_TIME = re.compile(r"\d{1,2}[:.]\d{2}")
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|исходное сообщение|oryginalna wiadomość|wiadomość oryginalna|"
    r"message d'origine|message original|ursprüngliche nachricht|mensaje original)\s*-{2,}\s*$", re.I)
_FORWARD = re.compile(
    r"^\s*-{2,}\s*(forwarded message|original message follows|пересылаемое сообщение|"
    r"переадресованное сообщение|wiadomość przekazana dalej|message transféré)\s*-{2,}\s*$|"
    r"^\s*(begin forwarded message|начало переадресованного сообщения|début du message réexpédié)\s*:\s*$", re.I)
_FROM_LINE = re.compile(r"^\s*\*?(from|от|od|de|von)\s*\*?\s*:", re.I)
_SENT_LINE = re.compile(
    r"^\s*\*?(sent|date|отправлено|дата|wysłano|wysłane|data|envoyé|date d'envoi|gesendet)\s*\*?\s*:", re.I)
_UNDERSCORES = re.compile(r"^\s*_{20,}\s*$")
_SIG_DASH = re.compile(r"^-- ?$")
_MOBILE = re.compile(
    r"^\s*(sent from my \w[\w ]*|sent from (mail|outlook|yahoo mail|my mobile)\b.*|get outlook for \w+.*|"
    r"отправлено с (моего )?(iphone|ipad|samsung|android|мобильного).*|отправлено из мобильн.*|"
    r"отправлено из (приложения )?(яндекс|почты mail).*|"
    r"wysłane z (mojego )?(iphone|ipada?|telefonu|urządzenia|aplikacji).*|wysłano z (mojego )?(iphone|telefonu).*|"
    r"envoyé de mon (iphone|ipad|smartphone|mobile|appareil).*|envoyé depuis (mon )?\w.*)\s*$", re.I)
MAX_LINES = 3000


def _quote_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines[:MAX_LINES]):
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        if _FORWARD.match(stripped):  # what follows is the forwarded content, not history
            return None
        if _ORIGINAL.match(stripped) or (_UNDERSCORES.match(stripped) and _next_is_from(lines, i + 1)):
            return i
        # every quote header ends with a colon; test that first (the regexes are costly on long lines)
        joined = None
        if stripped.endswith(":"):
            joined = stripped
        elif i + 1 < len(lines) and lines[i + 1].rstrip().endswith(":") and _ON.match(stripped):
            joined = stripped + " " + lines[i + 1].strip()  # "On ..., John <\njohn@x> wrote:" wrapped
        if joined is not None and len(joined) < 400:
            if _WROTE.search(joined) and (_ON.match(joined) or "@" in joined or _TIME.search(joined)):
                return i
            if _ADDR_COLON.search(stripped) and _TIME.search(stripped):  # mail.ru / Yandex / Russian Gmail
                return i
        if _FROM_LINE.match(stripped) and _sent_follows(lines, i + 1):
            return i
    return None


def _next_is_from(lines: list[str], i: int) -> bool:
    return i < len(lines) and bool(_FROM_LINE.match(lines[i]))


def _sent_follows(lines: list[str], i: int) -> bool:
    return any(_SENT_LINE.match(line) for line in lines[i:i + 3])


def reply_part(text: str) -> str:
    lines = text.split("\n")
    start = _quote_start(lines)
    if start is not None:
        lines = lines[:start]
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    for i in range(len(lines) - 1, max(-1, len(lines) - 40), -1):
        if _SIG_DASH.match(lines[i]):
            lines = lines[:i]
            break
    while lines and (not lines[-1].strip() or _MOBILE.match(lines[-1])):
        lines.pop()
    result = "\n".join(lines).strip()
    return result or text.strip()
