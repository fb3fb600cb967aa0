"""Reading an intro: who referred whom, and which party is the partner."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mailflow.core.addressing import Trackers, is_referrer, split_address
from mailflow.core.forwards import forwarded_original
from mailflow.core.model import InboundMessage, Status

_HINT = re.compile(r"^[^\w\n]*partner[ \t]*[:=][ \t]*<?([^\s<>,;@]+@[^\s<>,;]+?)>?[.,;]?[ \t]*$",
                   re.IGNORECASE | re.MULTILINE)
RECEIVED_DETAIL = "received"


@dataclass(frozen=True)
class PartnerDirectory:
    """Who is a partner: by address, by firm domain, and by history."""

    by_email: Mapping[str, str] = field(default_factory=dict)
    by_domain: Mapping[str, str] = field(default_factory=dict)
    history: frozenset[str] = frozenset()

    def partner_key(self, email: str) -> str | None:
        """The directory key of the partner `email` belongs to, or None."""
        if email in self.by_email:
            return self.by_email[email]
        domain = split_address(email)[1]
        if domain in self.by_domain:
            return self.by_domain[domain]
        return email if email in self.history else None


@dataclass(frozen=True)
class NewReferral:
    client: str | None
    partner: str | None
    status: Status
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Intro:
    """A recognised intro: the referrals it creates and what to remember of it."""

    referrer: str
    referrals: tuple[NewReferral, ...]
    subject: str
    names: Mapping[str, str]
    source: InboundMessage
    direction: str = "given"
    how: str = "direct"


@dataclass(frozen=True)
class NotAnIntro:
    reason: str


_ATTRIBUTION = re.compile(
    r"^[ \t]*(?:On[ \t].{0,120}?,[ \t]*|Am[ \t].{0,80}?[ \t](?:schrieb[ \t])?"
    r"|Le[ \t].{0,80}?,[ \t]*)"
    r"(?P<who>[^<>\n]{0,80}?)[ \t]*(?:<(?P<email>[^<>\s@]+@[^<>\s]+)>)?[ \t]*"
    r"(?:wrote|schrieb|a écrit)[ \t]*:[ \t]*$|^[ \t]*\*?From:\*?[ \t]*(?P<who2>[^<>\n]*?)[ \t]*"
    r"<(?P<email2>[^<>\s@]+@[^<>\s]+)>[ \t]*$",
    re.IGNORECASE | re.MULTILINE)


def quoted_author(message: InboundMessage, parties: list[str]) -> str | None:
    """Who wrote the message this one answers, read from its quote header, if a party."""
    match = _ATTRIBUTION.search(message.text)
    if match is None:
        return None
    email = (match.group("email") or match.group("email2") or "").lower()
    if email:
        return email if email in parties else None
    who = " ".join((match.group("who") or match.group("who2") or "").split()).lower()
    named = [a.email for a in message.recipients if a.name and a.name.lower() == who]
    return named[0] if named and named[0] in parties else None


_HINT_WORD = re.compile("partner", re.IGNORECASE)


def partner_hint(text: str) -> str | None:
    """The address named on a `partner: bob@x.example` line, if any: `_HINT.search(text)`,
    tried only at the start of a line that has the word (the search tried every
    position of an intro's quoted history and signature).

    The word is found in the text lowered, not by a case-blind search (28 us for a
    realistic intro, 12 this way, bench/handle.py): only the ASCII letters match
    "partner" case-blind. Most texts lack it, which their UTF-8 bytes, ASCII-lowered,
    show fastest (every other character encodes to bytes above 127)."""
    if b"partner" not in text.encode("utf-8", "surrogatepass").lower():
        return None
    lowered = text.lower()
    if len(lowered) == len(text):
        return _hint_on_lines(text, lambda position: lowered.find("partner", position))
    # a character that lowers to two: the lowered text's positions are not the text's
    return _hint_on_lines(text, lambda position: word.start() if (
        word := _HINT_WORD.search(text, position)) is not None else -1)


def _hint_on_lines(text: str, find_word: Callable[[int], int]) -> str | None:
    """`_HINT` tried at the start of each line where `find_word` finds the word."""
    position = 0  # always the start of a line
    while (start := find_word(position)) >= 0:
        newline = text.rfind("\n", position, start)
        match = _HINT.match(text, position if newline < 0 else newline + 1)
        if match is not None:
            return match.group(1).lower()
        end = text.find("\n", start + len("partner"))
        if end < 0:
            return None
        position = end + 1
    return None


def without_hint(text: str) -> str:
    """`text` without its `partner: …` lines (said to mailflow, not to the partner)."""
    lines = _HINT.sub("", text).strip().split("\n")
    # the blank lines around the removed one become one
    return "\n".join(line for i, line in enumerate(lines)
                     if line.strip() or i == 0 or lines[i - 1].strip())


def _tracker_reached(message: InboundMessage, trackers: Trackers) -> str | None:
    """The plus-detail the tracker was reached with ('' when plain), or None."""
    for email in [a.email for a in message.recipients] + list(message.delivered_to):
        detail = trackers.detail(email)
        if detail is not None:
            return detail
    return None


def _parties(message: InboundMessage, trackers: Trackers, exclude: set[str]) -> list[str]:
    """Recipients in order (To before Cc) less trackers and `exclude`."""
    return [a.email for a in message.recipients
            if not trackers.matches(a.email) and a.email not in exclude]


MAX_CANDIDATES = 20  # listed in "which is the partner?"; an intro to more is no intro


def assign_roles(parties: list[str], directory: PartnerDirectory, hint: str | None,
                 max_partners: int = 5) -> tuple[NewReferral, ...]:
    """Directory first, then history, then the hint; ambiguous → needs_partner.

    More than `max_partners` partners on one intro is asked about too: one message
    must not fan out into hundreds of referrals and thousands of emails.
    """
    if hint is not None and hint in parties:
        partners = [hint]
    else:
        partners = [p for p in parties if directory.partner_key(p) is not None]
    clients = [p for p in parties if p not in partners]
    if partners and clients and len(partners) <= max_partners:
        return tuple(NewReferral(clients[0], p, Status.OPEN) for p in partners)
    return (NewReferral(None, None, Status.NEEDS_PARTNER, tuple(parties[:MAX_CANDIDATES])),)


def read_intro(message: InboundMessage, trackers: Trackers, referrer_patterns: tuple[str, ...],
               directory: PartnerDirectory, max_partners: int = 5) -> Intro | NotAnIntro:
    """Decide whether `message` is an intro and what it creates (pure)."""
    detail = _tracker_reached(message, trackers)
    if detail is None:
        return NotAnIntro("no-tracker: the tracking address is not among the recipients")
    sender = message.from_.email if message.from_ else ""
    people = (*message.recipients, *((message.from_,) if message.from_ else ()))
    names = {a.email: a.name for a in people if a.name}
    if not is_referrer(sender, referrer_patterns):
        if directory.partner_key(sender) is not None:
            return _sent_to_the_firm(sender, message, trackers, referrer_patterns, names)
        return NotAnIntro(f"not-referrer: {sender or 'no sender'} is not in referrers")
    parties = _parties(message, trackers, {sender})
    original = forwarded_original(message) if not parties else None
    if original is not None and original.from_ is not None:
        names.update({a.email: a.name for a in (*original.recipients, original.from_) if a.name})
        origin = original.from_.email
        if origin == sender or is_referrer(origin, referrer_patterns):
            parties = _parties(original, trackers, {sender, origin})
            return _given(sender, parties, directory, message, original, names, "forward",
                          max_partners)
        client = next(iter(_parties(original, trackers, {sender, origin})), None)
        return Intro(sender, (NewReferral(client, origin, Status.OPEN),), original.subject,
                     names, original, "received", "forward")
    author = quoted_author(message, parties) if message.in_reply_to else None
    if author is not None and len(parties) >= 2 and directory.partner_key(author) is not None:
        # the referrer answered, with the tracker copied, an intro a partner sent *them*
        # (a client's question answered with an intro stays a given referral)
        client = next(p for p in parties if p != author)
        return Intro(sender, (NewReferral(client, author, Status.OPEN),), message.subject,
                     names, message, "received", "reply")
    if detail == RECEIVED_DETAIL:
        if len(parties) < 2:
            return NotAnIntro("no-parties: a received referral needs the partner and the client")
        return Intro(sender, (NewReferral(parties[1], parties[0], Status.OPEN),),
                     message.subject, names, message, "received", "plus-address")
    return _given(sender, parties, directory, message, message, names, "direct", max_partners)


def _sent_to_the_firm(partner: str, message: InboundMessage, trackers: Trackers,
                      referrer_patterns: tuple[str, ...],
                      names: dict[str, str]) -> Intro | NotAnIntro:
    """A partner's own intro of a client to someone at the firm, the tracker copied: a
    received referral, the firm's person (the first one addressed) its referrer."""
    parties = _parties(message, trackers, {partner})
    firm = [p for p in parties if is_referrer(p, referrer_patterns)]
    clients = [p for p in parties if p not in firm]
    if not firm or not clients:
        return NotAnIntro(f"not-referrer: {partner} is a partner, but wrote to "
                          + ("nobody at the firm" if not firm else "no client"))
    return Intro(firm[0], (NewReferral(clients[0], partner, Status.OPEN),), message.subject,
                 names, message, "received", "partner")


def _given(sender: str, parties: list[str], directory: PartnerDirectory,
           message: InboundMessage, source: InboundMessage, names: dict[str, str],
           how: str, max_partners: int) -> Intro | NotAnIntro:
    hint = partner_hint(source.text) or (
        partner_hint(message.text) if message is not source else None)
    if len(parties) == 1 and hint is not None and hint not in parties and hint != sender:
        # written to the client alone, the partner named: the client is asked first
        return Intro(sender, (NewReferral(parties[0], hint, Status.AWAITING_CONSENT),),
                     source.subject or message.subject, names, source, "given", how)
    if len(parties) < 2:
        who = f"only {parties[0]}" if parties else "nobody"
        return NotAnIntro(f"no-parties: {who} besides the referrer and the tracker")
    referrals = assign_roles(parties, directory, hint, max_partners)
    return Intro(sender, referrals, source.subject or message.subject, names, source,
                 "given", how)
