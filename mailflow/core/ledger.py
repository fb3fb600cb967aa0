"""The reciprocity ledger per partner, computed from referrals and their events (pure)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
    @property
    def value(self) -> float | None: ...


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
    value: float | None = None


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
    ratings: list[int] = field(default_factory=list)  # lowest first
    last_given: datetime | None = None
    last_received: datetime | None = None
    last_contact: datetime | None = None
    value_given: float = 0.0  # what the referrals given to them were worth (won or not)
    value_received: float = 0.0  # what theirs to the firm were worth
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
                   thresholds: LedgerThresholds = LedgerThresholds(),
                   catch_up_days: Mapping[str, int] | None = None,
                   consented: Mapping[int, datetime] | None = None,
                   declined: frozenset[int] = frozenset()) -> list[PartnerLedger]:
    """`partners` are (key, name, emails, niche); unknown partners get a row of their own.
    `catch_up_days`: a partner's own catch-up threshold, by key. A referral that asked its
    client first counts for its partner only once the client said yes (`consented`: when,
    by referral id; first contact counts from then); one still waiting, or `declined`,
    never reached the partner."""
    ledgers: dict[str, PartnerLedger] = {}
    owner: dict[str, str] = {}
    for key, name, emails, niche in partners:
        ledgers[key] = PartnerLedger(key, name, emails, niche)
        owner.update({e: key for e in emails})
    for referral in referrals:
        if referral.partner is None or referral.id in declined or (
                referral.status is Status.AWAITING_CONSENT):
            continue
        key = owner.get(referral.partner, referral.partner)
        ledger = ledgers.setdefault(key, PartnerLedger(key, "", (referral.partner,)))
        _count(ledger, referral, events.get(referral.id, ()), ratings.get(referral.id),
               (consented or {}).get(referral.id))
    for ledger in ledgers.values():
        ledger.ratings.sort()
    return _flagged(ledgers.values(), now, thresholds, catch_up_days)


def _count(ledger: PartnerLedger, referral: LedgerFacts, events: Sequence[Event],
           rating: int | None, consented: datetime | None = None) -> None:
    spoke = [e.at for e in events if e.actor in ledger.emails]
    ledger.last_contact = _later(ledger.last_contact, max(spoke) if spoke else None)
    if referral.direction == "received":
        ledger.value_received += referral.value or 0.0
        ledger.received += 1
        ledger.last_received = _later(ledger.last_received, referral.created_at)
        ledger.last_contact = _later(ledger.last_contact, referral.created_at)
        return
    ledger.given += 1
    ledger.value_given += referral.value or 0.0
    ledger.last_given = _later(ledger.last_given, referral.created_at)
    ledger.last_contact = _later(ledger.last_contact, referral.created_at)  # either way
    if referral.contacted_at is not None:
        since = max(referral.created_at, consented or referral.created_at)
        hours = (referral.contacted_at - since).total_seconds() / 3600
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


def _flagged(ledgers: Collection[PartnerLedger], now: datetime, thresholds: LedgerThresholds,
             catch_up_days: Mapping[str, int] | None) -> list[PartnerLedger]:
    """The rows flagged, each by its own catch-up threshold where it has one, most given
    first."""
    own = catch_up_days or {}
    for ledger in ledgers:
        theirs = (replace(thresholds, catch_up_after_days=own[ledger.key])
                  if ledger.key in own else thresholds)
        ledger.flags = _flags(ledger, now, theirs)
    return sorted(ledgers, key=lambda x: (-x.given, x.key))


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


@dataclass(frozen=True, slots=True)
class PartnerTally:
    """One partner's counted referrals, summed by the store: a directory partner's id, or
    else the address of a partner not in the directory. `contact_seconds` and
    `close_seconds` hold only the middle one or two of the sorted values: all a median needs."""

    partner_id: int | None
    address: str | None
    given: int
    received: int
    open: int
    won: int
    lost: int
    done: int
    value_given: float
    value_received: float
    last_given: datetime | None
    last_received: datetime | None
    last_contact: datetime | None  # of the referrals' creation and the partner's own words
    contact_seconds: tuple[int, ...]
    close_seconds: tuple[int, ...]
    ratings: tuple[int, ...]  # lowest first


def ledger_from_tallies(partners: Sequence[tuple[str, str, tuple[str, ...], str]],
                        ids: Mapping[int, str], tallies: Iterable[PartnerTally],
                        now: datetime, thresholds: LedgerThresholds = LedgerThresholds(),
                        catch_up_days: Mapping[str, int] | None = None) -> list[PartnerLedger]:
    """`compute_ledger`'s rows from the store's tallies (`ids`: a directory partner's key by
    its id). Medians are kept exact: the tallies carry the middle values."""
    ledgers = {key: PartnerLedger(key, name, emails, niche)
               for key, name, emails, niche in partners}
    for tally in tallies:
        if tally.partner_id is not None and tally.partner_id in ids:
            ledger = ledgers[ids[tally.partner_id]]
        else:
            address = tally.address or ""
            ledger = ledgers.setdefault(address, PartnerLedger(address, "", (address,)))
        ledger.given, ledger.received, ledger.open = tally.given, tally.received, tally.open
        ledger.won, ledger.lost, ledger.done = tally.won, tally.lost, tally.done
        ledger.value_given, ledger.value_received = tally.value_given, tally.value_received
        ledger.last_given, ledger.last_received = tally.last_given, tally.last_received
        ledger.last_contact = tally.last_contact
        ledger.hours_to_contact = [max(s / 3600, 0.0) for s in tally.contact_seconds]
        ledger.days_to_close = [s / 86400 for s in tally.close_seconds]
        ledger.ratings = list(tally.ratings)
    return _flagged(ledgers.values(), now, thresholds, catch_up_days)
