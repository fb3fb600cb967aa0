"""What the referrals each way were worth, and when a partner is due a catch-up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mailflow.core.ledger import LedgerThresholds, PartnerLedger, compute_ledger
from mailflow.core.model import Event, Outcome, Referral, Status

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)
BOB, CAROL, DAN = "bob@law.example", "carol@tax.example", "dan@it.example"
PARTNERS = [(BOB, "Bob Smith", (BOB, "bob@smith-law.example"), "estate"),
            (CAROL, "Carol Jones", (CAROL,), "tax"), (DAN, "Dan Brown", (DAN,), "IT")]
NOW = T0 + timedelta(days=100)
FIRMS = LedgerThresholds()


def referral(rid: int, partner: str | None, day: float, value: float | None = None,
             direction: str = "given") -> Referral:
    return Referral(rid, Status.CLOSED, "alice@firm.example", f"c{rid}@x.example", partner,
                    "Intro", T0 + timedelta(days=day), f"i{rid}", Outcome.WON,
                    closed_at=T0 + timedelta(days=day + 1), direction=direction, value=value)


def ledger(referrals: list[Referral], thresholds: LedgerThresholds = FIRMS,
           own: dict[str, int] | None = None) -> dict[str, PartnerLedger]:
    return {row.key: row for row in compute_ledger(PARTNERS, referrals, {}, {}, NOW,
                                                   thresholds, own)}


def test_values_add_up_each_way_and_an_unknown_value_adds_nothing() -> None:
    rows = ledger([
        referral(1, BOB, 1, 1000.0), referral(2, "bob@smith-law.example", 2, 2500.5),
        referral(3, BOB, 3, None),
        referral(4, BOB, 4, 300.0, "received"), referral(5, BOB, 5, None, "received"),
        referral(6, BOB, 6, 700.0, "received"),
        referral(7, CAROL, 7, 50.0),
    ])
    bob, carol, dan = rows[BOB], rows[CAROL], rows[DAN]
    assert (bob.value_given, bob.value_received) == (3500.5, 1000.0)
    assert (bob.given, bob.received) == (3, 3)
    assert (carol.value_given, carol.value_received) == (50.0, 0.0)
    assert (dan.value_given, dan.value_received) == (0.0, 0.0)


def test_a_partner_outside_the_directory_keeps_their_own_values() -> None:
    rows = ledger([referral(1, "eve@new.example", 1, 400.0), referral(2, None, 2, 9999.0),
                   referral(3, "eve@new.example", 3, 600.0),
                   referral(4, "eve@new.example", 4, 80.0, "received")])
    eve = rows["eve@new.example"]
    assert (eve.name, eve.emails) == ("", ("eve@new.example",))
    assert (eve.given, eve.value_given, eve.value_received) == (2, 1000.0, 80.0)
    # a referral with no partner is no one's; most given first, then by key
    assert list(rows) == ["eve@new.example", BOB, CAROL, DAN]
    assert (rows[BOB].name, rows[BOB].niche) == ("Bob Smith", "estate")


def test_a_catch_up_is_due_only_past_the_threshold() -> None:
    at_threshold = referral(1, DAN, 0)
    thresholds = LedgerThresholds(catch_up_after_days=60)
    exactly = replace(at_threshold, created_at=NOW - timedelta(days=60))
    just_past = replace(at_threshold, created_at=NOW - timedelta(days=60, seconds=1))
    assert "catch-up" not in ledger([exactly], thresholds)[DAN].flags
    assert "catch-up" in ledger([just_past], thresholds)[DAN].flags


def test_a_catch_up_counts_referrals_either_way() -> None:
    # one each way, both long ago: still someone to catch up with
    rows = ledger([referral(1, CAROL, 1), referral(2, CAROL, 2, direction="received")])
    assert "catch-up" in rows[CAROL].flags
    only_theirs = ledger([referral(3, CAROL, 2, direction="received")])
    assert "catch-up" in only_theirs[CAROL].flags
    assert "catch-up" not in only_theirs[BOB].flags  # nothing exchanged with Bob


def test_a_partners_own_catch_up_threshold_may_be_longer_or_shorter() -> None:
    referrals = [referral(1, DAN, 20), referral(2, CAROL, 20)]  # 80 days ago
    assert "catch-up" in ledger(referrals, LedgerThresholds(catch_up_after_days=60))[DAN].flags
    rows = ledger(referrals, LedgerThresholds(catch_up_after_days=60), {DAN: 90})
    assert "catch-up" not in rows[DAN].flags  # Dan's own 90 days
    assert "catch-up" in rows[CAROL].flags  # the others keep the firm's 60
    # the threshold is the partner's, by their key, whichever address the referral used
    bobs = [referral(3, "bob@smith-law.example", 95)]
    assert "catch-up" in ledger(bobs, FIRMS, {BOB: 3})[BOB].flags
    assert "catch-up" not in ledger(bobs, FIRMS, {DAN: 3})[BOB].flags


def test_the_last_exchange_is_the_latest_either_way_in_any_order() -> None:
    dans = [referral(1, DAN, 90), referral(2, DAN, 30), referral(3, DAN, 50, direction="received"),
            referral(4, DAN, 10, direction="received")]
    carols = [referral(5, CAROL, 90, direction="received"), referral(6, CAROL, 10)]
    thresholds = LedgerThresholds(catch_up_after_days=60)
    rows = ledger(dans + carols, thresholds)
    for key in (DAN, CAROL):
        assert rows[key].last_contact == T0 + timedelta(days=90)
        assert "catch-up" not in rows[key].flags
    assert (rows[DAN].last_given, rows[DAN].last_received) == (T0 + timedelta(days=90),
                                                               T0 + timedelta(days=50))
    assert (rows[CAROL].last_given, rows[CAROL].last_received) == (T0 + timedelta(days=10),
                                                                   T0 + timedelta(days=90))
    # a recent referral of theirs alone is a recent exchange
    assert "catch-up" not in ledger([referral(5, BOB, 95, direction="received")],
                                    thresholds)[BOB].flags


def test_a_partners_own_word_on_an_old_referral_is_an_exchange() -> None:
    old = referral(1, BOB, 10)
    thresholds = LedgerThresholds(catch_up_after_days=60)

    def flags(*events: Event) -> list[str]:
        rows = compute_ledger(PARTNERS, [old], {old.id: list(events)}, {}, NOW, thresholds)
        return next(r for r in rows if r.key == BOB).flags

    recently = T0 + timedelta(days=95)
    assert "catch-up" in flags()
    assert "catch-up" not in flags(Event(recently, "reply", "bob@smith-law.example"))
    assert "catch-up" not in flags(Event(recently, "reply", BOB),
                                   Event(T0 + timedelta(days=20), "reply", BOB))
    assert "catch-up" in flags(Event(recently, "reply", "alice@firm.example"))  # the firm's


def test_hours_to_contact() -> None:
    quick = replace(referral(1, BOB, 1), contacted_at=T0 + timedelta(days=1, minutes=30))
    early = replace(referral(2, CAROL, 1), contacted_at=T0)  # before the intro was logged
    slow = replace(referral(3, DAN, 1), contacted_at=T0 + timedelta(days=11))
    rows = ledger([quick, early, slow])
    assert rows[BOB].hours_to_contact == [0.5]
    assert rows[CAROL].hours_to_contact == [0.0]
    assert rows[DAN].median_hours_to_contact == 240.0


def test_every_outcome_counts_each_time() -> None:
    def closed(rid: int, outcome: Outcome | None, days: float) -> Referral:
        return replace(referral(rid, BOB, 0), outcome=outcome,
                       closed_at=T0 + timedelta(days=days))

    reopened = replace(referral(9, BOB, 0), status=Status.OPEN)  # its closed_at stays
    rows = ledger([closed(1, Outcome.WON, 10), closed(2, Outcome.WON, 20),
                   closed(3, Outcome.LOST, 30), closed(4, Outcome.LOST, 40),
                   closed(5, Outcome.DONE, 50), closed(6, None, 60), reopened,
                   replace(referral(10, BOB, 0), status=Status.OPEN, closed_at=None)])
    bob = rows[BOB]
    assert (bob.given, bob.won, bob.lost, bob.done, bob.open) == (8, 2, 2, 2, 2)
    assert bob.days_to_close == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]


def test_slow_to_contact_only_past_the_threshold() -> None:
    def flags(hours: float) -> list[str]:
        contacted = replace(referral(1, BOB, 1), contacted_at=T0 + timedelta(days=1, hours=hours))
        return ledger([contacted], LedgerThresholds(slow_contact_hours=48.0))[BOB].flags

    assert "slow-to-contact" not in flags(48.0)
    assert "slow-to-contact" in flags(48.5)
