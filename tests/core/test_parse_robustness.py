"""Hostile input: parsing either gives a message or a MalformedMessage, never anything else."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date
from email.message import Message
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mailflow.core import parse
from mailflow.core.commands import parse_command
from mailflow.core.parse import MalformedMessage, _filename, parse_message
from mailflow.core.reply_text import new_text
from mailflow.core.robots import detect_robot

CORPUS = sorted((Path(__file__).parents[1] / "mail").rglob("*.eml"))


def mutations(raw: bytes, rng: random.Random) -> list[bytes]:
    cut = rng.randrange(len(raw) + 1)
    flipped = bytearray(raw)
    for _ in range(20):
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    return [raw[:cut], bytes(flipped), raw.replace(b"\r\n", b"\r"), raw + b"\x00" * 50,
            raw.replace(b"boundary=", b"boundary=x"), raw.replace(b"charset=", b"charset=x-")]


@pytest.mark.parametrize("seed", range(5))
def test_mutated_corpus_never_crashes_the_core(seed: int) -> None:
    rng = random.Random(seed)
    today = date(2026, 11, 23)
    for path in CORPUS:
        for raw in mutations(path.read_bytes(), rng):
            try:
                message = parse_message(raw)
            except MalformedMessage:
                continue
            parse_command(new_text(message))
            detect_robot(message, ("referrals@firm.example",), today)


_PARAMETERS = st.sampled_from([
    "", "; charset=utf-8", '; name="report.pdf"', "; NAME=a.txt", "; Name*=utf-8''%C3%A9.txt",
    '; name*0="part"; name*1="two.txt"', "; filename=x", "; x-name=y", '; boundary="b"'])


@given(st.sampled_from(["text/plain", "application/pdf", "TEXT/HTML", "bogus"]),
       st.lists(_PARAMETERS, max_size=3),
       st.sampled_from([None, "inline", "attachment", 'attachment; filename="a b.pdf"',
                        "attachment; FILENAME*=utf-8''%E2%82%AC.txt", "inline; x=1"]))
def test_the_filename_shortcut_agrees_with_the_email_package(
        content_type: str, parameters: list[str], disposition: str | None) -> None:
    part = Message()
    part["Content-Type"] = content_type + "".join(parameters)
    if disposition is not None:
        part["Content-Disposition"] = disposition
    assert _outcome(lambda: _filename(part)) == _outcome(part.get_filename)


def _outcome(call: Callable[[], object]) -> object:
    """What `call` returns, or the type of what it raises (mixed RFC 2231 parameters
    make the email package raise; the shortcut must then raise alike)."""
    try:
        return call()
    except Exception as exc:
        return type(exc)


def _within_budget_scanning_everything(raw: bytes) -> bytes:
    """The cut as it was made before the scan was bounded: every run in the message."""
    if len(raw) <= parse.RAW_BUDGET:
        return raw
    kept: list[bytes] = []
    size = position = 0
    for run in parse._BASE64_RUN.finditer(raw):
        end = run.start()
        for _ in range(parse.BASE64_LINES_KEPT):
            end = raw.index(b"\n", end) + 1
        kept.append(raw[position:end])
        size += end - position
        position = run.end()
        if size >= parse.RAW_BUDGET:
            break
    kept.append(raw[position:position + max(0, parse.RAW_BUDGET - size)])
    return b"".join(kept)[:parse.RAW_BUDGET]


_BASE64_LINE = st.integers(40, 100).flatmap(
    lambda n: st.from_regex(rb"[A-Za-z0-9+/]{%d}={0,2}\r?\n" % n, fullmatch=True))
_CHUNKS = st.lists(st.one_of(
    st.lists(_BASE64_LINE, min_size=1, max_size=9).map(b"".join),  # runs, some long enough
    st.sampled_from([b"text line\r\n", b"\r\n", b"x" * 300 + b"\n", b"short=\n"]),
    st.binary(max_size=40)), max_size=60).map(b"".join)


@given(_CHUNKS)
def test_the_bounded_scan_keeps_what_scanning_everything_kept(raw: bytes) -> None:
    small = {"RAW_BUDGET": 800, "BASE64_LINES_KEPT": 3, "_RUN_REACH": 4 * 104,
             "_BASE64_RUN": re.compile(rb"(?m)(?:^[A-Za-z0-9+/]{40,100}={0,2}\r?\n){4,}+")}
    with patch.multiple(parse, **small):
        assert parse.within_budget(raw) == _within_budget_scanning_everything(raw)


_CHARSET_PARAMETERS = st.sampled_from([
    "", "; charset=utf-8", "; CHARSET=ISO-8859-1", '; charset="utf-8"', "; charset=",
    '; charset=""', "; charset*=utf-8''x", "; charset=a; charset=b", "; format=flowed",
    "; charset = utf-8 ", ';charset="utf 8"', '; charset="a;b"', "; charset=<x>",
    '; charset="a\\"b"', "; name=x.txt", ";", " ;", "; charset=é", "; charset=\t",
    "; x=1 ; charset=us-ascii", "; charset=utf-8 (comment)", "; =x", "; charset"])


@given(st.sampled_from(["text/plain", "TEXT/PLAIN ", "", "text/plain=x", "charset=x",
                        "text/html", "bogus", " text/plain", "text/plain\t"]),
       st.lists(_CHARSET_PARAMETERS, max_size=3), st.booleans())
@example("text/plain", ["; CHARSET=ISO-8859-1"], False)
@example("text/plain", ['; charset="UTF-8"'], False)
@example("text/plain=x", ["; charset=utf-8"], False)
def test_the_charset_shortcut_agrees_with_the_email_package(
        content_type: str, parameters: list[str], folded: bool) -> None:
    part = Message()
    value = content_type + "".join(parameters)
    part.set_raw("Content-Type", value.replace(";", "\r\n ;", 1) if folded else value)
    assert _outcome(lambda: parse._charset(part)) == _outcome(part.get_content_charset)


def test_the_charset_shortcut_reads_a_part_with_no_content_type() -> None:
    assert parse._charset(Message()) is None


@given(st.lists(st.sampled_from([b"a", b":", b" ", b"\r", b"\n", b"\r\n", b"\n\n"]),
                max_size=40).map(b"".join))
@example(b"To: a\r\n\r\nbody\n\nmore")
@example(b"To: a\n\nbody\r\n\r\nmore")
def test_the_headers_end_at_the_first_blank_line_of_either_kind(raw: bytes) -> None:
    ends = [e for e in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n")) if e >= 0]
    blank = parse._BLANK_LINE.search(raw)
    assert (blank.start() if blank else None) == (min(ends) if ends else None)
