"""Reply words: read from the start of a reply's new text, forgiving of filler.

Rule: the first line that is not a greeting is split into short clauses (at
commas, dashes, "!" and "."); the first clause that is a reply word wins,
looking at no more than the first three clauses. A word right after a negation
("not done", "haven't contacted") never counts. Anything else is a note.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

CLOSING = {
    "done": "done", "complete": "done", "completed": "done", "closed": "done",
    "won": "won", "engaged": "won", "hired": "won", "signed": "won",
    "lost": "lost", "no fit": "lost", "not a fit": "lost", "declined": "lost",
}
CONTACTED = ("contacted", "called", "met", "spoke", "spoken", "in touch")
GREETING = re.compile(r"^(hi|hello|hey|dear|thanks|thank you|many thanks|cheers|ok|okay|"
                      r"yes|great|sure|sorry|update|good news|bad news|fyi)\b[\w ]{0,20}$",
                      re.IGNORECASE)
NEGATION = re.compile(r"\b(not|never|no|isn't|isnt|aren't|haven't|havent|hasn't|didn't|"
                      r"didnt|won't|not yet|yet to)\s+(\w+\s+)?$", re.IGNORECASE)
_CLAUSE_SPLIT = re.compile(r"\s*(?:[,;!?.:]\s+|[,;!?]|\s[-\u2013\u2014]+\s|\.$)\s*")
_WORD = r"(?<![\w-])({})(?![\w-])"
_SNOOZE = re.compile(r"^snooze(?:\s+for)?(?:\s+(\d+|a|an|one|two|three|four)\s*"
                     r"(d|day|days|w|wk|week|weeks))?\b", re.IGNORECASE)
_RATING = re.compile(r"^(?:rating|rate|rated)\s*:?\s*(\d+)(?:\s*/\s*5)?\b|^(\d+)\s*/\s*5\b|"
                     r"^(\d+)\s*stars?\b|^(★+)", re.IGNORECASE)
_NEED = re.compile(r"^need\s*:\s*(.+)$", re.IGNORECASE | re.DOTALL)
_EMAIL = re.compile(r"^<?([^\s<>@]+@[^\s<>@]+\.[^\s<>@]+?)>?\.?$")
KNOWN_WORDS = ("done", "complete", "won", "engaged", "hired", "signed", "lost", "declined",
               "contacted", "called", "spoke", "snooze", "stop", "rating", "need", "reopen",
               "undo")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}


@dataclass(frozen=True)
class Command:
    word: str
    outcome: str | None = None
    days: int | None = None
    rating: int | None = None
    text: str = ""
    looks_like_command: bool = False
    need: str | None = None  # a "need: ..." line anywhere in the reply, besides the word


def _first_line(text: str) -> tuple[str, str]:
    """The first line that says something, and everything from it on."""
    lines = [line.strip() for line in text.strip().splitlines()]
    for index, line in enumerate(lines):
        if not line:
            continue
        cleaned = line.rstrip(",.!:")
        if GREETING.match(cleaned) and index + 1 < len(lines) and len(cleaned.split()) <= 4:
            continue
        return line, "\n".join(lines[index:]).strip()
    return "", ""


def _word_in(clause: str) -> Command | None:
    lowered = clause.lower().strip(" .!*\"'")
    for phrase in sorted(CLOSING, key=len, reverse=True):
        match = re.search(_WORD.format(re.escape(phrase)), lowered)
        if match and not NEGATION.search(lowered[:match.start()]):
            return Command(CLOSING[phrase], outcome=CLOSING[phrase])
    for phrase in CONTACTED:
        match = re.search(_WORD.format(re.escape(phrase)), lowered)
        if match and not NEGATION.search(lowered[:match.start()]):
            if phrase == "met" and match.start() > 0:
                continue  # "met" only as the clause's first word: "we met" is too loose
            return Command("contacted")
    return None


def _structured(line: str, rest: str) -> Command | None:
    lowered = line.lower().strip(" .!")
    if lowered == "stop all" or lowered.startswith("stop all "):
        return Command("stop_all")
    if lowered in ("stop", "unsubscribe") or re.match(r"^stop\b[\s.,!]", lowered + " "):
        return Command("stop")
    if lowered in ("reopen", "re-open"):
        return Command("reopen")
    if lowered == "undo":
        return Command("undo")
    snooze = _SNOOZE.match(lowered)
    if snooze:
        amount, unit = snooze.group(1), snooze.group(2)
        count = 1 if amount is None else _NUMBERS.get(amount) or int(amount)
        days = 7 if unit is None else count * (7 if unit.startswith("w") else 1)
        return Command("snooze", days=days)
    rating = _RATING.match(lowered)
    if rating:
        stars = rating.group(4)
        value = len(stars) if stars else int(next(g for g in rating.groups()[:3] if g))
        if 1 <= value <= 5:
            return Command("rating", rating=value)
        return Command("note", text=rest)
    need = _NEED.match(rest)
    if need:
        return Command("need", text=need.group(1).strip())
    if lowered.isdigit():
        return Command("choice", text=lowered)
    email = _EMAIL.match(lowered)
    if email:
        return Command("choice", text=email.group(1))
    return None


def parse_command(text: str) -> Command | None:
    """The reply word at the start of `text` (already stripped of quotes), or a note."""
    command = _parse(text)
    if command is None or command.word == "need":
        return command
    need_line = re.search(r"^\W*need\s*:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
    return replace(command, need=need_line.group(1).strip()) if need_line else command


def _looks_mistyped(line: str) -> bool:
    words = line.lower().strip(" .!").split()
    return bool(words) and len(words) <= 3 and bool(
        difflib.get_close_matches(words[0], KNOWN_WORDS, n=1, cutoff=0.75))


def _parse(text: str) -> Command | None:
    line, rest = _first_line(text)
    if not line:
        return None
    structured = _structured(line, rest)
    if structured is not None:
        return structured
    clauses = [c for c in _CLAUSE_SPLIT.split(line) if c and c.strip()][:3]
    for clause in clauses:
        if len(clause.split()) > 8:
            break
        found = _word_in(clause)
        if found is not None:
            return found
    return Command("note", text=rest, looks_like_command=rest == line and _looks_mistyped(line))
