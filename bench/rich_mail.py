"""Mail as people's clients write it, for bench/realistic.py's "rich" style.

Gmail, Outlook and Apple Mail send multipart/alternative (a text part and an HTML part,
quoted-printable when the text is not ASCII); Thunderbird and phones often plain text;
a few tools HTML alone. Every message carries a signature, most a quoted history under
an attribution line in the writer's language ("On … wrote:", "Am … schrieb …:",
"Le … a écrit :", "El … escribió:", "Op … schreef …:", Outlook's "From:/Von:" block),
and its size is drawn between 1 KB and 40 KB (more small ones than large: log-uniform).
Seeded by the caller's random generator, so the mailbox is the same every run.
"""

from __future__ import annotations

import math
import quopri
import random
from email.header import Header
from html import escape

LANGUAGES = ("en", "de", "fr", "es", "nl")
# how often each language writes (the intro's text, a reply's quoting client)
LANGUAGE_WEIGHTS = (0.6, 0.15, 0.1, 0.08, 0.07)

ATTRIBUTION = {
    "en": "On {date}, {name} <{email}> wrote:",
    "de": "Am {date} schrieb {name} <{email}>:",
    "fr": "Le {date}, {name} <{email}> a écrit :",
    "es": "El {date}, {name} <{email}> escribió:",
    "nl": "Op {date} schreef {name} <{email}>:",
}
DATES = {
    "en": "Mon, 14 Sep 2026 at 09:12", "de": "Mo., 14. Sept. 2026 um 09:12",
    "fr": "lun. 14 sept. 2026 à 09:12", "es": "lun, 14 sept 2026 a las 9:12",
    "nl": "ma 14 sep. 2026 om 09:12",
}
OUTLOOK_HEADERS = {  # Outlook quotes under a header block instead of an attribution line
    "en": ("From", "Sent", "To", "Subject"), "de": ("Von", "Gesendet", "An", "Betreff"),
    "fr": ("De", "Envoyé", "À", "Objet"), "es": ("De", "Enviado", "Para", "Asunto"),
    "nl": ("Van", "Verzonden", "Aan", "Onderwerp"),
}
SENTENCES = {
    "en": ["Thanks for getting back to me so quickly.",
           "We are looking at the options for the move next spring.",
           "Could you let me know which documents you need before the first meeting?",
           "I have attached the summary we discussed on the phone last week.",
           "Happy to set up a call whenever suits you; mornings are easiest for me.",
           "The lease runs until the end of March, so there is a little time.",
           "Let me know if anything is unclear and I will dig out the details."],
    "de": ["Vielen Dank für die schnelle Rückmeldung.",
           "Wir überlegen, im Frühjahr in größere Büroräume umzuziehen.",
           "Könnten Sie mir sagen, welche Unterlagen Sie vor dem ersten Termin brauchen?",
           "Anbei die Zusammenfassung unseres Telefonats von letzter Woche.",
           "Gerne können wir einen Termin vereinbaren, vormittags passt es mir am besten.",
           "Der Mietvertrag läuft noch bis Ende März, es bleibt also etwas Zeit."],
    "fr": ["Merci beaucoup pour votre réponse rapide.",
           "Nous réfléchissons à un déménagement au printemps prochain.",
           "Pourriez-vous m'indiquer les documents nécessaires avant le premier rendez-vous ?",
           "Vous trouverez ci-joint le résumé de notre échange téléphonique.",
           "Je suis disponible pour un appel quand cela vous arrange, plutôt le matin.",
           "Le bail court jusqu'à fin mars, nous avons donc un peu de temps."],
    "es": ["Muchas gracias por la rápida respuesta.",
           "Estamos valorando una mudanza de oficina para la próxima primavera.",
           "¿Podría indicarme qué documentos necesita antes de la primera reunión?",
           "Le adjunto el resumen de nuestra llamada de la semana pasada.",
           "Podemos hablar cuando le venga bien; por las mañanas me resulta más fácil.",
           "El contrato de alquiler vence a finales de marzo, así que hay algo de margen."],
    "nl": ["Hartelijk dank voor de snelle reactie.",
           "We denken erover om volgend voorjaar naar een groter kantoor te verhuizen.",
           "Kunt u mij laten weten welke documenten u voor het eerste gesprek nodig heeft?",
           "In de bijlage vindt u de samenvatting van ons telefoongesprek.",
           "Ik bel graag wanneer het u uitkomt, 's ochtends past mij het best.",
           "Het huurcontract loopt tot eind maart, er is dus nog wat tijd."],
}
INTRO_LINES = {
    "en": ("{client}, meet {partner}: the best in town for this.",
           "{partner}, {client} needs help with a move and I said you were the one to ask."),
    "de": ("{client}, darf ich Ihnen {partner} vorstellen, die Beste für dieses Thema.",
           "{partner}, {client} braucht Unterstützung beim Umzug; ich habe Sie empfohlen."),
    "fr": ("{client}, je vous présente {partner}, la meilleure référence sur ce sujet.",
           "{partner}, {client} a besoin d'aide pour un déménagement ; je vous ai recommandé."),
    "es": ("{client}, te presento a {partner}, la mejor en este tema.",
           "{partner}, {client} necesita ayuda con una mudanza y le hablé de ti."),
    "nl": ("{client}, graag stel ik je voor aan {partner}, de beste op dit gebied.",
           "{partner}, {client} zoekt hulp bij een verhuizing; ik heb jou aanbevolen."),
}
SUBJECTS = {
    "en": "Introduction: {client} / {partner}", "de": "Vorstellung: {client} ↔ {partner}",
    "fr": "Mise en relation : {client} / {partner}",
    "es": "Presentación: {client} \u2013 {partner}", "nl": "Kennismaking: {client} / {partner}",
}
REPLY_WORDS = ["contacted", "Done, thanks!", "We spoke on Tuesday, all good.", "won",
               "Hi Alice, not a fit unfortunately.", "snooze 2 weeks",
               "Danke, wir haben telefoniert.", "Merci, c'est fait : nous nous sommes parlé.",
               "¡Gracias! Ya hablamos.", "Bedankt, we hebben contact gehad."]
OUT_OF_OFFICE = {
    "en": ("Automatic reply", "I am out of the office until 7 December with limited access "
           "to email. For anything urgent please contact my colleague."),
    "de": ("Automatische Antwort", "Ich bin bis zum 7. Dezember nicht im Büro und habe nur "
           "eingeschränkt Zugriff auf E-Mails. In dringenden Fällen wenden Sie sich bitte an "
           "meine Kollegin."),
    "fr": ("Réponse automatique", "Je suis absent du bureau jusqu'au 7 décembre. Pour toute "
           "urgence, merci de contacter ma collègue."),
    "es": ("Respuesta automática", "Estoy fuera de la oficina hasta el 7 de diciembre. Para "
           "cualquier asunto urgente, contacte con mi compañera."),
    "nl": ("Automatisch antwoord", "Ik ben tot 7 december niet op kantoor. Neem voor dringende "
           "zaken contact op met mijn collega."),
}
DISCLAIMER = ("CONFIDENTIALITY NOTICE: This email and any attachments are confidential and "
              "may be legally privileged. If you are not the intended recipient, please "
              "notify the sender immediately and delete it; any use, copying or disclosure "
              "is prohibited. Firm LLP is registered in England and Wales (OC123456).")
CLIENTS = ("gmail", "outlook", "apple", "plain", "html")
CLIENT_WEIGHTS = (0.25, 0.2, 0.15, 0.35, 0.05)


def _names() -> tuple[list[str], list[str]]:
    from bench.realistic import FIRST_NAMES, LAST_NAMES
    return FIRST_NAMES, LAST_NAMES


def _name(rng: random.Random) -> str:
    first, last = _names()
    return f"{rng.choice(first)} {rng.choice(last)}"


def _language(rng: random.Random) -> str:
    return rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]


def header(value: str) -> str:
    """A header value, RFC 2047-encoded when it is not ASCII (as every client does)."""
    return value if value.isascii() else Header(value, "utf-8").encode()


def address(name: str, email: str) -> str:
    return f"{header(name)} <{email}>"


def intro_subject(rng: random.Random, partner: str) -> str:
    first, _ = _names()
    return SUBJECTS[_language(rng)].format(client=rng.choice(first),
                                           partner=partner.split("@")[0])


def _size(rng: random.Random) -> int:
    """A message's size without attachments: log-uniform from 1 KB to 40 KB."""
    return int(math.exp(rng.uniform(math.log(1024), math.log(40 * 1024))))


def _paragraphs(rng: random.Random, language: str, chars: int) -> list[str]:
    out: list[str] = []
    size = 0
    while size < chars:
        paragraph = " ".join(rng.choice(SENTENCES[language]) for _ in range(rng.randint(1, 4)))
        out.append(paragraph)
        size += len(paragraph) + 2
    return out


def _signature(rng: random.Random, name: str, legal: bool) -> list[str]:
    lines = ["-- ", name, rng.choice(["Partner", "Associate", "Director", "Geschäftsführerin"]),
             "Firm LLP | 1 Example Street, London", f"+44 20 7946 {rng.randint(1000, 9999)}"]
    return lines + (["", DISCLAIMER] if legal else [])


class Thread:
    """A message's own paragraphs over the quoted history, turned into text and HTML the
    way one mail client writes them."""

    def __init__(self, own: list[str], signature: list[str]) -> None:
        self.own, self.signature = own, signature
        # (attribution or header block lines, quoted paragraphs), newest first
        self.quoted: list[tuple[list[str], list[str], str]] = []

    def quote(self, language: str, name: str, email: str, paragraphs: list[str]) -> None:
        line = ATTRIBUTION[language].format(date=DATES[language], name=name, email=email)
        self.quoted.append(([line], paragraphs, language))

    def text(self, client: str) -> str:
        lines = [*self.own, "", *self.signature]
        depth = 1
        for attribution, paragraphs, language in self.quoted:
            if client == "outlook":
                labels = OUTLOOK_HEADERS[language]
                name = attribution[0].split(" <")[0].rsplit(" ", 2)[-2:]
                lines += ["", "_" * 32, f"{labels[0]}: {' '.join(name)}",
                          f"{labels[1]}: {DATES[language]}", f"{labels[2]}: Alice Adams",
                          f"{labels[3]}: …", "", *paragraphs]
            else:
                prefix = "> " * depth
                lines += ["", *attribution, *(prefix + p for p in paragraphs)]
                depth += 1
        return "\r\n".join(lines) + "\r\n"

    def html(self, client: str) -> str:
        def block(paragraphs: list[str]) -> str:
            if client == "outlook":
                return "".join(f'<p class="MsoNormal"><span lang="EN-GB" style="font-size:11.0pt;'
                               f'font-family:&quot;Calibri&quot;,sans-serif">{escape(p)}'
                               f"<o:p></o:p></span></p>\r\n" for p in paragraphs)
            if client == "apple":
                return "".join(f"<div>{escape(p)}</div><div><br></div>" for p in paragraphs)
            return "".join(f"<div>{escape(p)}</div><div><br></div>\r\n" for p in paragraphs)

        body = block(self.own) + block(self.signature)
        quoted = ""
        for attribution, paragraphs, language in reversed(self.quoted):
            inner = block(paragraphs) + quoted
            if client == "outlook":
                labels = OUTLOOK_HEADERS[language]
                quoted = ('<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt '
                          f'0cm 0cm 0cm"><p class="MsoNormal"><b>{labels[0]}:</b> '
                          f"{escape(attribution[0])}<br><b>{labels[1]}:</b> "
                          f"{DATES[language]}</p></div>\r\n{inner}")
            elif client == "apple":
                quoted = (f'<div><br><blockquote type="cite"><div>{escape(attribution[0])}</div>'
                          f'<br class="Apple-interchange-newline">{inner}</blockquote></div>')
            else:
                quoted = (f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
                          f"{escape(attribution[0])}<br></div><blockquote class=\"gmail_quote\" "
                          'style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
                          f'rgb(204,204,204);padding-left:1ex">\r\n{inner}</blockquote></div>')
        if client == "outlook":
            return ('<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-'
                    'microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:'
                    'word"><head><meta http-equiv="Content-Type" content="text/html; '
                    'charset=utf-8"><style><!--\r\n/* Font Definitions */\r\n@font-face\r\n'
                    '\t{font-family:"Cambria Math";}\r\np.MsoNormal, li.MsoNormal, '
                    'div.MsoNormal\r\n\t{margin:0cm;font-size:11.0pt;font-family:"Calibri",'
                    'sans-serif;}\r\n@page WordSection1\r\n\t{size:612.0pt 792.0pt;margin:'
                    '72.0pt 72.0pt 72.0pt 72.0pt;}\r\n--></style></head><body lang="EN-GB" '
                    'link="#0563C1" vlink="#954F72" style="word-wrap:break-word"><div class='
                    f'"WordSection1">\r\n{body}{quoted}</div></body></html>\r\n')
        if client == "apple":
            return ('<html><head><meta http-equiv="content-type" content="text/html; charset='
                    'utf-8"></head><body style="overflow-wrap: break-word; -webkit-nbsp-mode: '
                    f'space; line-break: after-white-space;">{body}{quoted}</body></html>\r\n')
        return f'<div dir="ltr">{body}</div><br>{quoted}\r\n'


def _part(content_type: str, text: str, flowed: bool = False) -> str:
    """One text part: 8bit when ASCII, else quoted-printable (Gmail, Outlook, Apple)."""
    extra = "; format=flowed" if flowed else ""
    if text.isascii():
        return (f"Content-Type: {content_type}; charset=\"UTF-8\"{extra}\r\n"
                f"Content-Transfer-Encoding: 7bit\r\n\r\n{text}")
    encoded = quopri.encodestring(text.replace("\r\n", "\n").encode()).decode("ascii")
    return (f"Content-Type: {content_type}; charset=\"UTF-8\"{extra}\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            + encoded.replace("\n", "\r\n"))


def _body(rng: random.Random, thread: Thread, client: str, n: int) -> tuple[str, str]:
    """The Content-Type header line(s) and the body of the message, as `client` writes it."""
    if client == "plain":
        part = _part("text/plain", thread.text(client), flowed=rng.random() < 0.5)
        head, _, body = part.partition("\r\n\r\n")
        return head + "\r\n", body
    if client == "html":
        head, _, body = _part("text/html", thread.html("gmail")).partition("\r\n\r\n")
        return head + "\r\n", body
    boundary = {"gmail": f"000000000000{n:012x}", "outlook": f"_000_{n:08d}OUTLOOK_",
                "apple": f"Apple-Mail=_{n:08X}-4C1E-4F3A-9D4B"}[client]
    body = (f"--{boundary}\r\n{_part('text/plain', thread.text(client))}\r\n"
            f"--{boundary}\r\n{_part('text/html', thread.html(client))}\r\n--{boundary}--\r\n")
    return f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n', body


def _fill(rng: random.Random, thread: Thread, client: str, language: str,
          people: list[tuple[str, str]]) -> None:
    """Quoted history until the message reaches its drawn size."""
    target = _size(rng)
    share = 2.6 if client in ("gmail", "apple", "outlook") else 1.0  # text + HTML
    own = sum(len(p) for p in thread.own + thread.signature) * share
    budget = max(0.0, target / share - own - 600)
    while budget > 200:
        name, email = rng.choice(people)
        chunk = min(budget, rng.uniform(300, 4000))
        thread.quote(language, name, email, _paragraphs(rng, language, int(chunk)))
        budget -= chunk + 80


def intro(n: int, rng: random.Random, client_email: str, partner: str, subject: str,
          mid: str, date: str, attachment: bytes | None, forwarded: bool) -> bytes:
    client_name, partner_name = _name(rng), _name(rng)
    language = _language(rng)
    first, second = INTRO_LINES[language]
    own = [first.format(client=client_name.split()[0], partner=partner_name),
           second.format(partner=partner_name.split()[0], client=client_name.split()[0]),
           "", "Best,", "Alice"]
    writer = rng.choices(CLIENTS, CLIENT_WEIGHTS)[0]
    if forwarded:
        to = "referrals@firm.example"
        cc = ""
        own = ["FYI, for the tracker.", "", "---------- Forwarded message ---------",
               "From: Alice Adams <alice@firm.example>", f"Date: {date}",
               f"Subject: {subject}", f"To: {client_email}, {partner}", "", *own]
        subject = "Fwd: " + subject
    else:
        to = f"{address(client_name, client_email)}, {address(partner_name, partner)}"
        cc = "Cc: referrals@firm.example\r\n"
    thread = Thread(own, _signature(rng, "Alice Adams", rng.random() < 0.4))
    if rng.random() < 0.7:  # the client's request the intro answers, and what came before
        _fill(rng, thread, writer, language,
              [(client_name, client_email), ("Alice Adams", "alice@firm.example")])
    head = (f"From: Alice Adams <alice@firm.example>\r\nTo: {to}\r\n{cc}"
            f"Subject: {header(subject)}\r\nDate: {date}\r\nMessage-ID: <{mid}>\r\n"
            f"MIME-Version: 1.0\r\n")
    content_type, body = _body(rng, thread, writer, n)
    if attachment is None:
        return (head + content_type + "\r\n" + body).encode()
    return (head + f'Content-Type: multipart/mixed; boundary="mixed{n}"\r\n\r\n'
            f"--mixed{n}\r\n{content_type}\r\n{body}\r\n--mixed{n}\r\n"
            'Content-Type: application/pdf; name="scan.pdf"\r\n'
            'Content-Disposition: attachment; filename="scan.pdf"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() + attachment + (
                f"--mixed{n}--\r\n").encode()


def reply(n: int, rng: random.Random, intros: list[tuple[str, str, str]], date: str) -> bytes:
    mid, partner, subject = rng.choice(intros)
    language = _language(rng)
    writer = rng.choices(CLIENTS, CLIENT_WEIGHTS)[0]
    name = _name(rng)
    thread = Thread([rng.choice(REPLY_WORDS)], _signature(rng, name, rng.random() < 0.3))
    intro_text = [INTRO_LINES["en"][0].format(client="Jane", partner=name), "Best, Alice"]
    thread.quote(language, "Alice Adams", "alice@firm.example", intro_text)
    _fill(rng, thread, writer, language, [("Alice Adams", "alice@firm.example"),
                                          (name, partner)])
    prefix = rng.choice(["Re: ", "RE: ", "AW: ", "Re : "])
    content_type, body = _body(rng, thread, writer, n)
    return (f"From: {address(name, partner)}\r\nTo: Alice Adams <alice@firm.example>\r\n"
            f"Cc: referrals@firm.example\r\nSubject: {header(prefix + subject)}\r\n"
            f"Date: {date}\r\nMessage-ID: <reply{n}@partners.example>\r\n"
            f"In-Reply-To: <{mid}>\r\nReferences: <{mid}>\r\nMIME-Version: 1.0\r\n"
            f"{content_type}\r\n{body}").encode()


def robot(n: int, rng: random.Random, intros: list[tuple[str, str, str]], date: str) -> bytes:
    mid, partner, subject = rng.choice(intros)
    if rng.random() < 0.6:
        language = _language(rng)
        label, text = OUT_OF_OFFICE[language]
        writer = rng.choice(["outlook", "gmail", "plain"])
        thread = Thread([text], _signature(rng, _name(rng), False))
        content_type, body = _body(rng, thread, writer, n)
        return (f"From: {partner}\r\nTo: referrals@firm.example\r\n"
                f"Subject: {header(f'{label}: {subject}')}\r\nAuto-Submitted: auto-replied\r\n"
                f"X-Auto-Response-Suppress: All\r\nDate: {date}\r\n"
                f"Message-ID: <ooo{n}@partners.example>\r\nIn-Reply-To: <{mid}>\r\n"
                f"MIME-Version: 1.0\r\n{content_type}\r\n{body}").encode()
    return (f"From: MAILER-DAEMON@mx.example\r\nTo: referrals@firm.example\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\nDate: {date}\r\n"
            f"Message-ID: <dsn{n}@mx.example>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
            "--r\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.\r\n\r\n"
            "I'm sorry to have to inform you that your message could not\r\nbe delivered to "
            "one or more recipients.\r\n"
            "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            f"Final-Recipient: rfc822; {partner}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            f"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{mid}>\r\n"
            f"Subject: {header(subject)}\r\n\r\n--r--\r\n").encode()
