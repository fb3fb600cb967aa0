"""The reciprocity ledger per partner, computed from referrals and their events (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Protocol

from mailflow.core.model import Event, Outcome, Status


class LedgerFacts(Protocol):
    """What the ledger reads of a referral (a `Referral`, or a `ReferralSummary`)."""

    @property
    def id(self) -> int: ...
    @property
    def partner(self) -> str | None: ...
    @property
    def direction(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def outcome(self) -> Outcome | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def contacted_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class ReferralSummary:
    """The few fields of a referral the ledger and its charts need: cheap to read by the
    hundred thousand."""

    id: int
    partner: str | None
    direction: str
    status: Status
    outcome: Outcome | None
    created_at: datetime
    contacted_at: datetime | None
    closed_at: datetime | None
    rating: int | None


@dataclass(frozen=True)
class LedgerThresholds:
    unreciprocated_after: int = 3
    slow_contact_hours: float = 48.0
    catch_up_after_days: int = 90


@dataclass
class PartnerLedger:
    key: str
    name: str
    emails: tuple[str, ...]
    niche: str = ""
    given: int = 0
    received: int = 0
    open: int = 0
    won: int = 0
    lost: int = 0
    done: int = 0
    hours_to_contact: list[float] = field(default_factory=list)
    days_to_close: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    last_given: datetime | None = None
    last_received: datetime | None = None
    last_contact: datetime | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def median_hours_to_contact(self) -> float | None:
        return round(median(self.hours_to_contact), 1) if self.hours_to_contact else None

    @property
    def median_days_to_close(self) -> float | None:
        return round(median(self.days_to_close), 1) if self.days_to_close else None

    @property
    def average_rating(self) -> float | None:
        return round(sum(self.ratings) / len(self.ratings), 1) if self.ratings else None


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(x for x in (a, b) if x is not None) if (a or b) else None


def compute_ledger(partners: Sequence[tuple[str, str, tuple[str, ...], str]],
                   referrals: Iterable[LedgerFacts], events: Mapping[int, Sequence[Event]],
                   ratings: Mapping[int, int], now: datetime,
                   thresholds: LedgerThresholds = LedgerThresholds()) -> list[PartnerLedger]:
    """`partners` are (key, name, emails, niche); unknown partners get a row of their own."""
    ledgers: dict[str, PartnerLedger] = {}
    owner: dict[str, str] = {}
    for key, name, emails, niche in partners:
        ledgers[key] = PartnerLedger(key, name, emails, niche)
        owner.update({e: key for e in emails})
    for referral in referrals:
        if referral.partner is None:
            continue
        key = owner.get(referral.partner, referral.partner)
        ledger = ledgers.setdefault(key, PartnerLedger(key, "", (referral.partner,)))
        _count(ledger, referral, events.get(referral.id, ()), ratings.get(referral.id))
    for ledger in ledgers.values():
        ledger.flags = _flags(ledger, now, thresholds)
    return sorted(ledgers.values(), key=lambda x: (-x.given, x.key))


def _count(ledger: PartnerLedger, referral: LedgerFacts, events: Sequence[Event],
           rating: int | None) -> None:
    spoke = [e.at for e in events if e.actor in ledger.emails]
    ledger.last_contact = _later(ledger.last_contact, max(spoke) if spoke else None)
    if referral.direction == "received":
        ledger.received += 1
        ledger.last_received = _later(ledger.last_received, referral.created_at)
        ledger.last_contact = _later(ledger.last_contact, referral.created_at)
        return
    ledger.given += 1
    ledger.last_given = _later(ledger.last_given, referral.created_at)
    if referral.contacted_at is not None:
        hours = (referral.contacted_at - referral.created_at).total_seconds() / 3600
        ledger.hours_to_contact.append(max(hours, 0.0))
    if referral.status is Status.CLOSED and referral.closed_at is not None:
        ledger.days_to_close.append((referral.closed_at - referral.created_at).total_seconds()
                                    / 86400)
        if referral.outcome is Outcome.WON:
            ledger.won += 1
        elif referral.outcome is Outcome.LOST:
            ledger.lost += 1
        else:
            ledger.done += 1
    else:
        ledger.open += 1
    if rating is not None:
        ledger.ratings.append(rating)


def _flags(ledger: PartnerLedger, now: datetime, thresholds: LedgerThresholds) -> list[str]:
    flags = []
    if ledger.given >= thresholds.unreciprocated_after and ledger.received == 0:
        flags.append("never-refers-back")
    slow = ledger.median_hours_to_contact
    if slow is not None and slow > thresholds.slow_contact_hours:
        flags.append("slow-to-contact")
    last = ledger.last_contact
    if ledger.given + ledger.received and (
            last is None or now - last > timedelta(days=thresholds.catch_up_after_days)):
        flags.append("catch-up")
    return flags
