"""Profile lines one at a time, and the edges of matching a need: one criterion or the
other, the filler words, and the order among partners with equal records."""

from __future__ import annotations

import pytest

from mailflow.core.matching import Candidate, fits, mentions, suggest
from mailflow.core.profiles import Profile, only_profile, read_profile


@pytest.mark.parametrize(("text", "profile"), [
    ("ideal: families with property abroad", Profile("families with property abroad", "")),
    ("Thanks!\n\nnot: divorce cases", Profile("", "divorce cases")),
    ("- Ideal: startups\n* Not: litigation", Profile("startups", "litigation")),
    # with an ideal line, a short `not:` is theirs too
    ("ideal: families abroad\nnot: now", Profile("families abroad", "now")),
    ("ideal: families abroad\nnot: sure?", Profile("families abroad", "sure?")),
    # on its own, a `not:` that answers something else is no profile
    ("Not: thanks!", None), ("Not: yet.", None), ("not: so sure...", None),
    ("not: NOW!", None), ("Not - thank you", None), ("Nicht - danke!", None),
    ("Niet - bedankt", None), ("Lieber nicht: danke.", None),
    ("Lieber nicht: Scheidungen", Profile("", "Scheidungen")),
    ("Bitte nicht - Erbstreit", Profile("", "Erbstreit")),
    ("Perfect: family businesses", Profile("family businesses", "")),
    ("Perfekt: Familienunternehmen", Profile("Familienunternehmen", "")),
    ("Perfecto: pymes", Profile("pymes", "")),
])
def test_one_line_or_the_other(text: str, profile: Profile | None) -> None:
    assert read_profile(text) == profile


def test_a_profile_is_read_from_the_top_only() -> None:
    assert read_profile("x\n" * 1100 + "ideal: families") is None
    long = read_profile("ideal: " + "families " * 60)
    assert long is not None and long.ideal.startswith("families families")
    assert len(long.ideal) <= 301  # one line says so much, no more


def test_only_profile_counts_the_words_around_the_lines() -> None:
    lines = "\nideal: families\nnot: divorce\n"
    assert only_profile("Hello Alice, many thanks from Bob" + lines)  # six words
    assert not only_profile("Hello Alice, many many thanks from Bob" + lines)  # seven
    assert only_profile("ideal: " + "word " * 40 + "\nnot: " + "other " * 40)


# -- matching ----------------------------------------------------------------------------
def test_a_need_fits_by_a_shared_word_or_by_reading_alike() -> None:
    # a shared word, though the rest of the niche reads nothing like the need
    assert fits("divorce", "family mediation and divorces")
    # no shared word, but alike as wholes
    assert fits("tax advisor", "taxes advice")
    assert fits("insolvency", "insolvencies")
    assert fits("estate advice", "estates")  # exactly as alike as ALIKE asks
    assert not fits("accountant for a bakery", "bookkeeping and accounts for small shops")
    # words that only look alike, under ALIKE
    assert not fits("divorce", "advisor")
    assert not fits("accounting", "marketing")
    assert not fits("mediation", "marketing")
    assert not fits("estates", "startup")
    assert not fits("divorce", "")
    assert not fits("", "family mediation")
    assert not fits("the and for", "family mediation for the and")


@pytest.mark.parametrize(("need", "niche"), [
    ("someone who can help with a will", "help for someone with their lease"),
    ("jemand braucht einen Notar", "Steuerberatung für jemanden, der braucht"),
    ("quelqu'un cherche un notaire", "fiscalité pour quelqu'un qui cherche"),
    ("alguien necesita un abogado", "gestoría para alguien que necesita"),
    ("iemand zoekt een notaris", "belastingadvies voor iemand die zoekt"),
])
def test_shared_filler_words_are_no_fit_in_any_language(need: str, niche: str) -> None:
    assert not fits(need, niche)


def test_a_partners_not_needs_every_content_word_of_it() -> None:
    assert mentions("She needs tax law advice", "tax law")
    assert not mentions("She needs tax advice", "tax law")
    assert not mentions("Mia needs help with her startup", "art")  # a word, not a part of one
    assert not mentions("Mia needs help", "the")  # only filler: nothing to mention
    assert not mentions("He built a wall around the garden", "will")  # alike, not the same
    assert not mentions("", "divorce")
    assert not mentions("x" * 5000 + " divorce", "divorce")  # past what is read


def partner(email: str, hours_to_contact: float | None = None,
            rating: float | None = None) -> Candidate:
    return Candidate(email, email.split("@")[0], "estate planning", won_share=0.5,
                     hours_to_contact=hours_to_contact, rating=rating)


def ranked(*candidates: Candidate) -> list[str]:
    return [c.email for c in suggest("estate planning", list(candidates), limit=10)]


def test_equal_shares_go_to_the_quicker_partner_then_the_better_rated() -> None:
    assert ranked(partner("a@x.example", hours_to_contact=30.0),
                  partner("z@x.example", hours_to_contact=4.0)) == ["z@x.example", "a@x.example"]
    assert ranked(partner("a@x.example", hours_to_contact=0.5),
                  partner("z@x.example", hours_to_contact=0.0)) == ["z@x.example", "a@x.example"]
    # a partner with no contact time yet comes after one who has been slow
    assert ranked(partner("a@x.example"),
                  partner("z@x.example", hours_to_contact=50.0)) == ["z@x.example", "a@x.example"]
    assert ranked(partner("a@x.example", rating=3.0),
                  partner("z@x.example", rating=4.5)) == ["z@x.example", "a@x.example"]
    # an unrated partner comes after a rated one, however low
    assert ranked(partner("a@x.example"),
                  partner("z@x.example", rating=1.0)) == ["z@x.example", "a@x.example"]
    assert ranked(partner("z@x.example"), partner("a@x.example")) == [
        "a@x.example", "z@x.example"]


def test_a_partners_not_leaves_them_out_even_when_their_niche_fits() -> None:
    carol = Candidate("carol@x.example", "Carol", "estate planning", avoid="estate disputes")
    dan = Candidate("dan@x.example", "Dan", "tax", ideal="estate planning abroad")
    assert [c.email for c in suggest("estate planning", [carol, dan])] == ["dan@x.example"]


def test_an_intro_is_read_for_a_not_up_to_its_5000th_character() -> None:
    assert mentions(" " * 4997 + "tax", "tax")  # the word ends at the last character read
    assert not mentions(" " * 4998 + "tax", "tax")  # cut to "ta", no word
