"""A local Maildir as a mailbox source (the demo, and mail delivered to a Maildir).

Maildir has no UIDs: every fetch returns what is still in the folder, in delivery
order, and the cycle relies on Message-ID to skip what it has seen. Moving a
message is a rename into the destination folder's cur/.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mailflow.adapters.mailbox import Batch, FetchedMessage, runs_of
from mailflow.errors import MailboxError

# what is read of one file: parsing keeps 4 MB of a message (core.budget.RAW_BUDGET) once
# its attachments are cut, so a 1.4 GB file needs no more than this in memory
READ_AT_MOST = 16 * 1024 * 1024
# what one batch holds at most (a batch has at least one file, however large)
BATCH_BYTES = 64 * 1024 * 1024


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
                with (self.folder / key).open("rb") as file:
                    raw = file.read(READ_AT_MOST + 1)
            except FileNotFoundError:  # moved away by another reader meanwhile
                continue
            fetched.append(FetchedMessage(key, raw[:READ_AT_MOST],
                                          parts_omitted=len(raw) > READ_AT_MOST))
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

    def _files(self) -> list[tuple[Path, int]]:
        """The folder's files in delivery order, each with the bytes a fetch reads of it."""
        found = []
        for sub in ("new", "cur"):
            for path in (self.path / sub).iterdir():
                if path.name.startswith("."):
                    continue
                try:
                    status = path.stat()
                except FileNotFoundError:  # moved away by another reader meanwhile
                    continue
                if stat.S_ISREG(status.st_mode):
                    found.append((status.st_mtime_ns, path.name, path,
                                  min(status.st_size, READ_AT_MOST)))
        return [(path, size) for _, _, path, size in sorted(found)]

    def batches(self, cursor: str | None, batch_size: int) -> Iterator[Batch]:
        """Every message in the folder: handled ones are moved out, so there is no cursor.
        A batch holds `batch_size` files, fewer when they would come to over BATCH_BYTES."""
        for run in runs_of(self._files(), batch_size, lambda file: file[1], BATCH_BYTES):
            yield MaildirBatch(self.path.absolute(),
                               tuple(str(path.relative_to(self.path)) for path, _ in run))

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

    def expunge_mentioning(self, folder: str, needles: Sequence[str],
                           matches: Callable[[bytes], bool], dry_run: bool = False) -> int:
        """The files of `folder` that `matches` says name the person, removed (a Maildir
        has no index to search: every file is read)."""
        path = folder_path(self.root, folder)
        count = 0
        if not any(needles) or not path.is_dir():
            return 0
        for sub in ("new", "cur"):
            if not (path / sub).is_dir():
                continue
            for file in (path / sub).iterdir():
                if not file.is_file():
                    continue
                if matches(file.read_bytes()):
                    count += 1
                    if not dry_run:
                        file.unlink()
        return count

    def close(self) -> None:
        return None
