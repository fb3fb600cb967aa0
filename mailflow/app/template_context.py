"""The variables a template sees for one referral and one recipient."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from babel.dates import format_date, format_timedelta

from mailflow.app.send_facts import SendFacts
from mailflow.core.intake import without_hint
from mailflow.core.model import Referral, Role
from mailflow.core.vocabulary import shown_words
from mailflow.core.workflow import role_words


def person(facts: SendFacts, referral: Referral, email: str | None) -> dict[str, str] | None:
    if not email:
        return None
    name = referral.names.get(email) or facts.contact(email).get("name") or ""
    if not name and email == referral.partner:  # named only in `partner:`: the directory's
        record = facts.find_partner(email)
        name = record.name if record is not None and email in record.emails else ""
    first = name.split()[0] if name else email.split("@")[0].split(".")[0].capitalize()
    return {"email": email, "name": name, "first_name": first}


NO_SUBJECT = {"en": "(no subject)", "de": "(ohne Betreff)", "fr": "(sans objet)",
              "es": "(sin asunto)", "nl": "(geen onderwerp)"}


def _ago(delta_hours: float, locale: str) -> str:
    """'3 hours', '3 Stunden'; whole days from 48 hours on."""
    if delta_hours < 48:
        return format_timedelta(timedelta(hours=delta_hours), granularity="hour",
                                threshold=48, locale=locale)
    return format_timedelta(timedelta(hours=delta_hours), granularity="day", threshold=48,
                            locale=locale)


def say(language: str) -> dict[str, str]:
    """Each reply word as the emails quote it, in `language` ("say.contacted"); a rating as
    an example of one ("rating 4")."""
    return dict(_said(language))


@lru_cache(maxsize=32)  # the same few languages, for every email of a send
def _said(language: str) -> dict[str, str]:
    words = shown_words(language)
    words["rating"] = words["rating"].replace("1-5", "4")
    words.setdefault("forget", FORGET.get(language, FORGET["en"]))
    return words


@lru_cache(maxsize=1024)  # Babel's formatting, once per day and locale of a send
def _medium_date(day: date, locale: str) -> str:
    return format_date(day, "medium", locale=locale)


# until the vocabulary has the word itself
FORGET = {"en": "forget me", "de": "vergessen Sie mich", "fr": "oubliez-moi",
          "es": "olvídenme", "nl": "vergeet mij"}


def referral_context(facts: SendFacts, referral: Referral, recipient: str, tracker: str,
                     now: datetime, timezone: Any, language: str = "en",
                     locale: str = "en_GB", first_contact: bool = False) -> dict[str, Any]:
    """`language`: the one the email is written in; `locale`: how its dates and numbers
    look; `first_contact`: the first email mailflow writes to this person."""
    role = referral.role_of(recipient) or Role.REFERRER
    partner = facts.find_partner(referral.partner) if referral.partner else None
    notes = facts.notes_of(referral.id)
    contacted_after = None
    if referral.contacted_at is not None:
        hours = (referral.contacted_at - referral.created_at).total_seconds() / 3600
        contacted_after = _ago(max(hours, 0), locale)
    return {
        "tag": referral.tag,
        "subject": referral.subject or NO_SUBJECT.get(language, NO_SUBJECT["en"]),
        "intro_date": _medium_date(referral.created_at.astimezone(timezone).date(), locale),
        "context": referral.context,
        "intro_text": without_hint(referral.context),
        "days_open": max(0, ((referral.closed_at or now) - referral.created_at).days),
        "status": str(referral.status),
        "outcome": str(referral.outcome) if referral.outcome else None,
        "rating": referral.rating,
        "notes": notes,
        "contacted_after": contacted_after,
        "referrer": person(facts, referral, referral.referrer),
        "client": person(facts, referral, referral.client),
        "partner": person(facts, referral, referral.partner),
        "partner_profile": {"niche": partner.niche if partner else "",
                            "notes": partner.notes if partner else ""},
        "recipient": {**(person(facts, referral, recipient) or {}), "role": str(role)},
        "words": list(role_words(role, language)),
        "say": say(language),
        "first_contact": first_contact,
        "candidates": list(referral.candidates),
        "tracker": tracker,
    }


def sample_context() -> dict[str, Any]:
    """Made-up values for `mailflow check`: every template must render with these."""
    def who(email: str, name: str) -> dict[str, str]:
        return {"email": email, "name": name, "first_name": name.split()[0]}
    return {
        "tag": "R-42", "subject": "Introduction: Jane Doe / Bob Smith",
        "intro_date": "16 Nov 2026", "context": "Jane needs help with her estate plan.",
        "intro_text": "Jane needs help with her estate plan.",
        "days_open": 9, "status": "open", "outcome": "won", "rating": 5,
        "notes": ["Great first call."], "contacted_after": "3 hours",
        "referrer": who("alice@firm.example", "Alice Adams"),
        "client": who("jane@gmail.com", "Jane Doe"),
        "partner": who("bob@law.example", "Bob Smith"),
        "partner_profile": {"niche": "estate planning", "notes": "families with property"},
        "recipient": {**who("bob@law.example", "Bob Smith"), "role": "partner"},
        "words": list(role_words(Role.PARTNER)),
        "say": say("en"), "first_contact": True,
        "candidates": ["bob@law.example", "jane@gmail.com"],
        "tracker": "referrals@firm.example",
        "title": "Sample notice", "body": "Sample body.",
        "items": [{"tag": "R-42", "subject": "Introduction", "text": "Sample text.",
                   "html": None},
                  {"tag": "", "subject": "Your referrals this week", "text": "A digest.",
                   "html": "<p>A digest.</p>"}],
    }
