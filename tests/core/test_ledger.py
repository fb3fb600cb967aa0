"""The ledger from a scripted quarter: counts, medians and flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailflow.core.ledger import LedgerThresholds, compute_ledger
from mailflow.core.model import Event, Outcome, Referral, Status

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)
BOB, CAROL, DAN = "bob@law.example", "carol@tax.example", "dan@it.example"
PARTNERS = [(BOB, "Bob Smith", (BOB, "bob@smith-law.example"), "estate"),
            (CAROL, "Carol Jones", (CAROL,), "tax"), (DAN, "Dan Brown", (DAN,), "IT")]


def given(rid: int, partner: str, day: int, contact_hours: float | None = None,
          closed_days: float | None = None, outcome: Outcome | None = None) -> Referral:
    created = T0 + timedelta(days=day)
    contacted = created + timedelta(hours=contact_hours) if contact_hours is not None else None
    closed = created + timedelta(days=closed_days) if closed_days is not None else None
    status = Status.CLOSED if closed else Status.CONTACTED if contacted else Status.OPEN
    return Referral(rid, status, "alice@firm.example", f"client{rid}@x.example", partner,
                    "Intro", created, f"i{rid}", outcome, contacted, closed)


def received(rid: int, partner: str, day: int) -> Referral:
    return Referral(rid, Status.OPEN, "alice@firm.example", f"client{rid}@x.example", partner,
                    "Their intro", T0 + timedelta(days=day), f"i{rid}", direction="received")


REFERRALS = [
    given(1, BOB, 0, 2, 20, Outcome.WON),
    given(2, BOB, 10, 4, 30, Outcome.LOST),
    given(3, "bob@smith-law.example", 40, 6),   # firm alias counts for Bob
    received(4, BOB, 50),
    given(5, CAROL, 5, 72, 40, Outcome.WON),
    given(6, CAROL, 20, 60),
    given(7, CAROL, 60, 80, 10, Outcome.DONE),
    given(8, DAN, 1),                           # never contacted
]
NOW = T0 + timedelta(days=91)


def ledger_by_key() -> dict[str, object]:
    events = {4: [Event(T0 + timedelta(days=50), "intake", "alice@firm.example")],
              8: [Event(T0 + timedelta(days=1), "intake", "alice@firm.example")]}
    rows = compute_ledger(PARTNERS, REFERRALS, events, {1: 5, 5: 3, 7: 4}, NOW,
                          LedgerThresholds(unreciprocated_after=3, slow_contact_hours=48,
                                           catch_up_after_days=60))
    return {row.key: row for row in rows}


def test_counts_each_way() -> None:
    rows = ledger_by_key()
    bob, carol = rows[BOB], rows[CAROL]
    assert (bob.given, bob.received, bob.won, bob.lost, bob.open) == (3, 1, 1, 1, 1)
    assert (carol.given, carol.received, carol.won, carol.done, carol.open) == (3, 0, 1, 1, 1)


def test_medians_and_ratings() -> None:
    rows = ledger_by_key()
    assert rows[BOB].median_hours_to_contact == 4.0
    assert rows[CAROL].median_hours_to_contact == 72.0
    assert rows[BOB].median_days_to_close == 25.0
    assert rows[CAROL].ratings == [3, 4] and rows[CAROL].average_rating == 3.5
    assert rows[DAN].median_hours_to_contact is None


def test_flags() -> None:
    rows = ledger_by_key()
    assert "never-refers-back" in rows[CAROL].flags
    assert "never-refers-back" not in rows[BOB].flags
    assert "slow-to-contact" in rows[CAROL].flags
    assert "slow-to-contact" not in rows[BOB].flags
    assert "catch-up" in rows[DAN].flags       # no word from Dan in 90 days
    assert "catch-up" not in rows[BOB].flags   # Bob referred someone back on day 50


def test_a_catch_up_counts_from_the_last_exchange_either_way_and_per_partner() -> None:
    # a referral *given* to Dan on day 80 is an exchange too: no catch-up at day 91
    referrals = [given(8, DAN, 1), given(9, DAN, 80)]
    rows = {r.key: r for r in compute_ledger(PARTNERS, referrals, {}, {}, NOW,
                                             LedgerThresholds(catch_up_after_days=60))}
    assert "catch-up" not in rows[DAN].flags
    # Dan's own threshold of 7 days: eleven days since the last referral is too long
    rows = {r.key: r for r in compute_ledger(PARTNERS, referrals, {}, {}, NOW,
                                             LedgerThresholds(catch_up_after_days=60),
                                             {DAN: 7})}
    assert "catch-up" in rows[DAN].flags
    assert "catch-up" not in rows[BOB].flags  # no referral with Bob here: nothing to catch up
