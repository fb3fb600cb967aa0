"""Authentication-Results from our own server decide whether a From is believed."""

from __future__ import annotations

import pytest

from mailflow.core.authresults import sender_verified
from mailflow.core.parse import parse_message


def message(*results: str, sender: str = "bob@law.example") -> bytes:
    head = "".join(f"Authentication-Results: {r}\r\n" for r in results)
    return (head + f"From: Bob <{sender}>\r\nTo: referrals@firm.example\r\nSubject: x\r\n"
            "Message-ID: <a@b>\r\n\r\ndone\r\n").encode()


@pytest.mark.parametrize(("results", "verified"), [
    (("mx.firm.example; dmarc=pass header.from=law.example",), True),
    (("mx.firm.example; dkim=pass header.d=law.example; spf=fail",), True),
    (("mx.firm.example; spf=pass smtp.mailfrom=bounce@mail.law.example",), False),
    (("mx.firm.example; spf=pass smtp.mailfrom=bob@law.example",), True),
    (("mx.firm.example; dkim=pass header.d=evil.example; dmarc=fail",), False),
    (("mx.firm.example; dmarc=fail header.from=law.example",), False),
    (("evil.example; dmarc=pass header.from=law.example",), False),  # forged header
    ((), False),
])
def test_sender_verified(results: tuple[str, ...], verified: bool) -> None:
    ok, why = sender_verified(parse_message(message(*results)), "mx.firm.example")
    assert ok is verified, why


@pytest.mark.parametrize(("results", "why"), [
    # our server's own header is on top; an attacker's pass below it must not count
    (("mx.firm.example; dmarc=fail header.from=law.example",
      "mx.firm.example; dmarc=pass header.from=law.example"), "did not authenticate"),
    # an alignment written inside a comment is no result
    (("mx.firm.example; spf=pass (smtp.mailfrom=law.example) smtp.mailfrom=evil.example",),
     "did not authenticate"),
    (("mx.firm.example; dkim=pass (header.d=law.example) header.d=evil.example",),
     "did not authenticate"),
    # DMARC passed for another From domain than the one we read
    (("mx.firm.example; dmarc=pass header.from=evil.example",), "did not authenticate"),
    (("",), "no Authentication-Results"),
    (("mx.firm.example;",), "unreadable"),
    (("mx.firm.example; dkim=",), "unreadable"),
])
def test_forged_or_broken_results_are_not_believed(results: tuple[str, ...], why: str) -> None:
    ok, reason = sender_verified(parse_message(message(*results)), "mx.firm.example")
    assert not ok and why in reason, reason


def test_a_forged_header_above_ours_with_another_id_is_skipped() -> None:
    ok, why = sender_verified(parse_message(message(
        "evil.example; dmarc=fail", "mx.firm.example; dmarc=pass header.from=law.example")),
        "mx.firm.example")
    assert ok, why
