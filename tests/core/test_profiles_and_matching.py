"""A partner's profile lines, and which partners fit a need, best first."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from mailflow.core.matching import Candidate, fits, mentions, suggest
from mailflow.core.profiles import Profile, only_profile, read_profile


@pytest.mark.parametrize(("text", "profile"), [
    ("ideal: families with property abroad\nnot: divorce cases",
     Profile("families with property abroad", "divorce cases")),
    ("Hallo Alice,\n\nIdeal: Familien mit Immobilien\nNicht: Scheidungen\n\nGrüße",
     Profile("Familien mit Immobilien", "Scheidungen")),
    ("Idéal : PME industrielles\nÀ éviter : litiges", Profile("PME industrielles", "litiges")),
    ("Ideal: pymes familiares\nEvitar: divorcios", Profile("pymes familiares", "divorcios")),
    ("Ideaal: familiebedrijven\nLiever niet: echtscheidingen",
     Profile("familiebedrijven", "echtscheidingen")),
    ("No: thanks", None), ("not: sure what you mean?", None), ("Not: yet", None),
    ("The ideal client is rich", None), ("> ideal: quoted", None),
])
def test_profile_lines(text: str, profile: Profile | None) -> None:
    assert read_profile(text) == profile


def test_a_reply_of_only_profile_lines_is_no_note() -> None:
    assert only_profile("Hi Alice,\nideal: families\nnot: divorce\nThanks, Bob")
    assert not only_profile("ideal: families\nBy the way, Jane called me twice this week "
                            "about her mother's house in Spain")


BOB = Candidate("bob@law.example", "Bob", "estate planning", won_share=0.5,
                hours_to_contact=4.0)
RUTH = Candidate("ruth@law.example", "Ruth", "property and leases",
                 ideal="Spanish property purchases", won_share=0.5, hours_to_contact=30.0)
CAROL = Candidate("carol@tax.example", "Carol", "cross-border tax", avoid="estate planning")
ERIN = Candidate("erin@w.example", "Erin", "wealth and estate planning", won_share=0.8)


def test_a_need_names_the_fitting_partners_ranked_by_their_record() -> None:
    found = suggest("estate planning for her parents", [CAROL, RUTH, BOB, ERIN])
    assert [c.email for c in found] == ["erin@w.example", "bob@law.example"]  # won share first
    assert [c.email for c in suggest("a Spanish property lawyer", [BOB, RUTH])] == [
        "ruth@law.example"]  # their own `ideal:` counts
    assert suggest("a plumber", [BOB, RUTH, CAROL, ERIN]) == []
    assert not fits("someone for the job", "for the family office")  # filler words alone
    assert len(suggest("estate planning", [BOB, ERIN, RUTH, CAROL], limit=1)) == 1


def test_a_partners_not_is_mentioned_only_when_all_its_words_are() -> None:
    assert mentions("Mia needs advice on her divorce case", "divorce cases")
    assert not mentions("In such cases Mia needs a will", "divorce cases")


def _cost(function: Callable[[str], object], text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(5):
            function(text)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("unit", [
    "ideal" + " " * 50 + "\n",            # a label with no colon, over and over
    "not:" + "\t" * 40 + "\n",            # a colon and nothing but whitespace after it
    ">" * 5 + "ideal:" + "x" * 400 + "\n",  # quoted, and longer than a line may say
    "idéal \u2013" + " " * 30,             # no line ends at all
])
def test_hostile_profile_text_costs_what_its_window_costs(unit: str) -> None:
    """A stranger's reply is read to a bounded head: 4x the text costs no more than the
    head (a ratio, never a wall-clock limit)."""
    small, large = unit * 400, unit * 1600
    read_profile(small)
    assert _cost(read_profile, large) < 3 * _cost(read_profile, small) + 0.0005
    assert _cost(only_profile, large) < 3 * _cost(only_profile, small) + 0.0005


def test_a_huge_intro_is_read_for_a_partners_not_to_a_bounded_window() -> None:
    small = "divorce cases and wills " * 250
    large = small * 4
    def check(text: str) -> bool:
        return mentions(text, "divorce cases")
    check(small)
    assert _cost(check, large) < 3 * _cost(check, small) + 0.0005
