"""A local Maildir as a mailbox source (the demo, and mail delivered to a Maildir).

Maildir has no UIDs: every fetch returns what is still in the folder, in delivery
order, and the cycle relies on Message-ID to skip what it has seen. Moving a
message is a rename into the destination folder's cur/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mailflow.adapters.mailbox import Batch, FetchedMessage
from mailflow.errors import MailboxError


def folder_path(root: Path, folder: str) -> Path:
    """INBOX is the root; other folders are Maildir++ `.a.b` directories."""
    if folder.upper() == "INBOX":
        return root
    return root / ("." + folder.replace("/", "."))


def ensure_maildir(path: Path) -> None:
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class MaildirBatch:
    """Files of a Maildir folder (an absolute path: another process may read them), by
    their names under it (`new/...`, `cur/...`)."""

    folder: Path
    keys: tuple[str, ...]

    def fetch(self) -> list[FetchedMessage]:
        fetched = []
        for key in self.keys:
            try:
                fetched.append(FetchedMessage(key, (self.folder / key).read_bytes()))
            except FileNotFoundError:  # moved away by another reader meanwhile
                continue
        return fetched


class MaildirMailbox:
    """One folder of a Maildir tree."""

    def __init__(self, root: Path, folder: str = "INBOX") -> None:
        self.root = root
        self.folder = folder
        self.path = folder_path(root, folder)
        if not (self.path / "cur").is_dir() or not (self.path / "new").is_dir():
            raise MailboxError(f"{self.path} is not a Maildir (no cur/ and new/ directories)")

    capabilities: frozenset[str] = frozenset()  # no lasting UIDs, no push, no Sent folder

    def append(self, folder: str, raw: bytes) -> None:
        raise NotImplementedError("a Maildir source keeps no copy of sent mail")

    def push_ready(self) -> bool:
        return False

    def idle_wait(self, timeout_seconds: float) -> bool:
        raise NotImplementedError("a Maildir source is polled")

    def _files(self) -> list[Path]:
        files = [p for sub in ("new", "cur") for p in (self.path / sub).iterdir()
                 if p.is_file() and not p.name.startswith(".")]
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def batches(self, cursor: str | None, batch_size: int) -> Iterator[Batch]:
        """Every message in the folder: handled ones are moved out, so there is no cursor."""
        keys = [str(file.relative_to(self.path)) for file in self._files()]
        for start in range(0, len(keys), batch_size):
            yield MaildirBatch(self.path.absolute(), tuple(keys[start:start + batch_size]))

    def fetch_batch(self, batch: Batch) -> list[FetchedMessage]:
        return batch.fetch()

    def fetch_new(self, cursor: str | None,
                  batch_size: int) -> Iterator[list[FetchedMessage]]:
        return (self.fetch_batch(batch) for batch in self.batches(cursor, batch_size))

    def move(self, keys: Sequence[str], destination: str) -> None:
        target = folder_path(self.root, destination)
        ensure_maildir(target)
        for key in keys:
            source = self.path / key
            name = source.name if ":2," in source.name else source.name + ":2,S"
            os.replace(source, target / "cur" / name)

    def close(self) -> None:
        return None
