"""The ledger and the referrer's digest, built from the store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mailflow.adapters.store import to_db
from mailflow.app.directory import records
from mailflow.app.wiring import App
from mailflow.cli.views import iso
from mailflow.core.addressing import split_address
from mailflow.core.ledger import (
    LedgerThresholds,
    PartnerLedger,
    ReferralSummary,
    compute_ledger,
)
from mailflow.core.model import Status

STALE_AFTER = timedelta(days=14)


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
        "given": row.given, "received": row.received, "open": row.open, "won": row.won,
        "lost": row.lost, "done": row.done,
        "median_hours_to_contact": row.median_hours_to_contact,
        "median_days_to_close": row.median_days_to_close, "ratings": row.ratings,
        "average_rating": row.average_rating,
        "last_given": iso(row.last_given, zone), "last_received": iso(row.last_received, zone),
        "last_contact": iso(row.last_contact, zone), "flags": row.flags,
    } for row in ledger(app, now, referrer, referrals)]


@dataclass(frozen=True)
class Digest:
    referrer: str
    subject: str
    text: str
    html: str


def build_report(app: App, now: datetime, since: datetime | None = None) -> dict[str, Digest]:
    """One digest per referrer with something to say; nothing to say gives no entry."""
    store = app.store
    since = since or now - timedelta(days=app.config.workflow.digest_every_days)
    rows = partner_rows(app, now)
    flagged = [r for r in rows if r["flags"]]
    by_referrer: dict[str, list[Any]] = {}
    for referral in store.referrals():
        by_referrer.setdefault(referral.referrer, []).append(referral)
    digests = {}
    for referrer, referrals in by_referrer.items():
        waiting = [r for r in referrals if r.status is not Status.CLOSED
                   and r.direction == "given"]
        open_items = [{"tag": r.tag, "client": r.client, "partner": r.partner,
                       "status": str(r.status), "days": (now - r.created_at).days,
                       "stale": now - r.created_at > STALE_AFTER and r.contacted_at is None}
                      for r in waiting]
        ids = {r.id for r in referrals}
        needs = [{"tag": f"R-{rid}", "actor": e.actor, "text": e.detail}
                 for rid, e in store.events() if rid in ids and e.kind == "need"
                 and e.at >= since]
        catch_up = [r for r in rows if "catch-up" in r["flags"]]
        if not open_items and not needs and not catch_up:
            continue  # flags alone, week after week, are not news
        context = {"referrer": referrer, "open": open_items, "needs": needs,
                   "ledger": rows, "flagged": flagged, "catch_up": catch_up,
                   "max_count": max([r["given"] for r in rows]
                                    + [r["received"] for r in rows] + [1]),
                   "date": now.astimezone(app.config.timezone).strftime("%-d %b %Y")}
        rendered = app.renderer.render("digest", context)
        digests[referrer] = Digest(referrer, rendered.subject, rendered.text,
                                   rendered.html or "")
    return digests


def mark_digest_sent(app: App, referrer: str, now: datetime) -> None:
    app.store.set_meta(f"digest:{referrer}", to_db(now) or "")


def queue_digests(app: App, now: datetime) -> list[str]:
    """Queue each referrer's digest when it is due and there is something to say.

    The digest is rendered now (it says where things stand today) and goes out through
    the dispatcher like every other email, under a Message-ID fixed here.
    """
    every = app.config.workflow.digest_every_days
    if every == 0 or not app.calendar.is_open(now):
        return []
    # the meta table holds one clock per referrer: no scan of the referrals
    due = app.store.digests_due(now - timedelta(days=every))
    if not due:
        return []
    digests = build_report(app, now)
    queued = []
    for referrer in due:
        digest = digests.get(referrer)
        # the clock moves with the digest it stands for: moved alone (a kill between two
        # autocommits), the re-run found the week done and skipped it
        with app.store.atomic():
            mark_digest_sent(app, referrer, now)  # nothing to say: this period is skipped
            if digest is None:
                continue
            stamp = now.astimezone(app.config.timezone).strftime("%Y%m%d")
            who = hashlib.sha256(referrer.encode()).hexdigest()[:10]  # any address, ASCII id
            message_id = (f"digest.{who}.{stamp}.{app.store.installation_id()}"
                          f"@mailflow.{split_address(app.config.tracker)[1]}")
            payload = json.dumps({"subject": digest.subject, "text": digest.text,
                                  "html": digest.html})
            app.store.add_outbox(None, "digest", referrer, now, kind="digest",
                                 payload=payload, message_id=message_id)
        queued.append(referrer)
    return queued
