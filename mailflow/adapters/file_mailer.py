"""A directory outbox: each email becomes `<message-id>.eml` (the demo and dry runs)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mailflow.core.compose import to_bytes
from mailflow.core.outgoing import OutgoingEmail, SendResult
from mailflow.errors import SendError


def file_name(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", message_id) + ".eml"


class FileMailer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def check(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.directory):
                pass
        except OSError as exc:
            raise SendError(f"outbox directory {self.directory} is not writable: "
                            f"{exc.strerror}") from exc

    def send_batch(self, emails: Sequence[OutgoingEmail]) -> list[SendResult]:
        self.check()
        results = []
        for email in emails:
            target = self.directory / file_name(email.message_id)
            handle, temp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(to_bytes(email))
            os.replace(temp, target)  # atomic: a crash leaves the old file or the new one
            results.append(SendResult(email.message_id, "sent", str(target)))
        return results
