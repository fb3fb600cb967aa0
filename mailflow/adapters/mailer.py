"""The interface both transports (SMTP, directory outbox) offer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from mailflow.core.outgoing import OutgoingEmail, SendResult

OnResult = Callable[[int, SendResult], None]


class Mailer(Protocol):
    def send_batch(self, emails: Sequence[OutgoingEmail],
                   on_result: OnResult | None = None) -> list[SendResult]:
        """Hand over every email; one result each, in order, also passed to `on_result`
        (index, result) as soon as it is known. Raises SendError if unusable."""
        ...

    def check(self) -> None:
        """Connect and authenticate (or check the directory); raises SendError."""
        ...
