"""What a decision does, as data; the shell's executor applies one list in one transaction.

Every intent (a reply, a robot's mail, a command line or web action) is decided by a
pure function in `core.decisions` that returns a list of these. Nothing else writes
what a person did to a referral, so a rule written once holds for every way in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SetFields:
    """Change fields of a referral (status, outcome, partner, snoozed_until…)."""

    referral_id: int
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class CreateReferral:
    """A new referral and its intake event; `plan`: it has steps to plan (not an old intro
    found on a first run, not a received referral); `events`: (kind, detail) of further
    events recorded with it (a consent asked for)."""

    fields: Mapping[str, Any]
    actor: str
    detail: str
    plan: bool
    events: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RememberNames:
    """Display names seen on mail, by address (the newest wins)."""

    names: Mapping[str, str]


@dataclass(frozen=True)
class LearnLanguage:
    """The language a person's own mail is written in; `by_hand`: set by the operator or on
    the web, which later mail never overrides (None there clears it)."""

    address: str
    language: str | None
    by_hand: bool = False


@dataclass(frozen=True)
class SaveProfile:
    """What a partner said makes a good referral for them (`ideal:` / `not:`)."""

    address: str
    ideal: str
    avoid: str


@dataclass(frozen=True)
class StartDigestClock:
    """A referrer's weekly digest counts from their first intro (later ones leave it)."""

    referrer: str


@dataclass(frozen=True)
class AddEvent:
    referral_id: int
    kind: str
    actor: str
    detail: str = ""


@dataclass(frozen=True)
class KeepUndo:
    """Keep the referral's state before a change, so its actor can say "undo"."""

    referral_id: int
    actor: str
    before: Mapping[str, Any]


@dataclass(frozen=True)
class RestoreUndo:
    """Put back a kept state (and forget it: an undo is used once)."""

    referral_id: int
    undo_id: int


@dataclass(frozen=True)
class OptOut:
    """No more mail to `address`: about one referral, or about any (referral_id None)."""

    address: str
    referral_id: int | None
    by: str | None = None  # who said it for them (the referrer, the operator); None: they did


@dataclass(frozen=True)
class AskForget:
    """`address` asked to be forgotten: the erasure runs after `privacy.forget_after_days`."""

    address: str
    referral_id: int


@dataclass(frozen=True)
class Resume:
    """Mail to `address` about the referral again: lifts a stop someone else said for them."""

    address: str
    referral_id: int


@dataclass(frozen=True)
class MarkUndeliverable:
    address: str
    reason: str


@dataclass(frozen=True)
class ClearUndeliverable:
    """`address` may be written to again (the operator's `unbounce`)."""

    address: str


@dataclass(frozen=True)
class Pause:
    """Hold steps to `address` until `until` (an out-of-office reply)."""

    address: str
    until: datetime
    reason: str


@dataclass(frozen=True)
class Withdraw:
    """A planned email will not be sent: a person cancelled it (planning never revives it)."""

    row_id: int
    detail: str


@dataclass(frozen=True)
class Unwithdraw:
    """A cancelled email is planned again (the undo of `Withdraw`)."""

    row_id: int


@dataclass(frozen=True)
class Plan:
    """Re-plan these referrals' steps (a durable mark, cleared by the planner)."""

    referral_ids: tuple[int, ...]


@dataclass(frozen=True)
class Notify:
    """Queue one notice email: template `notice_<kind>`, rendered with `data`.

    `once`: at most one notice of this kind to this person about this referral.
    `answering`: when the message it answers was written; it is due from then, so an
    answer to a reply read days late (a first run, an outage) is as late as it looks.
    """

    referral_id: int
    recipient: str
    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
    once: bool = False
    answering: datetime | None = None


Effect = (CreateReferral | RememberNames | LearnLanguage | SaveProfile | StartDigestClock
          | SetFields | AddEvent | KeepUndo | RestoreUndo | OptOut | AskForget | Resume
          | MarkUndeliverable | ClearUndeliverable | Pause | Withdraw | Unwithdraw | Plan
          | Notify)
