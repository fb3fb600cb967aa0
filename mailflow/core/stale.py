"""When a referral is stale (pure): the one rule the digest, the web and the firm view read."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from mailflow.core.model import Status

STALE_AFTER = timedelta(days=14)


class StaleFacts(Protocol):
    """What the rule reads of a referral."""

    @property
    def status(self) -> Status: ...
    @property
    def direction(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def contacted_at(self) -> datetime | None: ...
    @property
    def snoozed_until(self) -> datetime | None: ...


def is_stale(referral: StaleFacts, now: datetime, after: timedelta = STALE_AFTER) -> bool:
    """A referral we gave, not closed, with no contact `after` its intro, and not snoozed.

    One that still needs a partner counts (nobody has been introduced yet); one we received
    does not (the firm is the partner: mailflow never chases it); a snooze says "not now".
    """
    return (referral.direction == "given" and referral.status is not Status.CLOSED
            and referral.status is not Status.AWAITING_CONSENT  # nobody introduced yet
            and referral.status is not Status.CONTACTED and referral.contacted_at is None
            and now - referral.created_at > after
            and (referral.snoozed_until is None or referral.snoozed_until <= now))
