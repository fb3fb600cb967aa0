"""Which referral an inbound message answers: token, then thread, then subject tag."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mailflow.core.model import Referral, Role
from mailflow.core.tokens import TokenCheck

_TAG = re.compile(r"\[R-(\d+)\]", re.IGNORECASE)


def subject_tag(subject: str) -> int | None:
    match = _TAG.search(subject)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Correlation:
    """The referrals a reply acts on (empty when none), how they were found, or a refusal."""

    referrals: tuple[Referral, ...] = ()
    how: str = ""
    refused: str = ""

    @property
    def found(self) -> bool:
        return bool(self.referrals) or bool(self.refused)


def _of_sender(referrals: Sequence[Referral], sender: str) -> tuple[Referral, ...]:
    """The referrals `sender` is a party to; a partner's reply belongs to their own referral."""
    as_partner = tuple(r for r in referrals if r.role_of(sender) is Role.PARTNER)
    if as_partner:
        return as_partner
    return tuple(r for r in referrals if r.role_of(sender) is not None)


# the one list of subject prefixes, read by correlation, intake and the robot detector:
# Re (and AW German, SV Scandinavian, VS Finnish, Antw Dutch) answer; Fwd (and WG German,
# TR French, RV Spanish and Portuguese) forward
REPLY_PREFIXES = ("re", "aw", "sv", "vs", "antw")
FORWARD_PREFIXES = ("fw", "fwd", "wg", "tr", "rv")
PREFIX = "(?:" + "|".join((*REPLY_PREFIXES, *FORWARD_PREFIXES)) + ")"
_REPLY_PREFIX = re.compile(rf"^[ \t]*({PREFIX}\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_ANSWER = re.compile(rf"^\s*(?:{'|'.join(REPLY_PREFIXES)})\s*(\[\d+\])?\s*:", re.IGNORECASE)


def has_reply_prefix(subject: str) -> bool:
    """Re:, Fwd: and their localized forms."""
    return _REPLY_PREFIX.match(subject) is not None


def answers(subject: str) -> bool:
    """Re: and its localized forms (a forward is not an answer)."""
    return _ANSWER.match(subject) is not None


def base_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, case and spacing folded."""
    return " ".join(_REPLY_PREFIX.sub("", subject).split()).lower()


def correlate(sender: str, token: TokenCheck | None, token_referral: Referral | None,
              thread: Sequence[Referral], tagged: Referral | None,
              same_subject: Sequence[Referral] = ()) -> Correlation:
    """Decide from what the shell looked up; only parties of a referral may act on it.

    `same_subject` is the last resort for clients that drop In-Reply-To: open
    referrals whose intro subject this reply repeats, counted only for their parties.
    """
    if token is not None:
        if token.referral_id is None or token_referral is None:
            return Correlation(refused=f"forged-token: {token.problem or 'unknown referral'}")
        return Correlation((token_referral,), "token")
    if thread:
        mine = _of_sender(thread, sender)
        if mine:
            return Correlation(mine, "thread")
        return Correlation(refused=f"not-a-party: {sender} is not a party to "
                                   + ", ".join(r.tag for r in thread))
    if tagged is not None and tagged.role_of(sender) is not None:
        return Correlation((tagged,), "subject-tag")
    mine = _of_sender(same_subject, sender)
    if mine:
        return Correlation(mine, "subject")
    return Correlation()


_LEADING_TAG = re.compile(r"^\W*\[?R-(\d+)\]?[\s:,.-]*", re.IGNORECASE)


def narrow_by_tag(referrals: Sequence[Referral],
                  text: str) -> tuple[tuple[Referral, ...], str]:
    """A reply starting with "R-5 done" picks R-5 of several; the tag is removed."""
    match = _LEADING_TAG.match(text)
    if match:
        chosen = tuple(r for r in referrals if r.id == int(match.group(1)))
        if chosen:
            return chosen, text[match.end():]
    return tuple(referrals), text
