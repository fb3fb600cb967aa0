"""The partner ledger as the CLI, the export, the web and the digest show it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from mailflow.adapters.store import PartnerRecord, Store
from mailflow.app.directory import records
from mailflow.config import Config
from mailflow.core.decisions import CONSENT, consent_of
from mailflow.core.formatting import iso

if TYPE_CHECKING:
    from mailflow.app.wiring import App
from mailflow.core.ledger import (
    LedgerThresholds,
    PartnerLedger,
    ReferralSummary,
    compute_ledger,
    ledger_from_tallies,
)


def ledger_of(store: Store, config: Config, now: datetime, referrer: str | None = None,
              referrals: list[ReferralSummary] | None = None,
              since: datetime | None = None,
              directory: list[PartnerRecord] | None = None) -> list[PartnerLedger]:
    """The partner ledger over every referral, or over `referrer`'s own: summed by the
    store over the referrals created since `since` (all when None), or computed over
    `referrals` when given (`directory`: the partners' records, when already read)."""
    directory = records(store) if directory is None else directory
    partners = [(r.emails[0] if r.emails else str(r.id), r.name, r.emails, r.niche)
                for r in directory]
    workflow = config.workflow
    thresholds = LedgerThresholds(slow_contact_hours=workflow.slow_contact_hours,
                                  catch_up_after_days=workflow.catch_up_after_days)
    own = {(r.emails[0] if r.emails else str(r.id)): r.catch_up_days
           for r in directory if r.catch_up_days}
    answers = {i: (consent_of(CONSENT, detail), at)
               for i, (detail, at) in store.consent_answers(referrer).items()}
    consented = {i: at for i, (said, at) in answers.items() if said == "yes"}
    declined = frozenset(i for i, (said, _) in answers.items() if said == "no")
    if referrals is None:
        tallies = store.ledger_tallies(referrer, since, consented, sorted(declined),
                                       {r.id: r.emails for r in directory})
        return ledger_from_tallies(partners, {r.id: key for r, (key, *_) in
                                              zip(directory, partners, strict=True)},
                                   tallies, now, thresholds, own)
    ratings = {r.id: r.rating for r in referrals if r.rating is not None}
    return compute_ledger(partners, referrals, store.last_said(referrer), ratings, now,
                          thresholds, own, consented=consented, declined=declined)


def partner_rows(app: App, now: datetime, referrer: str | None = None,
                 since: datetime | None = None) -> list[dict[str, Any]]:
    zone = app.config.timezone
    read = records(app.store)
    directory = {r.emails[0] if r.emails else str(r.id): r for r in read}
    profiles = app.store.profiles_of([e for r in directory.values() for e in r.emails])

    def profile(key: str) -> dict[str, Any]:
        emails = directory[key].emails if key in directory else (key,)
        found = next((profiles[e] for e in emails if e in profiles), None)
        return ({"ideal": found["ideal"] or "", "not": found["avoid"] or "",
                 "profile_at": iso(found["at"], zone)} if found
                else {"ideal": "", "not": "", "profile_at": None})
    return [{
        "email": row.key, "emails": list(row.emails), "name": row.name, "niche": row.niche,
        "notes": directory[row.key].notes if row.key in directory else "",
        "domain": directory[row.key].domain if row.key in directory else None,
        "source": directory[row.key].source if row.key in directory else "",
        **{k: getattr(directory[row.key], k) if row.key in directory else None
           for k in ("language", "timezone", "country", "catch_up_days")},
        "given": row.given, "received": row.received, "open": row.open, "won": row.won,
        "value_given": row.value_given, "value_received": row.value_received,
        **profile(row.key),
        "lost": row.lost, "done": row.done,
        "median_hours_to_contact": row.median_hours_to_contact,
        "median_days_to_close": row.median_days_to_close, "ratings": row.ratings,
        "average_rating": row.average_rating,
        "last_given": iso(row.last_given, zone), "last_received": iso(row.last_received, zone),
        "last_contact": iso(row.last_contact, zone), "flags": row.flags,
    } for row in ledger_of(app.store, app.config, now, referrer, since=since, directory=read)]
