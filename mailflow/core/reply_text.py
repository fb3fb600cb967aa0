"""The new text of a reply: quoted text, reply headers and signatures removed.

Two stages, both pure:

1. **HTML** (only when the message has no usable text/plain part): everything from
   the first quote container on is dropped before `html_to_text` runs: Gmail's
   `gmail_quote`, Outlook web's `divRplyFwdMsg` / `appendonsend`, new Outlook's
   `mail-editor-reference-message-container`, Outlook desktop's border-top block
   that starts with a bold "From:", Apple Mail's `<blockquote type="cite">`,
   Thunderbird's `moz-cite-prefix` and Yahoo's `yahoo_quoted`. If nothing is left
   (a reply written below the quote), the whole HTML is converted instead and the
   text stage sorts it out from the "> " lines.
2. **Text**: mail-parser-reply (languages below) cuts at the first reply header it
   knows. Then our own line scanner, which is what decides:

   - lines starting with ">" are quotes and never kept (inline answers between
     them are kept);
   - a *quote header* ends the new text: "On … wrote:" and its forms in
     de/fr/es/it/nl/pt/sv, also wrapped over two lines; Outlook's
     From/Sent/To/Subject block in those languages (two header lines at least,
     so a line that merely starts with "From:" is not one); "-----Original
     Message-----" and its translations; a line of underscores;
   - a *signature* ends the new text: "-- ", "Sent from my iPhone", "Get Outlook
     for iOS", "Von meinem iPhone gesendet" and their kind;
   - before any new text, a quote header followed by ">" lines is a bottom-posted
     or inline reply and is skipped; a quote header followed by unquoted text
     (Outlook, Yahoo and Apple quoting without ">") means everything after it is
     the old message, so the new text is empty.

What mail-parser-reply misses and this adds: HTML-only replies; the wrapped
attribution in languages other than English; "Il giorno … ha scritto:" and
"Op … schreef …:" in some spellings; the Outlook block when the blank line
before it is missing or the names are bold (`*From:*`); the localized
"-----Ursprüngliche Nachricht-----" lines; mobile signatures; quotes without
">" when the reply itself is empty; inline answers after the first quote.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

from mailflow.core.html_text import html_to_text
from mailflow.core.model import InboundMessage

# languages mail-parser-reply knows (it silently drops the ones it does not)
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "sv", "pl", "cs", "da"]
_PARSER = EmailReplyParser(languages=LANGUAGES)

_HTML_QUOTES = re.compile(
    r"<(?:div|blockquote|table)\b[^>]*(?:gmail_quote|divRplyFwdMsg|appendonsend|yahoo_quoted|"
    r"moz-cite-prefix|mail-editor-reference-message-container|OutlookMessageHeader|"
    r"type=[\"']?cite)[^>]*>.*"
    # Outlook desktop: <div style="border:none;border-top:solid #E1E1E1 1.0pt…"><p><b>From:</b>
    r"|<div\b[^>]*border-top:\s*solid[^>]*>\s*(?:<[^>]+>\s*)*"
    r"(?:From|Von|De|Van|Da|Fra|Från|Od)\s*:.*",
    re.IGNORECASE | re.DOTALL)

# --- quote headers -----------------------------------------------------------------

# "On <date>, <name> wrote:" and its translations, as one line.
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\b.{4,300}\b(?:wrote|writes|sent)\s*:"
    r"|Am\b.{4,300}\bschrieb\b.{0,300}:"
    r"|Le\b.{4,300}\ba\s+écrit\s*:"
    r"|El\b.{4,300}\bescribió\s*:"
    r"|(?:Il\s+giorno\b|Il\b).{4,300}\bha\s+scritto\s*:"
    r"|Op\b.{4,300}\bschreef\b.{0,300}:"
    r"|Em\b.{4,300}\bescreveu\s*:"
    r"|Den\b.{4,300}\bskrev\b.{0,300}:"
    # any other line ending so, if it carries a date or an address
    r"|(?=.*[\d@]).{4,300}\b(?:wrote|schrieb|a\s+écrit|escribió|ha\s+scritto|schreef)\s*:"
    r")\s*$",
    re.IGNORECASE)
# The same header wrapped over two lines: how the first line may start…
_ATTRIBUTION_START = re.compile(
    r"^\s*(?:On|Am|Le|El|Il\s+giorno|Il|Op|Em|Den)\s+\S.*\d", re.IGNORECASE)
# …and how the second one ends.
_ATTRIBUTION_END = re.compile(
    r"(?:wrote|writes|schrieb\b.{0,200}|a\s+écrit|écrit|escribió|ha\s+scritto|scritto"
    r"|schreef\b.{0,200}|escreveu|skrev\b.{0,200})\s*:\s*$",
    re.IGNORECASE)

_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Message original|Mensaje original|Messaggio originale|Oorspronkelijk bericht|"
    r"Oorspronkelijk Bericht|Originalmeddelande|Mensagem original|Forwarded message|"
    r"Weitergeleitete Nachricht|Message transféré|Mensaje reenviado|Messaggio inoltrato|"
    r"Doorgestuurd bericht)\s*-{2,}|_{10,}|-{20,})\s*$",
    re.IGNORECASE)

# Outlook's header block: "From:" then at least one of these on the next lines.
_BLOCK_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Van|Da|Fra|Från|Od)\s?\*?\s?:", re.IGNORECASE)
_BLOCK_FIELD = re.compile(
    r"^\s*\*?(?:Sent|Date|To|Cc|Subject|Gesendet|Datum|An|Betreff|Envoyé|Date|À|A|Objet|"
    r"Enviado|Fecha|Para|Asunto|Verzonden|Aan|Onderwerp|Inviato|Data|Oggetto|Skickat|"
    r"Till|Ämne|Sendt|Til|Emne|Odesláno|Komu|Předmět|Wysłano|Do|Temat)\s?\*?\s?:",
    re.IGNORECASE)

# --- signatures ----------------------------------------------------------------------

_SIGNATURE = re.compile(
    r"^\s*(?:--\s*"
    r"|Sent from (?:my|Yahoo|Mail|Outlook|Samsung|Gmail|AOL|Proton)\b.*"
    r"|Get Outlook for \w+.*"
    r"|Sent with Proton Mail.*"
    r"|Von meinem \S+(?: \S+)? gesendet.*|Gesendet von (?:meinem|Outlook|Mail)\b.*"
    r"|Envoyé de mon \S+.*|Envoyé depuis (?:mon|Outlook|Yahoo)\b.*|Obtenir Outlook pour \w+.*"
    r"|Enviado desde mi \S+.*|Enviado desde (?:Outlook|Yahoo|Correo)\b.*"
    r"|Obtener Outlook para \w+.*"
    r"|Inviato da(?:l mio)? \S+.*|Scarica Outlook per \w+.*"
    r"|Verzonden (?:vanaf|met|van) (?:mijn )?\S+.*|Outlook voor \w+ downloaden.*"
    r"|Holen Sie sich Outlook für \w+.*"
    r")\s*$",
    re.IGNORECASE)

# Every quote header the library knows has one of these on some line: skip it otherwise.
_MAYBE_QUOTED = re.compile(r"^\s*>|:\s*$|@|^\s*-{2,}|^\s*_{5,}|^\s*\*?\w+:\*? ", re.M)

_QUOTE, _HEADER, _SIGN, _TEXT, _BLANK = "quote", "header", "sign", "text", "blank"


def _source_text(message: InboundMessage) -> str:
    """The text to read: text/plain, or the HTML body with its quote containers removed."""
    text = message.text
    if message.html and (not text.strip() or message.content_type == "text/html"):
        text = html_to_text(_HTML_QUOTES.sub("", message.html))
        if not text.strip():  # written below the quote: let the text stage find it
            text = html_to_text(message.html)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _block_length(lines: list[str], index: int) -> int:
    """How many lines an Outlook header block starting at `index` spans (0: not a block)."""
    if not _BLOCK_FROM.match(lines[index]):
        return 0
    end = index + 1
    fields = 0
    while end < len(lines) and end <= index + 8:
        line = lines[end]
        if _BLOCK_FIELD.match(line):
            fields += 1
        elif line.strip() and fields == 0 and end == index + 1:
            pass  # a display name wrapped onto a second line
        else:
            break
        end += 1
    return end - index if fields >= 1 else 0


def _classify(lines: list[str]) -> list[tuple[str, int]]:
    """(kind, number of lines) for each logical line of `lines`."""
    out: list[tuple[str, int]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        nxt = lines[index + 1] if index + 1 < len(lines) else ""
        if not stripped:
            out.append((_BLANK, 1))
        elif stripped.startswith(">"):
            out.append((_QUOTE, 1))
        elif _ATTRIBUTION.match(line) or _SEPARATOR.match(line):
            out.append((_HEADER, 1))
        elif (_ATTRIBUTION_START.match(line) and _ATTRIBUTION_END.search(nxt)
              and not nxt.lstrip().startswith(">") and len(line) + len(nxt) < 400):
            out.append((_HEADER, 2))
        elif (span := _block_length(lines, index)) > 0:
            out.append((_HEADER, span))
        elif _SIGNATURE.match(line):
            out.append((_SIGN, 1))
        else:
            out.append((_TEXT, 1))
        index += out[-1][1]
    return out


def _scan(text: str) -> str:
    """Keep the new lines of `text` by the rules in the module docstring."""
    lines = text.split("\n")
    kinds = _classify(lines)
    kept: list[str] = []
    position = 0
    for number, (kind, span) in enumerate(kinds):
        chunk = lines[position:position + span]
        position += span
        has_text = any(line.strip() for line in kept)
        if kind == _QUOTE:
            continue
        if kind == _SIGN:
            if has_text or chunk[0].strip().startswith("--"):
                break
            continue
        if kind == _HEADER:
            if has_text:
                break
            following = next((k for k, _ in kinds[number + 1:] if k != _BLANK), None)
            if following in (_QUOTE, _HEADER, _SIGN, None):
                continue  # a reply written below (or between) ">" quotes
            break  # quoted without ">": the rest is the old message
        kept.extend(chunk)
    return "\n".join(kept).strip()


def strip_quotes(text: str) -> str:
    """The new text of a plain-text reply (quotes, reply headers and signatures removed)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parsed = text
    if _MAYBE_QUOTED.search(text):  # the library is the slow part: skip it for plain text
        try:
            parsed = _PARSER.parse_reply(text=text) or ""
        except Exception:  # the library may trip on odd input; our own rules still apply
            parsed = text
        if not parsed.strip() and text.strip():
            parsed = text  # it cut everything: decide ourselves
    return _scan(parsed)


def new_text(message: InboundMessage) -> str:
    """The new text of a reply `message`: what its sender wrote, without the quoted mail."""
    return strip_quotes(_source_text(message))
