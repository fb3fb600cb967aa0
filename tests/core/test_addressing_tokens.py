"""Tracker matching, referrer patterns and signed reply tokens."""

from __future__ import annotations

import pytest

from mailflow.core.addressing import Trackers, is_referrer
from mailflow.core.tokens import check_token, reply_address

TRACKERS = Trackers(("referrals@firm.example",))


@pytest.mark.parametrize(("email", "detail"), [
    ("referrals@firm.example", ""),
    ("Referrals@FIRM.example", ""),
    ("referrals+intro@firm.example", "intro"),
    ("referrals+received@firm.example", "received"),
    ("referrals@other.example", None),
    ("referralsx@firm.example", None),
    ("alice@firm.example", None),
])
def test_tracker_detail(email: str, detail: str | None) -> None:
    assert TRACKERS.detail(email) == detail


@pytest.mark.parametrize(("email", "patterns", "allowed"), [
    ("alice@firm.example", ["*@firm.example"], True),
    ("alice@evilfirm.example", ["*@firm.example"], False),
    ("alice@firm.example.evil", ["*@firm.example"], False),
    ("pat@solo-advisor.example", ["*@firm.example", "pat@solo-advisor.example"], True),
    ("PAT@solo-advisor.example", ["pat@solo-advisor.example"], True),
    ("mallory@outside.example", ["*@firm.example"], False),
])
def test_referrer_patterns(email: str, patterns: list[str], allowed: bool) -> None:
    assert is_referrer(email, patterns) is allowed


def test_token_round_trip_for_its_recipient_only() -> None:
    address = reply_address("referrals@firm.example", "s3cret", 42, "bob@law.example")
    detail = TRACKERS.detail(address)
    assert detail is not None and detail.startswith("r42.")
    good = check_token(detail, "s3cret", "bob@law.example")
    assert good is not None and good.referral_id == 42
    other = check_token(detail, "s3cret", "mallory@outside.example")
    assert other is not None and other.referral_id is None and "not valid" in other.problem
    wrong_secret = check_token(detail, "other", "bob@law.example")
    assert wrong_secret is not None and wrong_secret.referral_id is None


def test_tampered_token_is_refused() -> None:
    address = reply_address("referrals@firm.example", "s3cret", 42, "bob@law.example")
    detail = TRACKERS.detail(address)
    assert detail is not None
    moved = detail.replace("r42.", "r43.")
    result = check_token(moved, "s3cret", "bob@law.example")
    assert result is not None and result.referral_id is None


def test_plain_plus_detail_is_not_a_token() -> None:
    assert check_token("intro", "s3cret", "bob@law.example") is None
