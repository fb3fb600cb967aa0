"""The interface every mailbox source (IMAP, Maildir) offers the cycle."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FetchedMessage:
    """One message as read from a mailbox.

    `uid` orders messages within one UIDVALIDITY (IMAP UID; for Maildir a
    counter that is only meaningful inside one fetch). `key` is what `move`
    needs to find the message again. `raw` is the RFC 5322 message; when
    `parts_omitted` is true, large non-text parts were left on the server and
    `raw` holds the headers and the text parts only.
    """

    uid: int
    key: str
    raw: bytes
    parts_omitted: bool = False


class MailboxSource(Protocol):
    """A folder of incoming mail, read incrementally and never deleted from."""

    folder: str

    def uidvalidity(self) -> int:
        """The folder's UIDVALIDITY; a change means UIDs start over."""
        ...

    def fetch_after(self, last_uid: int, batch_size: int) -> Iterator[list[FetchedMessage]]:
        """Messages with a UID above `last_uid`, oldest first, in batches."""
        ...

    def move(self, keys: Sequence[str], destination: str) -> None:
        """Move handled messages to `destination` (created when missing)."""
        ...

    def close(self) -> None: ...
