"""The referrer's weekly digest, built from the store and queued in the outbox."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_date

from mailflow.adapters.store import to_db
from mailflow.app.ledger_view import partner_rows
from mailflow.app.money import value_text
from mailflow.app.outgoing import queue_email
from mailflow.app.readers import firm_reader
from mailflow.app.wiring import App
from mailflow.core.stale import is_stale

# open referrals a digest lists by name: a person reads fifty, not thirty thousand; the
# digest says how many there are in all
DIGEST_LISTS = 50


@dataclass(frozen=True)
class Digest:
    referrer: str
    subject: str
    text: str
    html: str
    language: str = "en"


def build_report(app: App, now: datetime, since: datetime | None = None) -> dict[str, Digest]:
    """One digest per referrer with something to say; nothing to say gives no entry."""
    store = app.store
    since = since or now - timedelta(days=app.config.workflow.digest_every_days)
    rows = partner_rows(app, now)
    flagged = [r for r in rows if r["flags"]]
    # read once for every referrer: how many referrals wait, and the needs said since
    waiting = store.waiting_counts()
    needs_of: dict[str, list[dict[str, str]]] = {}
    for referrer, rid, event in store.needs_since(since):
        needs_of.setdefault(referrer, []).append(
            {"tag": f"R-{rid}", "actor": event.actor, "text": event.detail})
    digests = {}
    for referrer in store.referrers():
        listed = (store.most_waiting(referrer, now, DIGEST_LISTS)
                  if waiting.get(referrer) else [])
        open_items = sorted(({"tag": r.tag, "client": r.client, "partner": r.partner,
                              "status": str(r.status), "days": (now - r.created_at).days,
                              "stale": is_stale(r, now)} for r in listed),
                            key=lambda item: not item["stale"])  # stale ones first
        needs = needs_of.get(referrer, [])
        catch_up = [r for r in rows if "catch-up" in r["flags"]]
        profiles = [r for r in rows if (r["ideal"] or r["not"]) and r["profile_at"]
                    and datetime.fromisoformat(r["profile_at"]) >= since]  # new this week
        if not open_items and not needs and not catch_up and not profiles:
            continue  # flags alone, week after week, are not news
        context = {"referrer": referrer, "open": open_items,
                   "open_count": waiting.get(referrer, 0), "needs": needs,
                   "ledger": rows, "flagged": flagged, "catch_up": catch_up,
                   "profiles": profiles,
                   "max_count": max([r["given"] for r in rows]
                                    + [r["received"] for r in rows] + [1]),
                   "date": now.astimezone(app.config.timezone)}
        reader = firm_reader(app.config, referrer, store.contact(referrer))
        written_in = app.renderer.language_of("digest", reader.language.code)
        locale = reader.locale(written_in)
        context["date"] = format_date(context["date"], "medium", locale=locale)
        context["ledger"] = [{**row, "value_text": value_text(
            row["value_given"], row["value_received"], app.config, locale)} for row in rows]
        rendered = app.renderer.render("digest", context, written_in)
        digests[referrer] = Digest(referrer, rendered.subject, rendered.text,
                                   rendered.html or "", rendered.language)
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
            queue_email(app, "digest", referrer, now, f"digest.{who}.{stamp}",
                        {"subject": digest.subject, "text": digest.text, "html": digest.html,
                         "language": digest.language})
        queued.append(referrer)
    return queued
