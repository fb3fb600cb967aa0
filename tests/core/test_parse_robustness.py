"""Hostile input: parsing either gives a message or a MalformedMessage, never anything else."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from mailflow.core.commands import parse_command
from mailflow.core.parse import MalformedMessage, parse_message
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
