"""Like an attacker: generated hostile mail never raises past parsing, and costs linear time.

Time is asserted only as a ratio (a 4n-byte input against an n-byte one, best of
three), never as a wall-clock limit: linear work gives about 4, quadratic 16.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailflow.core.addressing import Trackers
from mailflow.core.authresults import sender_verified
from mailflow.core.budget import RAW_BUDGET
from mailflow.core.commands import parse_command
from mailflow.core.intake import PartnerDirectory, read_intro
from mailflow.core.parse import MalformedMessage, parse_message
from mailflow.core.reply_text import new_text
from mailflow.core.robots import detect_robot

TRACKERS = Trackers(("referrals@firm.example",))
CORPUS = sorted((Path(__file__).parents[1] / "mail").rglob("*.eml"))


def handle(raw: bytes) -> None:
    """Everything the core does with one inbound message, as the handler calls it."""
    try:
        message = parse_message(raw)
    except MalformedMessage:
        return
    for text in (message.text, message.subject, message.message_id):
        text.encode("utf-8")  # storable: no lone surrogates reach SQLite or SMTP
    for address in (*message.to, *message.cc, *message.reply_to):
        address.email.encode("utf-8")
        assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in address.name)
    detect_robot(message, TRACKERS.addresses, date(2026, 11, 23))
    parse_command(new_text(message))
    read_intro(message, TRACKERS, ("*@firm.example",), PartnerDirectory())
    sender_verified(message, "mx.firm.example")


def mail(body: bytes, content_type: str = "text/plain", head: bytes = b"",
         sender: bytes = b"Alice <alice@firm.example>") -> bytes:
    return (b"From: " + sender + b"\r\nTo: jane@gmail.com, bob@law.example\r\n"
            b"Cc: referrals@firm.example\r\nSubject: Intro\r\nMessage-ID: <x@y>\r\n" + head
            + b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)


AUTO = b"Auto-Submitted: auto-replied\r\n"
# Each shape once made a scan super-linear (issue 10: `<div ` took 71 s at 98 KB, blank
# lines 179 s at 49 KB), or is a close relative of one that did.
SHAPES: dict[str, Callable[[int], bytes]] = {
    "unclosed tags": lambda n: mail(b"<div " * (n // 5), "text/html"),
    "nested blockquotes": lambda n: mail(b"<blockquote>" * (n // 12), "text/html"),
    "open comments": lambda n: mail(b"<!--" * (n // 4), "text/html"),
    "blank lines": lambda n: mail(b"\r\n" * (n // 2) + b"@"),
    "blank lines, auto-reply": lambda n: mail(b"\r\n" * (n // 2) + b"back until", head=AUTO),
    "whitespace lines": lambda n: mail(b" \t\r\n" * (n // 4) + b"partner: x@y"),
    "bounce of blank lines": lambda n: mail(b"\r\n" * (n // 2) + b"550",
                                            head=b"Return-Path: <>\r\n",
                                            sender=b"MAILER-DAEMON@mx.example"),
    "quote markers": lambda n: mail(b"> " * (n // 2)),
    "attribution starts": lambda n: mail(b"On Mon, 1 Dec 2026 Bob <b@x> " * (n // 30)),
    "header-like lines": lambda n: mail(b"From: x\n" * (n // 8)),
    "dashes": lambda n: mail(b"-" * n),
    "at signs": lambda n: mail(b"a@" * (n // 2)),
    "partner hints": lambda n: mail(b"partner: " * (n // 9)),
    "dates": lambda n: mail(b"back on 7 December " * (n // 19), head=AUTO),
    "spaces in a header": lambda n: mail(b"hi", head=b"Reply-To: " + b" " * n + b"x\r\n"),
    "forward markers": lambda n: mail(b"---------- Forwarded message ---------\n" * (n // 40)),
    "commas": lambda n: mail(b"done" + b" ," * (n // 2)),
    # the reply words of five languages, their negations and their keyword rules
    "negated words": lambda n: mail("noch nicht erledigt, pas encore fait, todavía no "
                                    .encode() * (n // 50)),
    "stop keywords": lambda n: mail(b"bitte keine e-mails mehr " * (n // 25)),
    "snooze lengths": lambda n: mail(b"2 wochen " * (n // 9) + b"zur\xc3\xbcckstellen"),
    "need keywords": lambda n: mail(b"besoin " * (n // 7)),
    "name-first quote headers": lambda n: mail(b"Alice <a@x> schrieb am " * (n // 23)),
    "dutch quote headers": lambda n: mail(b"Op 3 dec. 2026 heeft " * (n // 21)),
    "return words": lambda n: mail("am 7.12. wieder jusqu'au 7 décembre ".encode() * (n // 36),
                                   head=AUTO),
    "folded header lines": lambda n: mail(b"hi", head=b"X-Long: a\r\n" + b" b\r\n" * (n // 4)),
    "header lines": lambda n: mail(b"hi", head=b"X-A: b\r\n" * (n // 8)),
    "spaces in the content type": lambda n: mail(b"hi", "text/plain; a=b" + " " * n + "x"),
    "parameters in the content type": lambda n: mail(b"hi", "text/plain" + "; a=b" * (n // 5)
                                                      + " x"),
    # the multipart split (core/simple_mime.py): delimiter-like lines, parts, nesting
    "delimiter-like lines": lambda n: mail(b"--b\r\nX: y\r\n\r\n" + b"--b x\r\n" * (n // 7)
                                           + b"--b--\r\n", "multipart/mixed; boundary=b"),
    "boundaries mid-line": lambda n: mail(b"--b\r\nX: y\r\n\r\n" + b"x--b" * (n // 4)
                                          + b"\r\n--b--\r\n", "multipart/mixed; boundary=b"),
    "many parts": lambda n: mail(b"--b\r\nX: y\r\n\r\nz\r\n" * (n // 16) + b"--b--\r\n",
                                 "multipart/alternative; boundary=b"),
    "nested multiparts": lambda n: mail(b"--a\r\nContent-Type: multipart/mixed; boundary=b"
                                        b"\r\n\r\n" + b"--b\r\nX: y\r\n\r\nz\r\n"
                                        * (n // 16) + b"--b--\r\n--a--\r\n",
                                        "multipart/mixed; boundary=a"),
}


def _best_of_three(raw: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        handle(raw)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_cost_grows_linearly(shape: str) -> None:
    make = SHAPES[shape]
    small, large = _best_of_three(make(4_000)), _best_of_three(make(16_000))
    floor = 0.002  # below this, timer noise dominates a ratio
    ratio = max(large, floor) / max(small, floor)
    assert ratio < 10, f"{shape}: 4x the bytes cost {ratio:.1f}x the time"


def test_the_budget_bounds_a_huge_message() -> None:
    """Past the raw budget, more bytes cost (almost) nothing more."""
    at_budget = _best_of_three(SHAPES["blank lines"](RAW_BUDGET))
    far_past = _best_of_three(SHAPES["blank lines"](4 * RAW_BUDGET))
    assert far_past < max(at_budget, 0.002) * 2


HEADER_NAMES = st.sampled_from([b"From", b"To", b"Cc", b"Reply-To", b"Subject", b"Message-ID",
                                b"In-Reply-To", b"References", b"Date", b"Content-Type",
                                b"Authentication-Results", b"Auto-Submitted", b"Return-Path",
                                b"X-\xff\xfe", b"List-Id", b"Precedence"])
HOSTILE_BYTES = st.binary(max_size=200) | st.sampled_from([
    b"<caf\xc3\xa9@x.example>", b"Jos\xc3\xa9 <jos\xc3\xa9@correo.example>", b"\x00\x1b[31m",
    b"=?utf-8?b?\xff?=", b"=?klingon?q?x?=", b"\"<img src=x onerror=alert(1)>\"@evil.example",
    b"mx.firm.example;", b"", b" " * 300, b"multipart/mixed; boundary=", b"<>",
    b"mx.firm.example; dmarc=pass (smtp.mailfrom=firm.example)"])


@st.composite
def hostile_mail(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HOSTILE_BYTES), max_size=12))
    head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    depth = draw(st.integers(0, 60))
    body = draw(st.binary(max_size=400) | st.sampled_from([
        b"<div " * 50, b"\r\n" * 200, b"> " * 100, b"<blockquote>" * 100]))
    nested = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
                      for i in range(depth))
    return head + nested + b"\r\n" + body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_mail())
def test_generated_hostile_mail_never_raises(raw: bytes) -> None:
    handle(raw)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CORPUS), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                                         max_size=30))
def test_mutated_corpus_mail_never_raises(path: Path, flips: list[tuple[int, int]]) -> None:
    raw = bytearray(path.read_bytes())
    for position, value in flips:
        raw[position % len(raw)] = value
    handle(bytes(raw))


def test_a_huge_attachment_is_never_held_in_memory_whole() -> None:
    import base64
    import os
    import tracemalloc

    data = base64.encodebytes(os.urandom(15_000_000)).replace(b"\n", b"\r\n")
    raw = (b"From: A <a@firm.example>\r\nTo: b@x.example\r\nSubject: big\r\n"
           b"Message-ID: <big@x>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
           b"Content-Type: text/plain\r\n\r\nhello\r\n--B\r\nContent-Type: application/pdf\r\n"
           b"Content-Disposition: attachment; filename=x.pdf\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + data + b"\r\n--B--\r\n")
    tracemalloc.start()
    try:
        message = parse_message(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message.text.strip() == "hello" and message.attachment_names == ("x.pdf",)
    assert peak < len(raw) / 10, f"{peak / 1e6:.0f} MB to parse a {len(raw) / 1e6:.0f} MB mail"
