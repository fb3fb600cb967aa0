"""What a partner says makes a good referral for them: `ideal: …` and `not: …` lines in a
reply, in any supported language, read from the new text only."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEAD = 2000  # a profile is written at the top of a reply
_LINE = 300  # what one line may say
_IDEAL = re.compile(
    r"^[^\w\n>]{0,5}(?:ideal|ideale?r?|id[ée]al|ideaal|perfect|perfekt|perfecto)"
    rf"[ \t]*[:\-\u2013][ \t]*(\S[^\n]{{0,{_LINE}}})", re.IGNORECASE | re.MULTILINE)
_AVOID = re.compile(
    r"^[^\w\n>]{0,5}(?:not|avoid|rather not|nicht|lieber nicht|bitte nicht|[àa] [ée]viter"
    r"|plut[ôo]t pas|evitar|mejor no|niet|liever niet)"
    rf"[ \t]*[:\-\u2013][ \t]*(\S[^\n]{{0,{_LINE}}})", re.IGNORECASE | re.MULTILINE)
_NO_PROFILE = frozenset({"thanks", "thank you", "sure", "yet", "really", "danke", "merci",
                         "gracias", "bedankt", "so sure", "now"})
# how the emails ask for the lines, in each language
ASKED = {"en": ("ideal:", "not:"), "de": ("ideal:", "nicht:"), "fr": ("idéal :", "à éviter :"),
         "es": ("ideal:", "evitar:"), "nl": ("ideaal:", "liever niet:")}


@dataclass(frozen=True)
class Profile:
    ideal: str = ""
    avoid: str = ""


def read_profile(text: str) -> Profile | None:
    """The `ideal:` and `not:` lines at the top of `text`, or None when it has neither."""
    head = text[:_HEAD]
    ideal, avoid = _IDEAL.search(head), _AVOID.search(head)
    if ideal is None and avoid is None:
        return None
    if ideal is None and avoid is not None and (
            "?" in avoid.group(1) or avoid.group(1).strip(" .!").lower() in _NO_PROFILE):
        return None  # "Not: sure?", "Not: yet" answer something else
    return Profile(ideal.group(1).strip() if ideal else "",
                   avoid.group(1).strip() if avoid else "")


def only_profile(text: str) -> bool:
    """The reply says nothing but its profile lines (and greetings or thanks around them)."""
    rest = _AVOID.sub("", _IDEAL.sub("", text[:_HEAD]))
    words = re.findall(r"[^\W\d_]{3,}", rest)
    return len(words) <= 6  # "Hi Alice, thanks, Bob"
