"""Sending through Microsoft Graph: the composed MIME as it is (`sendMail`, base64 body).

Graph takes the recipients from the MIME headers and keeps the Message-ID, the threading
headers and Auto-Submitted that mailflow wrote. Throttling and 5xx are retried by the
client; what Graph refuses for one email (400, 413…) fails that email for good, as an
SMTP 5xx does; a refusal that is not about the email (403: permission, 404: mailbox)
stops the batch with a SendError and the emails stay due.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence

from mailflow.adapters.graph_http import GraphClient, GraphError
from mailflow.adapters.mailer import OnResult
from mailflow.core.compose import NeedsSmtpUtf8, to_bytes
from mailflow.core.outgoing import OutgoingEmail, SendResult
from mailflow.errors import MailflowError, SendError

log = logging.getLogger("mailflow.graph")

NOT_ABOUT_THE_EMAIL = frozenset({401, 403, 404})


class GraphMailer:
    def __init__(self, client: GraphClient) -> None:
        self.client = client

    def check(self) -> None:
        """Signed in, and the mailbox is there (sending itself cannot be tried safely)."""
        try:
            self.client.json("GET", "/mailFolders/sentitems?$select=id",
                             "open the mailbox to send from")
        except GraphError as exc:
            raise SendError(exc.line) from exc

    def _send_one(self, email: OutgoingEmail) -> SendResult:
        try:
            data = to_bytes(email, utf8=False)
        except NeedsSmtpUtf8 as exc:
            return SendResult(email.message_id, "failed", f"{exc}; Graph's MIME sendMail "
                              "takes ASCII addresses only")
        except Exception as exc:
            return SendResult(email.message_id, "failed",
                              f"could not compose: {type(exc).__name__}: {exc}")
        try:
            self.client.request("POST", "/sendMail", "send an email",
                                data=base64.b64encode(data),
                                headers={"Content-Type": "text/plain"})
        except GraphError as exc:
            if exc.status in NOT_ABOUT_THE_EMAIL:
                raise SendError(exc.line) from exc
            status = "failed" if 400 <= exc.status < 500 else "retry"
            return SendResult(email.message_id, status,
                              f"{exc.status} {exc.code}: {exc.message}")
        return SendResult(email.message_id, "sent")

    def send_batch(self, emails: Sequence[OutgoingEmail],
                   on_result: OnResult | None = None) -> list[SendResult]:
        results: list[SendResult] = []
        for index, email in enumerate(emails):
            try:
                result = self._send_one(email)
            except MailflowError as exc:
                if not results:
                    raise  # nothing went: the cycle fails and the emails stay due
                log.warning("Graph stopped after %s of %s emails: %s", len(results),
                            len(emails), exc)
                break
            results.append(result)
            if on_result is not None:
                on_result(index, result)
        lost = [SendResult(e.message_id, "retry", "sending stopped before this email")
                for e in emails[len(results):]]
        if on_result is not None:
            for offset, result in enumerate(lost):
                on_result(len(results) + offset, result)
        return results + lost

    def close(self) -> None:
        self.client.close()
