"""A partner's profile lines, and which partners fit a need, best first."""

from __future__ import annotations

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
