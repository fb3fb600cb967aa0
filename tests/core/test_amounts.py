"""What a won referral was worth, as people write it, and what is no value."""

from __future__ import annotations

import time

import pytest

from mailflow.core.amounts import number_of, read_value


@pytest.mark.parametrize(("text", "word", "value"), [
    ("won 4500", "won", 4500.0),
    ("Won $4,500", "won", 4500.0),
    ("Won! value: 4500", "won", 4500.0),
    ("won: 4500 EUR", "won", 4500.0),
    ("Gewonnen, 4.500 €", "won", 4500.0),
    ("Auftrag erhalten, Auftragswert: 4.500,50 €", "won", 4500.5),
    ("signé, 4 500 €", "won", 4500.0),
    ("Firmado: 12k", "won", 12000.0),
    ("Opdracht binnen. Waarde: 1.250", "won", 1250.0),
    ("value: 4500", None, 4500.0),  # a value on its own, for a referral already won
    ("Won £12.5k", "won", 12500.0),
    # no value
    ("Won! Jane signed on 12 March 2026.", "won", None),
    ("Won! 2 weeks of work ahead", "won", None),
    ("done 4500", "done", None),
    ("Contacted her, 3 calls", "contacted", None),
    ("Won.\n\nOn 3 Dec 2026 Alice wrote: budget $9,000", "won", None),  # past the first part
])
def test_values_as_people_write_them(text: str, word: str | None, value: float | None) -> None:
    assert read_value(text, word) == value


@pytest.mark.parametrize(("text", "number"), [
    ("4500", 4500.0), ("4,500", 4500.0), ("4.500", 4500.0), ("4 500", 4500.0),
    ("4.500,50", 4500.5), ("4,500.50", 4500.5), ("4500.5", 4500.5), ("0", None)])
def test_number_separators(text: str, number: float | None) -> None:
    assert number_of(text) == number


def test_reading_is_linear_on_hostile_digits() -> None:
    def cost(n: int) -> float:
        text = "won " + "1,2" * n + " value: " + "9." * n
        start = time.perf_counter()
        for _ in range(20):
            read_value(text, "won")
        return time.perf_counter() - start
    cost(100)
    assert cost(4000) < 8 * cost(1000) + 0.05  # the window is bounded: flat, not quadratic
