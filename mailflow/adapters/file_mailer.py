"""A directory outbox: each email becomes `<message-id>.eml` (the demo and dry runs)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mailflow.adapters.mailer import OnResult
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

    def send_batch(self, emails: Sequence[OutgoingEmail],
                   on_result: OnResult | None = None) -> list[SendResult]:
        self.check()
        results: list[SendResult] = []
        for email in emails:
            results.append(self._write(email))
            if on_result is not None:
                on_result(len(results) - 1, results[-1])
        return results

    def _write(self, email: OutgoingEmail) -> SendResult:
        target = self.directory / file_name(email.message_id)
        try:  # one email that cannot be composed fails alone
            data = to_bytes(email, utf8=True)
        except Exception as exc:
            return SendResult(email.message_id, "failed",
                              f"could not compose: {type(exc).__name__}: {exc}")
        handle, temp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, target)  # atomic: a crash leaves the old file or the new one
        return SendResult(email.message_id, "sent", str(target))
