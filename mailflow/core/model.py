"""Plain values the core works on: messages in, referrals and decisions out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class Address:
    """One mailbox: the address lower-cased, the display name decoded."""

    email: str
    name: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """What the core needs of one received email, decoded and normalised.

    `message_id` is without angle brackets; when the header is missing it is a
    digest of the raw headers, so a re-delivery of the same bytes gets the same id.
    `headers` keeps every header (name lower-cased, value decoded) for the robot rules.
    `text` is the plain-text body (from text/html when there is no text/plain).
    `forwarded` is the message a forward carries (message/rfc822 or inline form).
    """

    message_id: str
    subject: str
    from_: Address | None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    delivered_to: tuple[str, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    date: datetime | None = None
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/plain"
    text: str = ""
    html: str | None = None
    report: str | None = None
    forwarded: InboundMessage | None = None
    attachment_names: tuple[str, ...] = ()
    missing_message_id: bool = False

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]

    @property
    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this message answers, nearest first."""
        ids = list(reversed(self.references))
        if self.in_reply_to and self.in_reply_to not in ids:
            ids.insert(0, self.in_reply_to)
        return tuple(ids)


class Kind(StrEnum):
    INTRO = "intro"
    REPLY = "reply"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class Classification:
    """A decision on one message, with the reason kept for the record."""

    kind: Kind
    reason: str
    referral_id: int | None = None


class Status(StrEnum):
    NEEDS_PARTNER = "needs_partner"
    AWAITING_CONSENT = "awaiting_consent"  # the client is asked first; the partner waits
    OPEN = "open"
    CONTACTED = "contacted"
    CLOSED = "closed"


class Outcome(StrEnum):
    DONE = "done"
    WON = "won"
    LOST = "lost"


class Role(StrEnum):
    REFERRER = "referrer"
    CLIENT = "client"
    PARTNER = "partner"


@dataclass(frozen=True)
class Referral:
    """One introduction of a client to a partner by a referrer."""

    id: int
    status: Status
    referrer: str
    client: str | None
    partner: str | None
    subject: str
    created_at: datetime
    intro_message_id: str
    outcome: Outcome | None = None
    contacted_at: datetime | None = None
    closed_at: datetime | None = None
    context: str = ""
    candidates: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    direction: str = "given"
    history: bool = False  # found old on a first run: in the ledger, never chased
    plan_from: datetime | None = None  # "follow up": steps count from here, not the intro
    snoozed_until: datetime | None = None
    rating: int | None = None  # the client's 1 to 5, when given
    value: float | None = None  # what it was worth, in the firm's currency (never shown out)

    @property
    def tag(self) -> str:
        return f"R-{self.id}"

    def role_of(self, email: str) -> Role | None:
        """The role `email` plays in this referral, or None for outsiders."""
        if email == self.referrer:
            return Role.REFERRER
        if email == self.partner:
            return Role.PARTNER
        if email == self.client:
            return Role.CLIENT
        return None

    def address_of(self, role: Role) -> str | None:
        return {Role.REFERRER: self.referrer, Role.CLIENT: self.client,
                Role.PARTNER: self.partner}[role]


@dataclass(frozen=True)
class Event:
    """One line of a referral's append-only history."""

    at: datetime
    kind: str
    actor: str
    detail: str = ""


def parse_ref(text: str) -> int | None:
    """The number in a referral tag such as 'R-42' (case-insensitive), or None."""
    text = text.strip()
    if len(text) > 2 and text[:2].upper() == "R-" and text[2:].isdigit():
        return int(text[2:])
    return None
