"""Inline forward blocks of the common clients."""

from __future__ import annotations

import pytest

from mailflow.core.forwards import inline_forward

GMAIL = """FYI, for tracking.

---------- Forwarded message ---------
From: Alice Adams <alice@firm.example>
Date: Mon, 16 Nov 2026 at 10:02
Subject: Introduction: Jane / Bob
To: Jane Doe <jane@gmail.com>, Bob Smith <bob@law.example>

Hi Jane, meet Bob.
"""
OUTLOOK = """See below.

________________________________
From: Alice Adams <alice@firm.example>
Sent: Monday, November 16, 2026 10:00 AM
To: Jane Doe <jane@gmail.com>; Bob Smith <bob@law.example>
Cc: Someone Else <x@y.example>
Subject: Intro

Hi both"""
APPLE = """Tracking this one.

Begin forwarded message:

From: Alice Adams <alice@firm.example>
Subject: Intro
Date: 16 November 2026 at 10:00:00 GMT
To: Jane Doe <jane@gmail.com>, Bob Smith <bob@law.example>

Hi both"""
GERMAN = """---------- Weitergeleitete Nachricht ---------
Von: Carol Jones <carol@tax.example>
Datum: Mo., 16. Nov. 2026 um 10:02 Uhr
Betreff: Vorstellung
An: Alice Adams <alice@firm.example>, Tom Baker <tom@bakery.example>

Hallo"""


@pytest.mark.parametrize(("text", "sender", "recipients"), [
    (GMAIL, "alice@firm.example", ["jane@gmail.com", "bob@law.example"]),
    (OUTLOOK, "alice@firm.example", ["jane@gmail.com", "bob@law.example", "x@y.example"]),
    (APPLE, "alice@firm.example", ["jane@gmail.com", "bob@law.example"]),
    (GERMAN, "carol@tax.example", ["alice@firm.example", "tom@bakery.example"]),
])
def test_inline_forward(text: str, sender: str, recipients: list[str]) -> None:
    original = inline_forward(text)
    assert original is not None and original.from_ is not None
    assert original.from_.email == sender
    assert [a.email for a in original.recipients] == recipients


def test_plain_text_without_forward() -> None:
    assert inline_forward("Hi Bob,\nFrom: the look of it, we should talk.\n") is None


def _forward(original_from: str) -> bytes:
    return (f"From: Alice <alice@firm.example>\r\nTo: referrals@firm.example\r\n"
            f"Subject: Fwd: Intro\r\nMessage-ID: <fw@firm.example>\r\n\r\nFYI\r\n\r\n"
            f"---------- Forwarded message ---------\r\nFrom: Someone <{original_from}>\r\n"
            f"Date: Mon, 16 Nov 2026 at 09:00\r\nSubject: Intro\r\n"
            f"To: Jane <jane@gmail.example>, Bob <bob@law.example>\r\n\r\nJane, meet Bob.\r\n"
            ).encode()


@pytest.mark.parametrize(("origin", "direction", "partner"), [
    ("alice@firm.example", "given", "bob@law.example"),     # her own intro, forwarded
    ("carol@firm.example", "given", "bob@law.example"),     # a colleague's (also a referrer)
    ("bob@law.example", "received", "bob@law.example"),     # a partner introduced a client
])
def test_a_forwarded_intro_is_given_or_received_by_its_origin(origin: str, direction: str,
                                                               partner: str) -> None:
    from mailflow.core.addressing import Trackers
    from mailflow.core.intake import Intro, PartnerDirectory, read_intro
    from mailflow.core.parse import parse_message

    directory = PartnerDirectory(by_email={"bob@law.example": "bob@law.example"})
    intro = read_intro(parse_message(_forward(origin)), Trackers(("referrals@firm.example",)),
                       ("*@firm.example",), directory)
    assert isinstance(intro, Intro) and intro.direction == direction
    assert [r.partner for r in intro.referrals] == [partner]
    assert intro.referrer == "alice@firm.example"
