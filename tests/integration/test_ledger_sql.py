"""The ledger added up by SQLite (`Store.ledger_totals`, `core.ledger.ledger_from_totals`)
is the ledger counted in Python from every referral (`core.ledger.compute_ledger`), and
the per-month chart counted by the store is the one counted from each referral's date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailflow.adapters.store import Store, to_db
from mailflow.app.directory import records
from mailflow.core.ledger import LedgerThresholds, compute_ledger, ledger_from_totals
from mailflow.web.ledger_view import referral_months

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)
REFERRERS = ("alice@firm.example", "ben@firm.example")
# partner 1 has two addresses, partner 2 one, partner 3 none; the rest are unknown
DIRECTORY = {1: ("bob@law.example", "bob@home.example"), 2: ("carol@tax.example",), 3: ()}
ADDRESSES = ["bob@law.example", "bob@home.example", "carol@tax.example", "dan@it.example",
             "erin@x.example"]
ACTORS = [*ADDRESSES, "mailflow", "cli", "client@mail.example", "alice@firm.example"]
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC", "Australia/Adelaide"]

moments = st.integers(0, 400 * 24 * 60).map(lambda m: NOW - timedelta(minutes=m))
referrals = st.lists(st.tuples(
    st.sampled_from(REFERRERS), st.sampled_from([*ADDRESSES, None]),
    st.sampled_from(["given", "received", None, ""]),
    st.sampled_from(["open", "contacted", "closed", "needs_partner"]),
    st.sampled_from(["won", "lost", "done", None]), moments,
    st.one_of(st.none(), st.integers(-3000, 300_000)),  # contact, seconds after the intro
    st.one_of(st.none(), st.integers(0, 9_000_000)),  # close, seconds after the intro
    st.one_of(st.none(), st.integers(1, 5)),
    st.lists(st.tuples(st.sampled_from(ACTORS), moments), max_size=3)), max_size=40)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(Path(tmp_path_factory.mktemp("ledger")) / "ledger.db")
    conn = store.db.conn
    with store.atomic():
        for partner_id, emails in DIRECTORY.items():
            conn.execute("insert into partners (id, name, niche, notes, domain, source) "
                         "values (?, ?, 'niche', '', null, 'cli')", [partner_id, f"P{partner_id}"])
            conn.executemany("insert into partner_emails (email, partner_id) values (?, ?)",
                             [(e, partner_id) for e in emails])
    return store


def _fill(store: Store, rows: list[tuple]) -> None:  # type: ignore[type-arg]
    conn = store.db.conn
    with store.atomic():
        conn.execute("delete from events")
        conn.execute("delete from referrals")
        for n, (referrer, partner, direction, status, outcome, created, contact, close,
                rating, events) in enumerate(rows, start=1):
            conn.execute(
                "insert into referrals (id, status, direction, referrer, client, partner, "
                "subject, created_at, intro_message_id, outcome, contacted_at, closed_at, "
                "context, candidates, names, rating) values (?, ?, ?, ?, 'c@mail.example', "
                "?, 's', ?, ?, ?, ?, ?, '', '[]', '{}', ?)",
                [n, status, direction, referrer, partner, to_db(created), f"<i{n}@x>",
                 outcome, to_db(created + timedelta(seconds=contact)) if contact is not None
                 else None, to_db(created + timedelta(seconds=close)) if close is not None
                 else None, rating])
            conn.executemany("insert into events (referral_id, at, kind, actor, detail) "
                             "values (?, ?, 'said', ?, '')",
                             [(n, to_db(at), actor) for actor, at in events])


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(referrals, st.sampled_from([None, *REFERRERS]),
       st.one_of(st.none(), moments), st.sampled_from(ZONES))
def test_the_ledger_added_up_by_sqlite_is_the_one_counted_in_python(
        store: Store, rows: list[tuple], referrer: str | None,  # type: ignore[type-arg]
        since: datetime | None, zone: str) -> None:
    _fill(store, rows)
    thresholds = LedgerThresholds(slow_contact_hours=30, catch_up_after_days=60)
    directory = records(store)
    summed = ledger_from_totals(
        [(r.id, r.emails[0] if r.emails else str(r.id), r.name, r.emails, r.niche)
         for r in directory], store.ledger_totals(referrer, since), NOW, thresholds)
    summaries = [s for s in store.referral_summaries(referrer)
                 if since is None or s.created_at >= since]
    counted = compute_ledger(
        [(r.emails[0] if r.emails else str(r.id), r.name, r.emails, r.niche)
         for r in directory], summaries, store.last_said(referrer),
        {s.id: s.rating for s in summaries if s.rating is not None}, NOW, thresholds)
    assert [(p.key, p.name, p.emails, p.given, p.received, p.open, p.won, p.lost, p.done,
             p.median_hours_to_contact, p.median_days_to_close, p.ratings, p.average_rating,
             p.last_given, p.last_received, p.last_contact, p.flags) for p in summed] == \
        [(p.key, p.name, p.emails, p.given, p.received, p.open, p.won, p.lost, p.done,
          p.median_hours_to_contact, p.median_days_to_close, p.ratings, p.average_rating,
          p.last_given, p.last_received, p.last_contact, p.flags) for p in counted]
    local = ZoneInfo(zone)
    months: dict[str, int] = {}
    for summary in sorted(summaries, key=lambda s: s.created_at):
        label = summary.created_at.astimezone(local).strftime("%b %Y")
        months[label] = months.get(label, 0) + 1
    assert referral_months(store, referrer, since, local) == list(months.items())
