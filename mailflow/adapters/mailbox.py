"""The interface every mailbox source (IMAP, Maildir) offers the cycle."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

Item = TypeVar("Item")


def runs_of(items: Iterable[Item], count: int, weight: Callable[[Item], int],
            most: int) -> Iterator[list[Item]]:
    """`items` in runs of `count`, each ended early before its weight would pass `most`
    (one item at least, whatever it weighs): a source's batches, bounded in memory."""
    run: list[Item] = []
    held = 0
    for item in items:
        weighs = weight(item)
        if run and (len(run) >= count or held + weighs > most):
            yield run
            run, held = [], 0
        run.append(item)
        held += weighs
    if run:
        yield run


@dataclass(frozen=True)
class FetchedMessage:
    """One message as read from a mailbox.

    `key` is what `move` needs to find the message again (an IMAP UID, a Maildir file
    name). `cursor` is where reading resumes once this message is handled: opaque to
    everyone but its source (IMAP: UIDVALIDITY and UID; a Gmail historyId or a Graph
    delta token would fit too), empty for a source that is not RESUMABLE. `raw` is the
    RFC 5322 message; when `parts_omitted` is true it was too large to read whole: `raw`
    holds the headers and the text parts only (IMAP), or the file's first bytes (Maildir).
    """

    key: str
    raw: bytes
    cursor: str = ""
    parts_omitted: bool = False


class Batch(Protocol):
    """Where one batch of new messages is, not yet fetched (MailboxSource.batches).

    A batch is plain data that another process can be handed: ingest has its parsing
    process fetch the batches ahead on a connection of its own (app/parse_ahead.py).
    """

    def fetch(self) -> list[FetchedMessage]:
        """The batch's messages, read on this process's own connection (opened when
        needed, kept for the next batch); those gone meanwhile are left out."""
        ...


RESUMABLE = "resumable"  # a message's `cursor` is worth storing: reading resumes there
PUSH = "push"  # `idle_wait` wakes on new mail (IMAP IDLE)
KEEP_COPY = "keep_copy"  # `append` files a copy of what was sent (an IMAP Sent folder)


@dataclass(frozen=True)
class MailboxSettings:
    """How the cycle and the daemon use a mailbox, whatever its kind (built by wiring)."""

    processed_folder: str | None = "mailflow/processed"
    quarantine_folder: str = "mailflow/quarantine"
    batch_size: int = 200
    poll_interval: int = 60
    push: bool = False  # wait for new mail with `idle_wait` when the source can
    sent_folder: str | None = None
    where: str = ""  # for people: "imap.example.com folder INBOX", a Maildir path
    login: str | None = None  # the account name, when the source has one


class MailboxSource(Protocol):
    """A folder of incoming mail, read incrementally and never deleted from (but for
    an erasure: `expunge_mentioning`).

    What a source can do beyond reading and moving is declared in `capabilities`
    (RESUMABLE, PUSH, KEEP_COPY); the optional methods are called only when declared.
    """

    folder: str
    capabilities: frozenset[str]

    def batches(self, cursor: str | None, batch_size: int) -> Iterator[Batch]:
        """The messages after `cursor`, oldest first, in batches not yet fetched; all of
        them when `cursor` is None or no longer valid (the store's Message-IDs keep a
        rescan harmless)."""
        ...

    def fetch_batch(self, batch: Batch) -> list[FetchedMessage]:
        """One of `batches`, read on this mailbox's own connection."""
        ...

    def fetch_new(self, cursor: str | None,
                  batch_size: int) -> Iterator[list[FetchedMessage]]:
        """`batches`, each fetched here."""
        ...

    def move(self, keys: Sequence[str], destination: str) -> None:
        """Move handled messages to `destination` (created when missing)."""
        ...

    def append(self, folder: str, raw: bytes) -> None:
        """KEEP_COPY: file `raw` in `folder`."""
        ...

    def expunge_mentioning(self, folder: str, needles: Sequence[str],
                           matches: Callable[[bytes], bool], dry_run: bool = False) -> int:
        """Erase the messages in `folder` that name a forgotten person: found by `needles`
        (their address and names) where the source can search, each confirmed by
        `matches` on its bytes. The one deletion mailflow makes, asked for by `mailflow
        forget` alone. Returns how many (`dry_run`: would go). A folder that does not
        exist holds none."""
        ...

    def push_ready(self) -> bool:
        """PUSH: whether the server offers it on this connection."""
        ...

    def idle_wait(self, timeout_seconds: float) -> bool:
        """PUSH: wait up to `timeout_seconds`; True when new mail was signalled."""
        ...

    def close(self) -> None: ...
