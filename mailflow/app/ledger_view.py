"""The partner ledger as the CLI, the export, the web and the digest show it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailflow.app.directory import records
from mailflow.app.wiring import App
from mailflow.core.formatting import iso
from mailflow.core.ledger import (
    LedgerThresholds,
    PartnerLedger,
    ReferralSummary,
    compute_ledger,
)


def ledger(app: App, now: datetime, referrer: str | None = None,
           referrals: list[ReferralSummary] | None = None) -> list[PartnerLedger]:
    """The partner ledger over every referral, or over `referrer`'s own (`referrals`:
    those, when the caller has read them already)."""
    store = app.store
    partners = [(r.emails[0] if r.emails else str(r.id), r.name, r.emails, r.niche)
                for r in records(store)]
    events = store.last_said(referrer)
    if referrals is None:
        referrals = store.referral_summaries(referrer)
    ratings = {r.id: r.rating for r in referrals if r.rating is not None}
    workflow = app.config.workflow
    return compute_ledger(partners, referrals, events, ratings, now, LedgerThresholds(
        slow_contact_hours=workflow.slow_contact_hours,
        catch_up_after_days=workflow.catch_up_after_days))


def partner_rows(app: App, now: datetime, referrer: str | None = None,
                 referrals: list[ReferralSummary] | None = None) -> list[dict[str, Any]]:
    zone = app.config.timezone
    directory = {r.emails[0] if r.emails else str(r.id): r for r in records(app.store)}
    return [{
        "email": row.key, "emails": list(row.emails), "name": row.name, "niche": row.niche,
        "notes": directory[row.key].notes if row.key in directory else "",
        "domain": directory[row.key].domain if row.key in directory else None,
        "source": directory[row.key].source if row.key in directory else "",
        **{k: getattr(directory[row.key], k) if row.key in directory else None
           for k in ("language", "timezone", "country")},
        "given": row.given, "received": row.received, "open": row.open, "won": row.won,
        "lost": row.lost, "done": row.done,
        "median_hours_to_contact": row.median_hours_to_contact,
        "median_days_to_close": row.median_days_to_close, "ratings": row.ratings,
        "average_rating": row.average_rating,
        "last_given": iso(row.last_given, zone), "last_received": iso(row.last_received, zone),
        "last_contact": iso(row.last_contact, zone), "flags": row.flags,
    } for row in ledger(app, now, referrer, referrals)]
