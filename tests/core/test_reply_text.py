"""The new text of a reply: real client fixtures, then each quoting form on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mailflow.core.model import InboundMessage
from mailflow.core.parse import parse_message
from mailflow.core.reply_text import new_text, strip_quotes

CORPUS = Path(__file__).parents[1] / "mail" / "replies"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())


def test_corpus_covers_the_clients_and_languages() -> None:
    assert len(EXPECTED) >= 32
    clients = {entry["client"] for entry in EXPECTED.values()}
    assert {"gmail-web", "gmail-web-html", "gmail-android", "outlook-desktop",
            "outlook-desktop-html", "outlook-web", "apple-mail", "ios-mail", "thunderbird",
            "yahoo"} <= clients
    languages = {entry["language"] for entry in EXPECTED.values()}
    assert {"en", "de", "fr", "es", "it", "nl"} <= languages
    raw = b"".join((CORPUS / name).read_bytes() for name in EXPECTED)
    for needle in (b"quoted-printable", b"base64", b"iso-8859-1", b"windows-1252",
                   b"Content-Type: text/html"):
        assert needle in raw


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_new_text_of_fixture(name: str) -> None:
    expected = EXPECTED[name]
    text = new_text(parse_message((CORPUS / name).read_bytes()))
    assert text.strip(), "the new text of a real reply is never empty"
    assert not any(line.lstrip().startswith(">") for line in text.splitlines())
    for marker in expected.get("absent", []):
        assert marker not in text, f"quoted text leaked into the new text: {marker!r}"
    if "text_contains" in expected:
        assert expected["text_contains"] in text


def _html(body: str) -> InboundMessage:
    return InboundMessage(message_id="m@x", subject="Re: [R-7]", from_=None,
                          content_type="text/html", html=body, text="")


# Each row: a reply body, what the new text is.
PLAIN = [
    pytest.param("Done\n\nOn Tue, Nov 17, 2026 at 9:30 AM mailflow <referrals@firm.example> "
                 "wrote:\n> Reply done", "Done", id="gmail-en"),
    pytest.param("Done\n\nOn Tue, Nov 17, 2026 at 9:30 AM Alice Adams <\nalice@firm.example> "
                 "wrote:\n\n> Reply done", "Done", id="gmail-en-wrapped"),
    pytest.param("Done\n\nOn Tue, Nov 17, 2026 at 9:30 AM Alice Adams <alice@firm.example>\n"
                 "wrote:\n> Reply won", "Done", id="gmail-en-wrapped-before-wrote"),
    pytest.param("Merci\n\nLe mar. 17 nov. 2026 à 09:30, Alice Adams <alice@firm.example> a\n"
                 "écrit :\n> done", "Merci", id="gmail-fr-wrapped"),
    pytest.param("Danke\n\nAm Di., 17. Nov. 2026 um 09:30 Uhr schrieb Alice Adams <\n"
                 "alice@firm.example>:\n\n> done", "Danke", id="gmail-de-wrapped"),
    pytest.param("Gracias\n\nEl mar, 17 nov 2026 a las 9:30, Alice Adams (<alice@firm.example>)\n"
                 "escribió:\n> done", "Gracias", id="gmail-es-wrapped"),
    pytest.param("Gedaan\n\nOp 17 nov. 2026 om 09:30 heeft Alice Adams <alice@firm.example> "
                 "het volgende geschreven:\n\nReply done.", "Gedaan", id="outlook-nl-geschreven"),
    pytest.param("Gedaan\n\nOp 17 nov. 2026 om 09:30 heeft Alice Adams <alice@firm.example> het\n"
                 "volgende geschreven:\n> done", "Gedaan", id="apple-nl-wrapped"),
    pytest.param("Erledigt\n\nAlice Adams <alice@firm.example> schrieb am Di., 17. Nov. 2026, "
                 "09:30:\n\nReply done.", "Erledigt", id="gmail-android-de"),
    pytest.param("Erledigt\n\nAlice Adams <alice@firm.example> hat am 17. November 2026 um "
                 "09:30 geschrieben:\n\nReply done.", "Erledigt", id="webmail-de-geschrieben"),
    pytest.param("Hecho\n\nAlice Adams <alice@firm.example> escribió el mar., 17 nov. 2026 "
                 "9:30:\n\nReply done.", "Hecho", id="gmail-android-es"),
    pytest.param("Gedaan\n\nAlice Adams <alice@firm.example> schreef op di 17 nov. 2026 "
                 "09:30:\n\nReply done.", "Gedaan", id="gmail-android-nl"),
    pytest.param("Hecho\n\nDe: mailflow <referrals@firm.example>\nEnviado el: martes, 17 de "
                 "noviembre de 2026 9:30\nPara: Bob\nAsunto: nudge\n\nReply done.", "Hecho",
                 id="outlook-es-enviado-el"),
    pytest.param("Bob schrieb am Montag: erledigt", "Bob schrieb am Montag: erledigt",
                 id="no-date-no-address-is-no-header"),
    pytest.param("Dank\n\nOp di 17 nov. 2026 om 09:30 schreef Alice Adams "
                 "<alice@firm.example>:\n> done", "Dank", id="gmail-nl"),
    pytest.param("Grazie\n\nIl giorno mar 17 nov 2026 alle ore 09:30 Alice Adams <\n"
                 "alice@firm.example> ha scritto:\n> done", "Grazie", id="gmail-it-wrapped"),
    pytest.param("Thanks\nFrom: mailflow <referrals@firm.example>\nSent: Tuesday, November 17, "
                 "2026 9:30 AM\nTo: Bob <bob@law.example>\nSubject: [R-7] nudge\n\nReply done.",
                 "Thanks", id="outlook-en-no-blank-line"),
    pytest.param("Merci\n\nDe : mailflow <referrals@firm.example>\nEnvoyé : mardi 17 novembre "
                 "2026 09:30\nÀ : Bob <bob@law.example>\nObjet : [R-7] nudge\n\nReply done.",
                 "Merci", id="outlook-fr"),
    pytest.param("Gracias\n\nDe: mailflow <referrals@firm.example>\nEnviado: martes, 17 de "
                 "noviembre de 2026 9:30\nPara: Bob\nAsunto: nudge\n\nReply done.",
                 "Gracias", id="outlook-es"),
    pytest.param("Grazie\n\nDa: mailflow <referrals@firm.example>\nInviato: martedì 17 novembre "
                 "2026 09:30\nA: Bob\nOggetto: nudge\n\nReply done.", "Grazie", id="outlook-it"),
    pytest.param("Bedankt\n\nVan: mailflow <referrals@firm.example>\nVerzonden: dinsdag 17 "
                 "november 2026 09:30\nAan: Bob\nOnderwerp: nudge\n\nReply done.",
                 "Bedankt", id="outlook-nl"),
    pytest.param("Danke\n\nVon: mailflow <referrals@firm.example>\nGesendet: Dienstag, 17. "
                 "November 2026 09:30\nAn: Bob\nBetreff: nudge\n\nReply done.",
                 "Danke", id="outlook-de"),
    pytest.param("Thanks\n\n*From:* mailflow <referrals@firm.example>\n*Sent:* Tuesday\n"
                 "*To:* Bob\n*Subject:* nudge\n\nReply done.", "Thanks", id="outlook-bold"),
    pytest.param("Thanks\n\n-----Original Message-----\nFrom: mailflow\nReply done",
                 "Thanks", id="original-message"),
    pytest.param("Danke\n\n-----Ursprüngliche Nachricht-----\nVon: mailflow\nReply done",
                 "Danke", id="urspruengliche-nachricht"),
    pytest.param("Contacted\n\nSent from my iPhone\n\n> On Nov 17, 2026, at 09:30, mailflow "
                 "<referrals@firm.example> wrote:\n> done", "Contacted", id="iphone"),
    pytest.param("Erledigt\n\nVon meinem iPhone gesendet\n\n> Am 17.11.2026 um 09:30 schrieb "
                 "mailflow <referrals@firm.example>:\n> done", "Erledigt", id="iphone-de"),
    pytest.param("Call booked\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n"
                 "________________________________\nFrom: mailflow\nSent: Tuesday\nTo: Bob\n"
                 "Subject: x\n\ndone", "Call booked", id="outlook-ios"),
    pytest.param("Call booked Thursday\n\n-- \nBob Smith\nSmith & Partners LLP\n+44 20 1234 5678",
                 "Call booked Thursday", id="dash-dash-signature"),
    pytest.param("Meeting next week\n\nOn Tuesday, November 17, 2026, 09:30:00 AM GMT, mailflow "
                 "<referrals@firm.example> wrote:\n\nReply done when finished.",
                 "Meeting next week", id="yahoo-no-prefix"),
    pytest.param("On Tue, Nov 17, 2026 at 9:30 AM mailflow <referrals@firm.example> wrote:\n"
                 "> Has Bob made contact? Reply contacted.\n\nNot yet, chasing him.",
                 "Not yet, chasing him.", id="bottom-posted"),
    pytest.param("> Has Bob made contact?\nYes, on Monday.\n> Any outcome yet?\nNot yet.",
                 "Yes, on Monday.\nNot yet.", id="inline-answers-kept"),
    pytest.param("On it - contacted.\nOn Tue, Nov 17, 2026 at 9:30 AM mailflow "
                 "<referrals@firm.example> wrote:\n> done", "On it - contacted.",
                 id="new-line-starting-with-On"),
    pytest.param("Here is what Jane wrote:\nwe are keen", "Here is what Jane wrote:\nwe are keen",
                 id="wrote-without-date-is-text"),
    pytest.param("From: my side, all good.\nSpeak soon", "From: my side, all good.\nSpeak soon",
                 id="single-from-line-is-text"),
    pytest.param("Done.\n- called Tuesday\n- proposal sent", "Done.\n- called Tuesday\n"
                 "- proposal sent", id="hyphen-list-kept"),
    pytest.param("Done", "Done", id="nothing-to-strip"),
]


@pytest.mark.parametrize(("body", "new"), PLAIN)
def test_strip_quotes(body: str, new: str) -> None:
    assert strip_quotes(body) == new


@pytest.mark.parametrize("body", [
    "On Tue, Nov 17, 2026 at 9:30 AM mailflow <referrals@firm.example> wrote:\n\n"
    "Done? Reply done.",
    "From: mailflow <referrals@firm.example>\nSent: Tuesday\nTo: Bob\nSubject: nudge\n\nDone",
    "-----Original Message-----\nFrom: mailflow\n\nWon? Reply won.",
    "Sent from my iPhone\n\n> On Nov 17, 2026, at 09:30, mailflow wrote:\n> done",
    "",
    "\n\n",
])
def test_an_empty_reply_over_a_quote_is_empty(body: str) -> None:
    # quoting without ">" (Outlook, Yahoo): with nothing above it, nothing is new
    assert strip_quotes(body) == ""


def test_crlf_line_ends() -> None:
    body = "Done\r\n\r\nOn Tue, Nov 17, 2026 at 9:30 AM mailflow <r@firm.example> wrote:\r\n> x"
    assert strip_quotes(body) == "Done"


@pytest.mark.parametrize(("html", "new"), [
    pytest.param('<div dir="ltr">Done</div><div class="gmail_quote"><div class="gmail_attr">On '
                 'Tue, Nov 17, 2026 mailflow wrote:</div><blockquote class="gmail_quote">Reply '
                 'done</blockquote></div>', "Done", id="gmail"),
    pytest.param('<div>Won</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg">'
                 '<b>From:</b> mailflow<br><b>Sent:</b> Tuesday</div><div>Reply lost</div>',
                 "Won", id="outlook-web"),
    pytest.param('<p class="MsoNormal">Lost</p><div style="border:none;border-top:solid #E1E1E1 '
                 '1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b>Von:</b> mailflow<br>'
                 '<b>Gesendet:</b> Dienstag</p></div><p>Reply won</p>', "Lost",
                 id="outlook-desktop-border-top"),
    pytest.param('<div>Contacted</div><div><br><blockquote type="cite">Reply done</blockquote>'
                 '</div>', "Contacted", id="apple-mail"),
    pytest.param('<p>Contacted</p><div class="moz-cite-prefix">On 17/11/2026 09:30, mailflow '
                 'wrote:<br></div><blockquote type="cite">Reply done</blockquote>', "Contacted",
                 id="thunderbird"),
    pytest.param('<div>rating 5</div><div id="yahoo_quoted_123" class="yahoo_quoted"><div>On '
                 'Tuesday, mailflow wrote:</div><div>Reply done</div></div>', "rating 5",
                 id="yahoo"),
    pytest.param('<div>On Tue, Nov 17, 2026 at 9:30 AM mailflow wrote:</div><blockquote>Reply '
                 'done</blockquote><div>Won, below the quote</div>', "Won, below the quote",
                 id="written-below-the-quote"),
])
def test_html_only_replies(html: str, new: str) -> None:
    assert new_text(_html(html)) == new


def test_text_part_is_preferred_to_html() -> None:
    message = InboundMessage(message_id="m@x", subject="Re:", from_=None,
                             content_type="multipart/alternative", text="Done\n",
                             html="<div>Won</div>")
    assert new_text(message) == "Done"
