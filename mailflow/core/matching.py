"""Which partners from the directory fit a new need (`need: estate lawyer`), best first.

Matching is rapidfuzz's: a partner fits when a content word of the need is in their niche
or their own `ideal:` (token set overlap), or the two read alike as wholes (token set
ratio); a partner whose `not:` matches is left out. Among those that fit, the order is
their record with this referrer: won share, then hours to first contact, then rating.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

ALIKE = 60  # token set ratio from which a need and a niche read alike as wholes
SUGGESTED = 3
# words that carry no need: a shared "for" or "the" is no match (five languages)
_FILLER = frozenset({
    "a", "an", "and", "the", "for", "of", "with", "to", "in", "on", "at", "by", "or", "my",
    "our", "their", "his", "her", "new", "someone", "somebody", "need", "needs", "looking",
    "good", "great", "help", "who", "can", "could", "would", "like", "also", "some", "any",
    "der", "die", "das", "ein", "eine", "einen", "und", "für", "mit", "von", "zu", "im", "am",
    "oder", "jemand", "jemanden", "brauchen", "braucht", "le", "la", "les", "un", "une", "des",
    "et", "pour", "avec", "de", "du", "au", "en", "ou", "quelqu", "quelqu'un", "besoin",
    "cherche", "el", "los", "las", "una", "unos", "y", "para", "con", "del", "o", "alguien",
    "necesita", "busca", "het", "een", "voor", "met", "van", "op", "iemand", "nodig", "zoekt",
})
_WORDS = re.compile(r"[^\W\d_]{3,}")


@dataclass(frozen=True)
class Candidate:
    """A partner as the suggestion reads them: what they do, what they said, their record."""

    email: str
    name: str
    niche: str = ""
    ideal: str = ""
    avoid: str = ""
    won_share: float = 0.0  # won / closed, with this referrer
    hours_to_contact: float | None = None  # median
    rating: float | None = None  # mean


def _content(text: str) -> str:
    return " ".join(w for w in _WORDS.findall(text.lower()) if w not in _FILLER)


def fits(need: str, text: str) -> bool:
    """Whether `text` (a niche, an ideal, a not) matches the need."""
    wanted, offered = _content(need), _content(text)
    if not wanted or not offered:
        return False
    return (fuzz.partial_token_set_ratio(wanted, offered) == 100
            or fuzz.token_set_ratio(wanted, offered) >= ALIKE)


WORD_ALIKE = 85  # a word of a partner's `not:` is in an intro when one reads this alike


def mentions(text: str, phrase: str) -> bool:
    """Whether every content word of `phrase` (a partner's `not:`) is in `text` (an intro),
    allowing the small differences of plural and case ("divorce cases", "a divorce case")."""
    wanted = _content(phrase).split()
    offered = set(_content(text[:5000]).split())
    if not wanted or not offered:
        return False
    return all(process.extractOne(word, offered, scorer=fuzz.ratio,
                                  score_cutoff=WORD_ALIKE) is not None for word in wanted)


def suggest(need: str, candidates: Sequence[Candidate],
            limit: int = SUGGESTED) -> list[Candidate]:
    """Up to `limit` partners whose niche or ideal fits `need` and whose `not:` does not."""
    fitting = [c for c in candidates
               if (fits(need, c.niche) or fits(need, c.ideal)) and not fits(need, c.avoid)]
    fitting.sort(key=lambda c: (-c.won_share, c.hours_to_contact is None,
                                c.hours_to_contact or 0.0, -(c.rating or 0.0), c.email))
    return fitting[:limit]
