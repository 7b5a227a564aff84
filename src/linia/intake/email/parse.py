"""How Linia reads an email (pure: no Django). `parse_message(raw) -> ParsedEmail`.

Python's `email` package with `policy.default` splits the MIME tree and decodes transfer encodings;
on top of it: our own tolerant header decoding (raw 8-bit headers, broken and split encoded words,
mislabelled charsets via `charsets`), body selection over alternative/related/mixed trees, HTML
sanitised with nh3 and turned into text when there is no plain part (`htmltext`), inline images and
attachments (RFC 2231 and encoded-word filenames, path parts stripped, dangerous types flagged),
forwarded message/rfc822 parts (kept as .eml, their text included), TNEF winmail.dat (tnefparse),
delivery status reports (failed recipients), automatic mail (`autoreply`) and the new part of a
reply (`quotes`). Mail that is malformed but readable is parsed as well as possible and the problems
are listed in `defects`; input that is not mail at all raises NotAnEmail.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html as html_lib
import quopri
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import decode_params, getaddresses, parsedate_to_datetime, unquote
from typing import Any, ClassVar

import nh3

from linia.intake.email import autoreply, charsets, quotes
from linia.intake.email.htmltext import html_to_text, reparse


class NotAnEmail(ValueError):
    """The input is not an email message at all (empty, binary, a picture, text without headers)."""


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    size: int
    inline: bool
    content_id: str | None
    payload: bytes = field(repr=False)
    dangerous: bool = False  # active content (HTML, SVG, executables, macros): serve only as a download


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    from_email: str | None
    from_name: str
    to: list[str]
    cc: list[str]
    delivered_to: list[str]
    subject: str
    date: datetime | None
    text: str
    html: str | None
    attachments: list[ParsedAttachment]
    is_auto: bool
    auto_kind: str | None
    bounced_recipients: list[str]
    in_reply_to: str | None
    references: list[str]
    reply_text: str
    headers_ok: bool
    defects: list[str]
    reply_to: list[str] = field(default_factory=list)

    @property
    def recipients(self) -> list[str]:
        """Every address the mail names as a recipient (To, Cc, Delivered-To/X-Original-To), no duplicates."""
        return list(dict.fromkeys(self.to + self.cc + self.delivered_to))


MAX_SUBJECT = 1000
MAX_NAME = 200
MAX_REFERENCES = 100
MAX_DEPTH = 30
MANY_TAGS = 5000  # HTML with more tags is re-parsed by lxml (depth capped) before nh3
MAX_MIME_HEADER = 4096  # longer Content-Type/-Disposition fields are cut: the stdlib parses them in O(n²)
HEADER_SCAN = 256 * 1024


class _FetchOncePolicy(EmailPolicy):
    """`policy.default`, except that a header field's object is built once, not on every read. The parser
    itself reads Content-Type (and the payload decoder Content-Transfer-Encoding and the charset) several
    times per MIME part, and each read re-ran the header registry's parser: half of `parse_message`'s time.
    The objects are immutable, so handing out the same one again changes nothing."""

    _built: ClassVar[dict[tuple[str, str], Any]] = {}

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name") or len(value) > MAX_MIME_HEADER:
            return super().header_fetch_parse(name, value)
        key = (name, value)
        header = self._built.get(key)
        if header is None:
            if len(self._built) >= 256:  # only repeats within one message matter: kept small (≤ 1 MB)
                self._built.clear()
            header = self._built[key] = super().header_fetch_parse(name, value)
        return header


_PARSER = BytesParser(policy=_FetchOncePolicy())
_EML_POLICY = policy.default.clone(linesep="\r\n", refold_source="none", max_line_length=0)
_MAGIC = ((b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image"),
          (b"%PDF", "PDF document"), (b"PK\x03\x04", "ZIP archive"), (b"\x1f\x8b", "gzip archive"),
          (b"\x7fELF", "executable"), (b"\xd0\xcf\x11\xe0", "MS Office/Outlook .msg file"),
          (b"BM", "BMP image"), (b"RIFF", "RIFF media file"), (b"\x00\x00\x01\x00", "icon"))
_HEADER_LINE = re.compile(rb"^[!-9;-~]{1,100}[ \t]*:")
MAIL_HEADERS = {b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"received", b"return-path",
                b"sender", b"mime-version", b"delivered-to", b"reply-to", b"in-reply-to", b"references",
                b"x-original-to", b"envelope-to", b"x-mailer", b"user-agent", b"bcc", b"x-failed-recipients"}
TRACE_HEADERS = {b"received", b"delivered-to", b"return-path", b"x-original-to", b"envelope-to",
                 b"x-received", b"arc-seal", b"arc-message-signature", b"arc-authentication-results",
                 b"authentication-results", b"received-spf", b"x-spam-status", b"x-spam-score",
                 b"x-virus-scanned", b"x-gm-message-state", b"x-google-smtp-source"}
_EW = re.compile(r"=\?([^?\s]*)\?([QqBb])\?(.*?)\?=", re.S)
_EW_OPEN = re.compile(r"=\?([^?\s]*)\?([QqBb])\?(\S*)$", re.S)
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_B64_JUNK = re.compile(r"[^A-Za-z0-9+/]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>\s]+)>")
_ADDR = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+$")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
DANGEROUS_EXT = {"html", "htm", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "js", "mjs",
                 "exe", "com", "bat", "cmd", "scr", "pif", "vbs", "vbe", "jse", "wsf", "wsh", "hta", "msi",
                 "msp", "jar", "ps1", "psm1", "lnk", "reg", "dll", "cpl", "iso", "img", "vhd", "vhdx",
                 "docm", "xlsm", "pptm", "dotm", "xlam", "apk", "app", "dmg", "sh", "swf", "chm"}
DANGEROUS_TYPES = {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                   "application/javascript", "text/javascript", "application/x-msdownload",
                   "application/x-msdos-program", "application/x-sh", "application/hta",
                   "application/x-shockwave-flash", "application/vnd.microsoft.portable-executable"}
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
              "application/pdf": ".pdf", "text/plain": ".txt", "text/html": ".html", "message/rfc822": ".eml",
              "text/calendar": ".ics", "text/csv": ".csv", "application/zip": ".zip", "text/rtf": ".rtf",
              "application/rtf": ".rtf", "text/rfc822-headers": ".txt", "message/delivery-status": ".txt",
              "message/disposition-notification": ".txt"}
TYPES = {ext: ctype for ctype, ext in EXTENSIONS.items()} | {
    ".jpeg": "image/jpeg", ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".htm": "text/html",
    ".exe": "application/x-msdownload", ".txt": "text/plain"}
_NH3_SCHEMES = set(nh3.ALLOWED_URL_SCHEMES) | {"cid"}


def _raw_bytes(value: str) -> bytes:
    """The original bytes of text the stdlib parser read as ASCII with surrogate escapes (or, for text
    it already decoded, its UTF-8)."""
    if value.isascii():
        return value.encode("ascii")
    try:
        return value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        pass
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


def _has_8bit(value: str) -> bool:
    return not value.isascii()


class _Decoder:
    """Header decoding with a charset hint taken from the message's body."""

    def __init__(self, defects: list[str]) -> None:
        self.defects = defects
        self.hint: str | None = None

    def text(self, value: str) -> str:
        """Raw (possibly 8-bit) text → str, through the charset rules."""
        if not _has_8bit(value):
            return value
        try:
            data = _raw_bytes(value)
        except UnicodeEncodeError:
            return value  # already real unicode
        text, defect = charsets.decode(data, None, self.hint)
        self._note("8-bit header" + (f" ({defect})" if defect else ""))
        return text

    def _note(self, defect: str) -> None:
        if defect not in self.defects:
            self.defects.append(defect)

    def words(self, value: str) -> str:
        """Decode RFC 2047 encoded words, tolerating the usual breakage (split multibyte characters,
        spaces inside words, a missing "?=", wrong charset labels, raw 8-bit text around them)."""
        value = _FOLD.sub("", value)
        if "=?" not in value:
            return self.text(value)
        pieces: list[tuple[str | None, Any]] = []  # (charset, bytes) for words, (None, str) for text
        pos = 0
        matches = list(_EW.finditer(value))
        tail_open = _EW_OPEN.search(value, matches[-1].end() if matches else 0)
        spans = [(m.start(), m.end(), m.group(1), m.group(2), m.group(3)) for m in matches]
        if tail_open:
            self._note("encoded word not closed")
            spans.append((tail_open.start(), len(value), tail_open.group(1), tail_open.group(2),
                          tail_open.group(3)))
        for start, end, label, enc, payload in spans:
            between = value[pos:start]
            if between and not (between.isspace() and pieces and pieces[-1][0] is not None):
                pieces.append((None, between))
            data = self._word_bytes(enc, payload)
            if pieces and pieces[-1][0] is not None and pieces[-1][0].lower() == label.lower():
                pieces[-1] = (pieces[-1][0], pieces[-1][1] + data)  # join words of one charset: split chars
            else:
                pieces.append((label, data))
            pos = end
        if pos < len(value):
            pieces.append((None, value[pos:]))
        out: list[str] = []
        for label, data in pieces:
            if label is None:
                out.append(self.text(data))
            else:
                text, defect = charsets.decode(data, label.split("*", 1)[0] or None, self.hint)
                if defect:
                    self._note(f"encoded word: {defect}")
                out.append(text)
        return "".join(out)

    def _word_bytes(self, enc: str, payload: str) -> bytes:
        raw = _raw_bytes(payload) if _has_8bit(payload) else payload.encode("ascii")
        if enc in "Qq":
            return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw.replace(b"_", b" "))
        clean = _B64_JUNK.sub("", payload)
        if clean != payload.rstrip("="):
            self._note("encoded word: bad base64")
        clean = clean[: len(clean) - len(clean) % 4] if len(clean) % 4 == 1 else clean
        try:
            return base64.b64decode(clean + "=" * (-len(clean) % 4))
        except (binascii.Error, ValueError):
            self._note("encoded word: undecodable base64")
            return raw


def _one_line(value: str, limit: int) -> str:
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()[:limit].rstrip()


def _msgid(value: str | None) -> str | None:
    if not value:
        return None
    match = _MSGID.search(value)
    if match:
        return match.group(1)[:995]
    token = value.strip().split()
    return token[0].strip("<>")[:995] if token and "@" in token[0] else None


def _references(value: str | None) -> list[str]:
    if not value:
        return []
    ids = list(dict.fromkeys(m.group(1)[:995] for m in _MSGID.finditer(value)))
    if not ids:
        ids = [t.strip("<>,") for t in value.split() if "@" in t]
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1):]
    return ids


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if not value:
        return None
    value = _one_line(value, 200)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            defects.append(f"unreadable Date: {value[:60]}")
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if not 1980 <= when.year <= 2100:
        defects.append(f"implausible Date: {value[:60]}")
        return None
    return when.astimezone(UTC)


@dataclass
class _Part:
    """An attachment while the tree is walked (ParsedAttachment is frozen)."""

    filename: str
    content_type: str
    payload: bytes
    disposition: str | None
    content_id: str | None


@dataclass
class _Segment:
    plain: str | None
    html: str | None


def _split_params(raw: str) -> tuple[str, dict[str, str]]:
    """A Content-Type/Content-Disposition value → (lower-case value, params) with RFC 2231 continuations
    and charsets decoded. Our own small parser over the raw header: the stdlib's header objects cost a
    millisecond per message and have raised on hostile input."""
    raw = _FOLD.sub("", raw).replace("\r", " ").replace("\n", " ")
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for ch in raw:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    main = pieces[0].strip().lower()
    pairs: list[tuple[str, str]] = []
    for piece in pieces[1:]:
        key, eq, value = piece.partition("=")
        if eq and key.strip():
            pairs.append((key.strip().lower(), value.strip()))
    decoded: list[tuple[str, Any]]
    try:
        decoded = decode_params([(main, ""), *pairs])[1:]
    except Exception:  # malformed continuations: keep the plain values
        decoded = list(pairs)
    params: dict[str, str] = {}
    for name, item in decoded:
        if isinstance(item, tuple):
            label, _, text = item
            data = bytes(unquote(text), "raw-unicode-escape")
            params.setdefault(name, charsets.decode(data, label or None)[0])
        else:
            params.setdefault(name, unquote(str(item)))
    return main, params


def _content_type(part: Message) -> tuple[str, dict[str, str]]:
    raw = _raw_header(part, "content-type")
    if raw is None:
        return part.get_default_type(), {}
    ctype, params = _split_params(raw)
    if ctype.count("/") != 1 or " " in ctype or not ctype.isascii():
        ctype = "text/plain"
    return ctype, params


def _disposition(part: Message) -> tuple[str | None, dict[str, str]]:
    raw = _raw_header(part, "content-disposition")
    if raw is None:
        return None, {}
    disp, params = _split_params(raw)
    return disp or None, params


def _raw_header(part: Message, name: str) -> str | None:
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def safe_filename(name: str, content_type: str, index: int) -> str:
    name = _CONTROL.sub("", name).replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".").strip()
    name = _SPACES.sub(" ", name)
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + "." + ext[:9]) if dot and len(ext) < 10 else name[:200]
    if not name:
        name = f"attachment-{index}{EXTENSIONS.get(content_type, '.bin')}"
    return name


def is_dangerous(filename: str, content_type: str) -> bool:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return ext in DANGEROUS_EXT or content_type in DANGEROUS_TYPES


class _Walker:
    def __init__(self, decoder: _Decoder, defects: list[str], collect: bool = True) -> None:
        self.decoder = decoder
        self.defects = defects
        self.collect = collect
        self.parts: list[_Part] = []
        self.bounced: list[str] = []
        self.report_type = ""
        self.first_charset: str | None = None

    def note(self, defect: str) -> None:
        if defect not in self.defects and len(self.defects) < 100:
            self.defects.append(defect)

    def walk(self, part: Message, depth: int = 0) -> list[_Segment]:
        if depth > MAX_DEPTH:
            self.note("MIME nesting too deep; inner parts skipped")
            return []
        for defect in getattr(part, "defects", []):
            self.note(type(defect).__name__)
        ctype, params = _content_type(part)
        if ctype.startswith("message/"):
            return self._message_part(part, ctype, depth)
        if ctype.startswith("multipart/") and not part.is_multipart():
            return self._lost_boundary(part, ctype, depth)
        if part.is_multipart():
            payload = part.get_payload()
            subs = [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
            if ctype == "multipart/alternative":
                return self._alternative(subs, depth)
            if ctype == "multipart/report":
                self.report_type = params.get("report-type", "").lower()
            segs: list[_Segment] = []
            for sub in subs:
                segs.extend(self.walk(sub, depth + 1))
            return segs
        disp, dparams = _disposition(part)
        filename = self._filename(part, params, dparams)
        if ctype in ("text/plain", "text/html") and disp != "attachment" and not filename:
            return [self._text(part, ctype, params)]
        if ctype == "application/ms-tnef" or (filename or "").lower() == "winmail.dat":
            if self._tnef(part):
                return self._tnef_segments
            self._attach(part, ctype, filename, disp)
            return []
        self._attach(part, ctype, filename, disp)
        return []

    def _lost_boundary(self, part: Message, ctype: str, depth: int) -> list[_Segment]:
        """A multipart without (or with the wrong) boundary parameter: find the boundary from the first
        "--" line and parse the parts again; failing that, the body is text."""
        body = self._payload(part)
        match = re.search(rb"^--([^\s]{1,70})[ \t]*\r?$", body, re.M)
        if match and not match.group(1).endswith(b"--"):
            self.note("multipart boundary recovered from the body")
            rebuilt = (b"Content-Type: " + ctype.encode() + b'; boundary="' + match.group(1).replace(b'"', b"")
                       + b'"\r\n\r\n' + body)
            inner = _PARSER.parsebytes(rebuilt)
            if inner.is_multipart():
                return self.walk(inner, depth + 1)
        text, _ = charsets.decode(body, None, self.decoder.hint)
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        return [_Segment(text, None)] if text.strip() else []

    def _message_part(self, part: Message, ctype: str, depth: int) -> list[_Segment]:
        """message/rfc822 (a forward), message/delivery-status (a DSN), other message/* (MDNs)."""
        _, params = _content_type(part)
        disp, dparams = _disposition(part)
        filename = self._filename(part, params, dparams)
        payload = part.get_payload()
        if ctype in ("message/rfc822", "message/global") and isinstance(payload, list) and payload:
            return self._forwarded(part, filename, depth)
        if ctype == "message/delivery-status":
            self._delivery_status(part)
            filename = filename or "delivery-status.txt"
        data = self._payload(part)
        if not data and isinstance(payload, list):
            chunks = []
            for block in payload:
                try:
                    chunks.append(block.as_bytes(policy=_EML_POLICY) if isinstance(block, Message) else b"")
                except Exception:  # the generator can fail on hostile headers; keep what serialises
                    self.note(f"{ctype} part could not be re-serialised")
            data = b"".join(chunks).rstrip(b"\r\n")
        self._attach(part, ctype, filename, disp or "attachment", payload=data)
        return []

    def _alternative(self, subs: list[Message], depth: int) -> list[_Segment]:
        plain: str | None = None
        html: str | None = None
        for sub in subs:
            segs = self.walk(sub, depth + 1)
            plains = [s.plain for s in segs if s.plain is not None]
            htmls = [s.html for s in segs if s.html is not None]
            if plains and plain is None:
                plain = "\n\n".join(plains)
            if htmls:
                html = "".join(htmls)
        if plain is not None and not plain.strip() and html is not None:
            plain = None  # an empty plain alternative next to real HTML: derive the text from the HTML
        return [_Segment(plain, html)] if plain is not None or html is not None else []

    def _payload(self, part: Message) -> bytes:
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        for defect in getattr(part, "defects", []):
            self.note(type(defect).__name__)
        if isinstance(data, bytes):
            return data
        raw = part.get_payload()
        if isinstance(raw, str):
            return _raw_bytes(raw) if _has_8bit(raw) else raw.encode("ascii")
        return b""

    def _text(self, part: Message, ctype: str, params: dict[str, str]) -> _Segment:
        data = self._payload(part)
        declared = params.get("charset")
        if ctype == "text/html" and not declared:
            meta = _META_CHARSET.search(data[:4096])
            declared = meta.group(1).decode("ascii", "replace") if meta else None
        text, defect = charsets.decode(data, declared, self.decoder.hint)
        if defect:
            self.note(f"{ctype}: {defect}")
        if self.first_charset is None and declared and not data.isascii():
            self.first_charset = declared
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        if ctype == "text/html":
            return _Segment(None, sanitize_html(text))
        if params.get("format", "").lower() == "flowed":
            text = unflow(text, params.get("delsp", "").lower() == "yes")
        return _Segment(text, None)

    def _filename(self, part: Message, params: dict[str, str], dparams: dict[str, str]) -> str | None:
        name = dparams.get("filename") or params.get("name")
        if not name:
            return None
        if _has_8bit(name):  # a raw 8-bit parameter (old mailers): through the charset rules
            name = self.decoder.text(name)
        if "=?" in name:
            name = self.decoder.words(name)
        return name

    def _attach(self, part: Message, ctype: str, filename: str | None, disp: str | None,
                payload: bytes | None = None) -> None:
        if not self.collect:
            return
        cid = _raw_header(part, "content-id")
        content_id = _one_line(cid, 250).strip("<>").strip() or None if cid else None
        data = self._payload(part) if payload is None else payload
        name = safe_filename(filename or "", ctype, len(self.parts) + 1)
        if ctype in ("application/octet-stream", "application/x-octet-stream") and "." in name:
            ctype = TYPES.get("." + name.rsplit(".", 1)[-1].lower(), ctype)
        self.parts.append(_Part(name, ctype, data, disp, content_id))

    def _forwarded(self, part: Message, filename: str | None, depth: int) -> list[_Segment]:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            self._attach(part, "message/rfc822", filename or "message.eml", "attachment")
            return []
        try:
            eml = inner.as_bytes(policy=_EML_POLICY)
        except Exception:
            eml = b""
            self.note("forwarded message could not be re-serialised")
        cte = (_raw_header(part, "content-transfer-encoding") or "").strip().lower()
        if cte in ("base64", "quoted-printable") and eml:
            # not allowed by RFC 2046, sent anyway by some clients: the stdlib read the encoded text as
            # the message; decode it and parse again
            self.note(f"message/rfc822 part with {cte} transfer encoding")
            try:
                eml = (base64.b64decode(b"".join(eml.split()) + b"==", validate=False) if cte == "base64"
                       else quopri.decodestring(eml))
                reparsed = _PARSER.parsebytes(eml)
            except Exception:
                reparsed = None
            if isinstance(reparsed, Message):
                inner = reparsed
        child = _Walker(self.decoder, self.defects, collect=False)
        segs = child.walk(inner, depth + 1)
        subject = _one_line(self.decoder.words(_raw_header(inner, "subject") or ""), MAX_SUBJECT)
        lines = ["---------- Forwarded message ----------"]
        for label, header in (("From", "from"), ("Date", "date"), ("Subject", "subject"), ("To", "to")):
            raw = _raw_header(inner, header)
            if raw:
                lines.append(f"{label}: {_one_line(self.decoder.words(raw), MAX_SUBJECT)}")
        inner_text = "\n\n".join(s.plain if s.plain is not None else html_to_text(s.html or "") for s in segs)
        name = filename or f"{subject or 'forwarded message'}.eml"
        if not name.lower().endswith(".eml"):
            name += ".eml"
        self._attach(part, "message/rfc822", name, "attachment", payload=eml)
        return [_Segment("\n".join(lines) + "\n\n" + inner_text.strip(), None)]

    def _delivery_status(self, part: Message) -> None:
        payload = part.get_payload()
        blocks: list[list[tuple[str, str]]] = []
        if isinstance(payload, list):
            blocks = [[(k.lower(), str(v)) for k, v in b.raw_items()] for b in payload if isinstance(b, Message)]
        else:
            text = self._payload(part).decode("utf-8", "replace").replace("\r\n", "\n")
            for chunk in re.split(r"\n\s*\n", text):
                found = re.findall(r"^([\w-]+)\s*:\s*(.*)$", chunk, re.M)
                blocks.append([(k.lower(), v) for k, v in found])
        for block in blocks:
            fields = dict(block)
            action = fields.get("action", "").strip().lower()
            status = fields.get("status", "").strip()
            recipient = fields.get("final-recipient") or fields.get("original-recipient")
            if not recipient or not (action.startswith("failed") or (not action and status.startswith("5"))):
                continue
            address = _FOLD.sub("", recipient).split(";", 1)[-1].strip().strip("<>").lower()
            if _ADDR.match(address) and address not in self.bounced:
                self.bounced.append(address)

    _tnef_segments: list[_Segment]

    def _tnef(self, part: Message) -> bool:
        """Unpack winmail.dat: its attachments replace it, its body becomes a segment."""
        self._tnef_segments = []
        try:
            from tnefparse.tnef import TNEF

            tnef = TNEF(self._payload(part), do_checksum=False)
        except Exception:  # a broken TNEF blob stays an attachment
            self.note("winmail.dat could not be decoded; kept as it is")
            return False
        found = False
        for index, att in enumerate(tnef.attachments):
            data = att.data if isinstance(att.data, bytes) else b""
            try:
                name = str(att.long_filename())
            except Exception:
                raw_name = att._name if isinstance(att._name, bytes) else b""
                name = charsets.decode(raw_name.rstrip(b"\x00"), tnef.codepage)[0]
            name = name.strip("\x00")
            ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if self.collect:
                self.parts.append(_Part(safe_filename(name, "", index + 1), TYPES.get(ext, "application/octet-stream"),
                                        data, "attachment", None))
            found = True
        body = tnef.body
        if body:
            text = body if isinstance(body, str) else charsets.decode(body.rstrip(b"\x00"), tnef.codepage)[0]
            self._tnef_segments.append(_Segment(text.replace("\r\n", "\n").strip("\x00"), None))
            found = True
        elif tnef.htmlbody:
            markup = tnef.htmlbody if isinstance(tnef.htmlbody, str) else charsets.decode(tnef.htmlbody, None)[0]
            self._tnef_segments.append(_Segment(None, sanitize_html(markup)))
            found = True
        return found


def sanitize_html(markup: str) -> str:
    """Safe HTML for display: nh3's (ammonia's) defaults, plus cid: links for inline images."""
    if markup.count("<") > MANY_TAGS:
        markup = reparse(markup)
    return nh3.clean(markup, url_schemes=_NH3_SCHEMES, clean_content_tags={"script", "style", "title"})


def unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: join soft-broken lines (ending in a space) of the same quote depth,
    undo space-stuffing, keep the "-- " signature line."""
    out: list[str] = []
    buf: str | None = None
    buf_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):  # space-stuffed, or the space after the quote marks
            content = content[1:]
        if buf is not None and depth != buf_depth:
            out.append(buf)
            buf = None
        if buf is None:
            buf, buf_depth = (">" * depth + " " if depth else ""), depth
        if content.endswith(" ") and content != "-- ":
            buf += content[:-1] if delsp else content
        else:
            out.append(buf + content)
            buf = None
    if buf is not None:
        out.append(buf)
    return "\n".join(out)


def _defuse(data: bytes, defects: list[str]) -> bytes:
    """Tame Content-Type, -Disposition and -Transfer-Encoding fields the standard library parses badly (it reads
    them while splitting the MIME tree): longer than MAX_MIME_HEADER they are cut at a parameter
    boundary (its parameter parser is quadratic: 20,000 parameters took 25 s), and parentheses are
    dropped from fields with many of them (nested comments overflow its recursive parser)."""
    low = data.lower()
    edits: list[tuple[int, int, bytes]] = []
    for needle in (b"content-type", b"content-disposition", b"content-transfer-encoding"):
        pos = low.find(needle)
        while pos >= 0:
            if pos == 0 or data[pos - 1:pos] == b"\n":
                end = pos
                while True:  # the field ends at a line break not followed by folding white space
                    newline = data.find(b"\n", end)
                    if newline < 0:
                        end = len(data)
                        break
                    end = newline + 1
                    if data[end:end + 1] not in (b" ", b"\t"):
                        end = newline
                        break
                field_bytes = data[pos:end].rstrip(b"\r")
                fixed = field_bytes
                if len(fixed) > MAX_MIME_HEADER:
                    cut = fixed.rfind(b";", 0, MAX_MIME_HEADER)
                    fixed = fixed[:cut if cut > 0 else MAX_MIME_HEADER].rstrip(b"\r\n")
                if fixed.count(b"(") > 20:
                    fixed = fixed.replace(b"(", b"").replace(b")", b"")
                if fixed != field_bytes:
                    edits.append((pos, pos + len(field_bytes), fixed))
                    name = field_bytes.split(b":", 1)[0].decode("ascii", "replace").strip()
                    defects.append(f"{name} field too long or too deeply nested, cut")
            pos = low.find(needle, pos + 1)
    if not edits:
        return data
    pieces: list[bytes] = []
    last = 0
    for begin, finish, fixed in sorted(edits):
        if begin >= last:
            pieces += [data[last:begin], fixed]
            last = finish
    return b"".join(pieces) + data[last:]


def check_mail(raw: bytes) -> bytes:
    """The bytes to parse (BOM, leading blank lines and an mbox "From " line removed), or NotAnEmail."""
    if not raw.strip():
        raise NotAnEmail("empty input")
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            raise NotAnEmail(f"a {what}, not an email")
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    data = data.lstrip(b"\r\n\t ")
    if data.startswith(b"From ") and not _HEADER_LINE.match(data):
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    head = data[:HEADER_SCAN]
    names: set[bytes] = set()
    for index, line in enumerate(head.split(b"\n")):
        line = line.rstrip(b"\r")
        if not line:
            break
        if b"\x00" in line:
            raise NotAnEmail("binary data, not an email (NUL bytes in the header block)")
        if line[:1] in (b" ", b"\t") and index:
            continue
        match = _HEADER_LINE.match(line)
        if not match:
            if index == 0:
                raise NotAnEmail("the first line is not a header field (Name: value): not an email")
            break
        names.add(match.group(0).rstrip(b": \t").lower())
    if not names & MAIL_HEADERS:
        raise NotAnEmail("no mail header (From, To, Subject, Date, Message-ID, Received, ...): not an email")
    return data


def parse_message(raw: bytes) -> ParsedEmail:
    """Read one email. Never raises for mail that has headers; raises NotAnEmail for anything else."""
    data = check_mail(bytes(raw))
    defects: list[str] = []
    data = _defuse(data, defects)
    try:
        msg = _PARSER.parsebytes(data)
    except Exception as exc:  # the stdlib parser is not supposed to raise at all
        raise NotAnEmail(f"unreadable message: {type(exc).__name__}") from exc
    return _build(msg, defects)


def _header_map(msg: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        headers.setdefault(name.strip().lower(), []).append(_FOLD.sub("", str(value)).strip())
    return headers


def _addresses(decoder: _Decoder, values: list[str] | None, dirty: list[bool]) -> list[tuple[str, str]]:
    if not values:
        return []
    raw = ", ".join(values)
    try:
        pairs = getaddresses([raw])
    except Exception:
        pairs = []
    result: list[tuple[str, str]] = []
    for name, addr in pairs:
        address = _CONTROL.sub("", addr).strip().strip("<>").lower()
        if not _ADDR.match(address):
            continue
        decoded = decoder.words(name) if name else ""
        if any(c in decoded for c in "\r\n\x00"):
            dirty[0] = True
        result.append((_one_line(decoded.strip().strip("\"'"), MAX_NAME), address))
    if not result and ("=?" in raw or _has_8bit(raw)):  # the whole "Name <addr>" inside one encoded word
        decoded = decoder.words(raw)
        if any(c in decoded for c in "\r\n\x00"):
            dirty[0] = True
        try:
            again = getaddresses([_one_line(decoded, 5000)])
        except Exception:
            again = []
        result = [(_one_line(n.strip().strip("\"'"), MAX_NAME), a.strip().lower()) for n, a in again
                  if _ADDR.match(a.strip())]
    return result


def _build(msg: EmailMessage | Message, defects: list[str]) -> ParsedEmail:
    headers = _header_map(msg)
    decoder = _Decoder(defects)
    walker = _Walker(decoder, defects)
    # a charset hint for raw 8-bit headers: the first declared body charset
    for part in msg.walk():
        charset = _content_type(part)[1].get("charset")
        if charset and charsets.normalize(charset) not in (None, "ascii"):
            decoder.hint = charset
            break
    try:
        segments = walker.walk(msg)
    except RecursionError:
        walker.note("MIME nesting too deep")
        segments = []
    dirty = [False]
    subject_raw = headers.get("subject", [""])[0]
    subject_decoded = decoder.words(subject_raw)
    if any(c in subject_decoded for c in "\r\n\x00"):
        dirty[0] = True
    subject = _one_line(subject_decoded, MAX_SUBJECT)
    if len(_one_line(subject_decoded, MAX_SUBJECT + 1)) > MAX_SUBJECT:
        walker.note(f"subject longer than {MAX_SUBJECT} characters, cut")
    senders = _addresses(decoder, headers.get("from"), dirty)
    from_ok = bool(senders)
    if not senders:
        walker.note("missing From" if "from" not in headers else "unreadable From")
        senders = _addresses(decoder, headers.get("sender"), dirty) or [
            ("", a) for _, a in _addresses(decoder, headers.get("return-path"), dirty)]
    from_name, from_email = senders[0] if senders else ("", None)
    to = [a for _, a in _addresses(decoder, headers.get("to"), dirty)]
    cc = [a for _, a in _addresses(decoder, headers.get("cc"), dirty)]
    delivered = [a for _, a in _addresses(decoder, (headers.get("delivered-to") or [])
                                          + (headers.get("x-original-to") or [])
                                          + (headers.get("envelope-to") or []), dirty)]
    reply_to = [a for _, a in _addresses(decoder, headers.get("reply-to"), dirty)]
    if "message-id" not in headers:
        walker.note("missing Message-ID")
    date = _date(headers.get("date", [None])[0], defects)

    texts: list[str] = []
    for seg in segments:
        chunk = seg.plain if seg.plain is not None else html_to_text(seg.html or "")
        if chunk.strip():
            texts.append(chunk.strip("\n"))
    text = "\n\n".join(texts)
    html: str | None = None
    if any(seg.html is not None for seg in segments):
        html = "".join(seg.html if seg.html is not None else
                       f"<pre>{html_lib.escape(seg.plain or '')}</pre>" for seg in segments)

    ctype, params = _content_type(msg)
    kind = autoreply.classify(headers, subject, text, ctype, walker.report_type or
                              params.get("report-type", "").lower(), from_email)
    bounced = list(walker.bounced)
    if kind == "bounce":
        for value in headers.get("x-failed-recipients", []):
            for addr in value.split(","):
                address = addr.strip().strip("<>").lower()
                if _ADDR.match(address) and address not in bounced:
                    bounced.append(address)
        if not bounced:
            bounced = _bounced_from_text(text, {from_email or "", *to, *delivered})

    referenced = set(re.findall(r"cid:([^\"'\s>)]+)", html or "", re.I))
    attachments = []
    for p in walker.parts:
        dangerous = is_dangerous(p.filename, p.content_type)
        inline = (not dangerous and p.content_type.startswith("image/") and p.disposition != "attachment"
                  and (p.disposition == "inline" or (p.content_id or "") in referenced))
        if p.content_id and p.content_id in referenced and not dangerous:
            inline = True
        attachments.append(ParsedAttachment(p.filename, p.content_type, len(p.payload), inline, p.content_id,
                                            p.payload, dangerous))
    return ParsedEmail(
        message_id=_msgid(headers.get("message-id", [None])[0]),
        from_email=from_email, from_name=from_name, to=to, cc=cc, delivered_to=delivered, subject=subject,
        date=date, text=text, html=html, attachments=attachments, is_auto=kind is not None, auto_kind=kind, bounced_recipients=bounced,
        in_reply_to=_msgid(headers.get("in-reply-to", [None])[0]),
        references=_references(" ".join(headers.get("references", []))),
        reply_text=quotes.reply_part(text), headers_ok=from_ok and not dirty[0], defects=defects,
        reply_to=reply_to)


def _bounced_from_text(text: str, exclude: set[str]) -> list[str]:
    """Failed recipients of a bounce without a delivery-status part (qmail, exim, old Exchange):
    addresses in the notice before the returned copy of the message."""
    head = re.split(r"\n\s*(-{3,}.*(original message|copy of the message|below this line|message headers)"
                    r"|original message|.*исходное сообщение)", text[:8000], maxsplit=1, flags=re.I)[0]
    found: list[str] = []
    for address in _EMAIL_IN_TEXT.findall(head):
        address = address.lower().strip(".")
        if address not in exclude and not autoreply.DAEMON.match(address) and address not in found:
            found.append(address)
    return found[:20]


def content_hash(raw: bytes) -> str:
    """sha256 hex of the message without trace headers (Received, Delivered-To, ...) and with LF line
    ends, so the same Message-ID-less mail arriving by two routes (SMTP and IMAP) dedupes."""
    data = raw.replace(b"\r\n", b"\n")
    head, sep, body = data.partition(b"\n\n")
    kept: list[bytes] = []
    skip = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skip:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        skip = name in TRACE_HEADERS or line.startswith(b"From ")
        if not skip:
            kept.append(line)
    return hashlib.sha256(b"\n".join(kept) + sep + body).hexdigest()


def to_json(p: ParsedEmail) -> dict[str, Any]:
    """The `linia email parse` JSON object."""
    return {
        "message_id": p.message_id, "from_email": p.from_email, "from_name": p.from_name, "to": p.to,
        "cc": p.cc, "reply_to": p.reply_to, "delivered_to": p.delivered_to, "subject": p.subject,
        "date": p.date.isoformat() if p.date else None, "text": p.text, "html": p.html,
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                         "inline": a.inline, "content_id": a.content_id, "dangerous": a.dangerous}
                        for a in p.attachments],
        "is_auto": p.is_auto, "auto_kind": p.auto_kind, "bounced_recipients": p.bounced_recipients,
        "in_reply_to": p.in_reply_to, "references": p.references, "reply_text": p.reply_text,
        "headers_ok": p.headers_ok, "defects": p.defects,
    }


def bare_parse(raw: bytes) -> str:
    """The benchmark baseline: the stdlib alone (policy.default, get_body, get_content)."""
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain", "html"))
    try:
        return str(body.get_content()) if body is not None else ""
    except (LookupError, KeyError, ValueError):
        return ""
