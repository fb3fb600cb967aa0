"""An email mailflow wants to send, as plain values; transports turn it into bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailflow.core.model import Address

LOOP_HEADER = "X-Mailflow-Loop"


@dataclass(frozen=True)
class OutgoingEmail:
    """One email to send.

    `message_id` is without angle brackets and deterministic per
    (referral, step, attempt), so a resend after a crash carries the same id.
    `loop_value` goes into the LOOP_HEADER so we recognise our own mail.
    """

    message_id: str
    sender: Address
    to: tuple[Address, ...]
    subject: str
    text: str
    date: datetime
    reply_to: Address | None = None
    html: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    loop_value: str = "1"
    outbox_id: int | None = None
    language: str = "en"  # what it is written in (Content-Language)
    cc: tuple[Address, ...] = ()  # copied (the introduction: the client and the referrer)

    @property
    def recipients(self) -> tuple[Address, ...]:
        """Everyone it is delivered to: To, then Cc."""
        return self.to + self.cc


@dataclass(frozen=True)
class SendResult:
    """What became of one email: sent, or failed for now or for good, with the server's words."""

    message_id: str
    status: str  # "sent" | "retry" | "failed"
    detail: str = ""
