"""The directory as a new need's suggestion reads it: each partner's niche, what they said
makes a good referral, and their record with the referrer who hears of the need."""

from __future__ import annotations

from datetime import datetime

from mailflow.adapters.store import Store
from mailflow.app.ledger_view import ledger_of
from mailflow.config import Config
from mailflow.core.matching import Candidate


def candidates(store: Store, config: Config, referrer: str,
               now: datetime) -> tuple[Candidate, ...]:
    """Every directory partner, with their record with `referrer`."""
    directory = store.partner_records()
    records = {row.key: row for row in ledger_of(store, config, now, referrer)}
    profiles = store.profiles_of([e for r in directory for e in r.emails])
    found = []
    for partner in directory:
        if not partner.emails:
            continue
        key = partner.emails[0]
        record = records.get(key)
        profile = next((profiles[e] for e in partner.emails if e in profiles), {})
        closed = (record.won + record.lost + record.done) if record else 0
        found.append(Candidate(
            key, partner.name, partner.niche, profile.get("ideal") or "",
            profile.get("avoid") or "", record.won / closed if record and closed else 0.0,
            record.median_hours_to_contact if record else None,
            record.average_rating if record else None))
    return tuple(found)
