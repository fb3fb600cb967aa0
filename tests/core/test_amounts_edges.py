"""Values at their edges: the smallest bare figure, marks away from the word, the window,
spaces of every width, and the last separator as the decimal one."""

from __future__ import annotations

import pytest

from mailflow.core.amounts import number_of, read_value


@pytest.mark.parametrize(("text", "number"), [
    ("4\u00a0500", 4500.0), ("4\u202f500", 4500.0), ("1\u202f234\u202f567,5", 1234567.5),
    ("1.234.567", 1234567.0), ("1,234,567", 1234567.0),
    # the last separator is the decimal one when one or two digits follow it
    ("1.234.56", 1234.56), ("1,234,5", 1234.5), ("1.234,567", 1234567.0),
    ("1", 1.0), ("0,5", 0.5), ("999999999999", 999999999999.0),
    # no value: nothing before the decimal part, zero, a phone number's worth
    (",50", None), (".5", None), ("0,00", None), ("1000000000000", None),
])
def test_number_edges(text: str, number: float | None) -> None:
    assert number_of(text) == number


@pytest.mark.parametrize(("text", "value"), [
    ("won 100", 100.0),  # the smallest bare figure that is a value
    ("won 99", None),  # a count, not a value
    ("won, fee €50", 50.0),  # a currency mark makes a small figure a value
    ("Won! Signed yesterday for €4.500", 4500.0),  # marked, not right after the word
    ("Won! The client signed, 12 EUR", 12.0),
    ("Gewonnen, 4\u202f500 €", 4500.0),
    ("won 3k", 3000.0),
    ("Won! 5 calls later they signed, $2,000", 2000.0),  # the marked figure, not the count
    ("won 4\u00a0500", 4500.0), ("won 4 500,75", 4500.75), ("won, 80 CHF", 80.0),
    ("Won! - 4500", 4500.0), ("won: 12.50 €", 12.5),
])
def test_won_values_at_their_edges(text: str, value: float | None) -> None:
    assert read_value(text, "won") == value


def test_only_the_start_of_a_reply_is_read() -> None:
    filler = "Thanks for the introduction, it went really well. " * 7  # over 300 characters
    assert len(filler) > 300
    assert read_value("value: 4500\n" + filler, None) == 4500.0
    assert read_value(filler + "value: 4500", None) is None
    assert read_value(filler + "$4,500", "won") is None


def test_a_label_needs_its_colon_and_a_word_of_its_own() -> None:
    assert read_value("Wert = 4.500", None) == 4500.0
    assert read_value("value 4500", None) is None
    assert read_value("devalue: 4500", None) is None
