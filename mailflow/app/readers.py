"""Who reads an email: the language it is written in, how dates look, whose clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from mailflow.adapters.store import PartnerRecord
from mailflow.app.planning import party_country
from mailflow.config import Config
from mailflow.core.languages import LanguageChoice, choose, locale_for
from mailflow.core.model import Referral, Role
from mailflow.core.text_language import language_of

if TYPE_CHECKING:
    from mailflow.app.wiring import App


@dataclass(frozen=True)
class Reader:
    email: str
    language: LanguageChoice
    country: str | None
    zone: ZoneInfo

    def locale(self, written_in: str) -> str:
        """Dates and numbers as someone of their country reads the email's language."""
        return locale_for(written_in, self.country)


def reader_of(config: Config, email: str, referral: Referral | None,
              contact: dict[str, Any], partner: PartnerRecord | None) -> Reader:
    """`referral`: the one the email is about (None: a digest, an alert, a sign-in link,
    all to the firm's own people); `partner`: the directory's record when `email` is one."""
    role = referral.role_of(email) if referral is not None else Role.REFERRER
    choice = choose(role, set_by_hand=contact.get("language_set")
                    or (partner.language if partner else None),
                    learned=contact.get("language_learned"),
                    intro=intro_language(referral) if referral is not None else None,
                    default=config.language)
    country = party_country(config, partner)
    zone = ZoneInfo(partner.timezone) if partner and partner.timezone else config.timezone
    return Reader(email, choice, country, zone)


def language_choice(config: Config, email: str, referral: Referral | None,
                    contact: dict[str, Any], partner: PartnerRecord | None) -> LanguageChoice:
    return reader_of(config, email, referral, contact, partner).language


def intro_language(referral: Referral) -> str | None:
    """The language the intro is written in. Read when an email is written rather than
    stored at intake: most intros of a first run (history, received referrals) are never
    written about, and reading them all cost intake 0.4 ms an intro (bench/ingest.py)."""
    return language_of(referral.context) if referral.context else None


def firm_reader(config: Config, email: str, contact: dict[str, Any]) -> Reader:
    """A digest's, an alert's or a sign-in link's reader: one of the firm's own people."""
    return reader_of(config, email, None, contact, None)


def party_languages(app: App, referral: Referral) -> dict[str, dict[str, str]]:
    """Each party of a referral: the language they get and why (for `show` and the web)."""
    found: dict[str, dict[str, str]] = {}
    for email in (referral.referrer, referral.client, referral.partner):
        if email and email not in found:
            choice = language_choice(app.config, email, referral, app.store.contact(email),
                                     app.store.find_partner(email))
            found[email] = {"language": choice.code, "why": choice.why}
    return found
