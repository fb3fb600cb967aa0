"""Which referral a reply belongs to; only parties may act."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailflow.core.correlate import answers, base_subject, correlate, has_reply_prefix, subject_tag
from mailflow.core.model import Referral, Status
from mailflow.core.tokens import TokenCheck

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def referral(rid: int, partner: str = "bob@law.example") -> Referral:
    return Referral(rid, Status.OPEN, "alice@firm.example", "jane@gmail.com", partner,
                    "Intro", T0, f"intro{rid}@firm.example")


def test_subject_tag() -> None:
    assert subject_tag("Re: [R-42] Quick nudge") == 42
    assert subject_tag("Re: [r-7] x") == 7
    assert subject_tag("R-42 without brackets") is None


def test_valid_token_wins() -> None:
    r = referral(1)
    found = correlate("bob@law.example", TokenCheck(1), r, [], None)
    assert found.referrals == (r,) and found.how == "token"


def test_forged_token_is_refused() -> None:
    found = correlate("mallory@x.example", TokenCheck(None, "bad mac"), None, [], None)
    assert found.refused.startswith("forged-token") and not found.referrals


def test_thread_match_by_party() -> None:
    r = referral(1)
    found = correlate("jane@gmail.com", None, None, [r], None)
    assert found.referrals == (r,) and found.how == "thread"


def test_thread_match_by_outsider_is_refused() -> None:
    found = correlate("mallory@x.example", None, None, [referral(1)], None)
    assert found.refused.startswith("not-a-party") and not found.referrals


def test_partner_reply_picks_their_own_referral_of_a_two_partner_intro() -> None:
    bob, carol = referral(1), referral(2, "carol@tax.example")
    found = correlate("carol@tax.example", None, None, [bob, carol], None)
    assert found.referrals == (carol,)


def test_subject_tag_only_counts_for_parties() -> None:
    r = referral(5)
    assert correlate("jane@gmail.com", None, None, [], r).referrals == (r,)
    assert not correlate("mallory@x.example", None, None, [], r).found


@pytest.mark.parametrize(("subject", "reply", "answer", "base"), [
    ("Re: Jane / Bob", True, True, "jane / bob"),
    ("AW: WG: Jane / Bob", True, True, "jane / bob"),
    ("SV: Jane / Bob", True, True, "jane / bob"),
    ("VS: Jane / Bob", True, True, "jane / bob"),
    ("Antw: Jane / Bob", True, True, "jane / bob"),
    ("Fwd: Jane / Bob", True, False, "jane / bob"),
    ("TR: Jane / Bob", True, False, "jane / bob"),
    ("RV: Jane / Bob", True, False, "jane / bob"),
    ("Re[2]: Jane / Bob", True, True, "jane / bob"),
    ("Jane / Bob", False, False, "jane / bob"),
    ("Revised: Jane / Bob", False, False, "revised: jane / bob"),
])
def test_one_list_of_reply_and_forward_prefixes(subject: str, reply: bool, answer: bool,
                                                base: str) -> None:
    assert has_reply_prefix(subject) is reply
    assert answers(subject) is answer
    assert base_subject(subject) == base
