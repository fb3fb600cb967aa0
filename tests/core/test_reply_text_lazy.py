"""The new text of a reply is found classifying its lines only as far as needed
(core/reply_text.py `_Kinds`): the same text as classifying every line first."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bench import realistic
from mailflow.core import reply_text
from mailflow.core.parse import MalformedMessage, parse_message
from mailflow.core.reply_text import _BLANK, _HEADER, _QUOTE, _SIGN, _classify_at, _scan

MAIL = Path(__file__).parents[1] / "mail"


def _scan_every_line(text: str) -> str:
    """The scan as it was: every line classified, then the kinds read."""
    lines = text.split("\n")
    kinds: list[tuple[str, int]] = []
    index = 0
    while index < len(lines):
        kinds.append(_classify_at(lines, index))
        index += kinds[-1][1]
    next_kind: list[str | None] = [None] * len(kinds)
    upcoming: str | None = None
    for number in range(len(kinds) - 1, -1, -1):
        next_kind[number] = upcoming
        if kinds[number][0] != _BLANK:
            upcoming = kinds[number][0]
    kept: list[str] = []
    has_text = False
    position = 0
    for number, (kind, span) in enumerate(kinds):
        chunk = lines[position:position + span]
        position += span
        if kind == _QUOTE:
            continue
        if kind == _SIGN:
            if has_text or chunk[0].strip().startswith("--"):
                break
            continue
        if kind == _HEADER:
            if has_text:
                break
            if next_kind[number] in (_QUOTE, _HEADER, _SIGN, None):
                continue
            break
        kept.extend(chunk)
        has_text = has_text or any(line.strip() for line in chunk)
    return "\n".join(kept).strip()


_LINES = st.sampled_from([
    "", " ", "done", "Done, thanks!", "> quoted", ">", "-- ", "--", "Best,", "Alice",
    "On Mon, 14 Sep 2026 at 09:12, Jane Doe <jane@x.example> wrote:",
    "On Mon, 14 Sep 2026 at 09:12, Jane Doe <jane@x.example>", "wrote:",
    "Am Mo., 14. Sept. 2026 um 09:12 schrieb Jane <jane@x.example>:",
    "Le lun. 14 sept. 2026 à 09:12, Jane <jane@x.example> a écrit :",
    "El lun, 14 sept 2026 a las 9:12, Jane <jane@x.example> escribió:",
    "Op ma 14 sep. 2026 om 09:12 schreef Jane <jane@x.example>:",
    "-----Original Message-----", "________________________________", "From: Jane <j@x.example>",
    "Sent: Monday", "To: Bob", "Subject: hi", "Von: Jane", "Gesendet: Montag",
    "Sent from my iPhone", "Envoyé de mon iPhone", "contacted", "snooze 2 weeks"])


@given(st.lists(_LINES | st.text(max_size=12), max_size=25).map("\n".join))
@settings(max_examples=1500)
def test_the_new_text_is_what_classifying_every_line_gives(text: str) -> None:
    assert _scan(text) == _scan_every_line(text)


def test_every_corpus_and_rich_message_gives_the_same_new_text() -> None:
    raws = [p.read_bytes() for p in sorted(MAIL.rglob("*.eml"))]
    raws += list(realistic.messages(600, attachment_share=0.0, style="rich")[1])
    for raw in raws:
        try:
            message = parse_message(raw)
        except MalformedMessage:
            continue
        text = reply_text._source_text(message)
        assert _scan(text) == _scan_every_line(text)
