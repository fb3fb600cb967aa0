"""The interface both transports (SMTP, directory outbox) offer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mailflow.core.outgoing import OutgoingEmail, SendResult


class Mailer(Protocol):
    def send_batch(self, emails: Sequence[OutgoingEmail]) -> list[SendResult]:
        """Hand over every email; one result each, in order. Raises SendError if unusable."""
        ...

    def check(self) -> None:
        """Connect and authenticate (or check the directory); raises SendError."""
        ...
