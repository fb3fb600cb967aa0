"""The new text of a reply: quoted text, reply headers and signatures removed.

mail-parser-reply does most of the work (Gmail, Outlook, Apple Mail and
Thunderbird headers in many languages); this module adds what it misses:
HTML-only replies, "> " quotes after the first header, Outlook's rule line
and "-----Original Message-----" forms, and mobile signatures.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

from mailflow.core.html_text import html_to_text
from mailflow.core.model import InboundMessage

LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt", "sv", "pl", "cs", "da"]
_PARSER = EmailReplyParser(languages=LANGUAGES)
_HTML_QUOTES = re.compile(
    r"<(div|blockquote)[^>]*(gmail_quote|divRplyFwdMsg|appendonsend|yahoo_quoted|"
    r"moz-cite-prefix|type=\"?cite)[^>]*>.*",
    re.IGNORECASE | re.DOTALL)
_CUT_LINES = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Mensaje original|Messaggio originale|Oorspronkelijk bericht|Forwarded message)"
    r"\s*-{2,}|_{20,}|-- ?|Sent from my \w+.*|Sent from Outlook.*|Get Outlook for \w+.*|"
    r"Von meinem \w+ gesendet.*|Envoyé de mon \w+.*|Enviado desde mi \w+.*|"
    r"Inviato da \w+.*|Verzonden vanaf mijn \w+.*|"
    r"On .{0,200}(?:wrote|writes):|Am .{0,200}schrieb.{0,100}:|Le .{0,200}a écrit ?:|"
    r"El .{0,200}escribió:|Il .{0,200}ha scritto:|Op .{0,200}schreef.{0,100}:|"
    r"(?:\*?(?:From|Von|De|Van|Da):\*? .+))\s*$",
    re.IGNORECASE)
# Every quote header and quote the library knows has one of these on some line.
_MAYBE_QUOTED = re.compile(r"^\s*>|:\s*$|@|^\s*-{2,}|^\s*_{5,}|^\s*\*?\w+:\*? ", re.M)
_WRAPPED_ON = re.compile(r"^\s*On .{0,200}$\n^.{0,200}wrote:\s*$", re.MULTILINE | re.IGNORECASE)


def _source_text(message: InboundMessage) -> str:
    text = message.text
    if message.html and (not text.strip() or message.content_type == "text/html"):
        text = html_to_text(_HTML_QUOTES.sub("", message.html))
    return text.replace("\r\n", "\n")


def strip_quotes(text: str) -> str:
    """The new text of a plain-text reply."""
    text = _WRAPPED_ON.sub("", text, count=1) if _WRAPPED_ON.search(text[:2000]) else text
    parsed = text
    if _MAYBE_QUOTED.search(text):  # the library is the slow part: skip it for plain text
        try:
            parsed = _PARSER.parse_reply(text=text)
        except Exception:  # the library may trip on odd input; our own rules still apply
            parsed = text
    kept: list[str] = []
    for line in (parsed or "").splitlines():
        if line.lstrip().startswith(">") or _CUT_LINES.match(line):
            if kept and any(k.strip() for k in kept):
                break
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def new_text(message: InboundMessage) -> str:
    return strip_quotes(_source_text(message))
