"""SMTP through smtplib: TLS verified, one connection per batch, 4xx retried, 5xx final."""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Sequence
from pathlib import Path

from mailflow.core.compose import to_bytes
from mailflow.core.outgoing import OutgoingEmail, SendResult
from mailflow.errors import SendError

log = logging.getLogger("mailflow.smtp")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _answer(code: int, message: bytes | str) -> str:
    return " ".join(f"{code} {_text(message)}".split())


class SmtpMailer:
    def __init__(self, host: str, port: int, tls: str, username: str | None,
                 password: str | None, *, verify_certificates: bool = True,
                 ca_file: Path | None = None, timeout: float = 30.0) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.username, self.password = username, password
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        if not verify_certificates:
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE

    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.tls == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port,
                                                        timeout=self.timeout,
                                                        context=self.context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            client.ehlo()
            if self.tls == "starttls":
                if not client.has_extn("starttls"):
                    client.close()
                    raise SendError(f"TLS failed with {self._where()}: the server does not "
                                    "offer STARTTLS (refusing to send in plaintext)")
                client.starttls(context=self.context)
                client.ehlo()
            if self.username:
                client.login(self.username, self.password or "")
            return client
        except SendError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"SMTP login failed for {self.username} at {self.host}: wrong "
                            "username or password") from exc
        except ssl.SSLError as exc:
            raise SendError(f"TLS failed with {self._where()}: "
                            f"{getattr(exc, 'reason', None) or exc}") from exc
        except socket.gaierror as exc:
            raise SendError(f"unknown host {self.host}") from exc
        except ConnectionRefusedError as exc:
            raise SendError(f"cannot connect to {self._where()}: connection refused") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"cannot use SMTP at {self._where()}: {exc}") from exc

    def check(self) -> None:
        client = self._connect()
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            log.debug("QUIT failed after a successful check", exc_info=True)

    def _send_one(self, client: smtplib.SMTP, email: OutgoingEmail) -> SendResult:
        try:
            refused = client.sendmail(email.sender.email, [a.email for a in email.to],
                                      to_bytes(email))
        except smtplib.SMTPRecipientsRefused as exc:
            code, message = next(iter(exc.recipients.values()))
            status = "failed" if code >= 500 else "retry"
            return SendResult(email.message_id, status, _answer(code, message))
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            status = "failed" if exc.smtp_code >= 500 else "retry"
            return SendResult(email.message_id, status, _answer(exc.smtp_code, exc.smtp_error))
        if refused:
            code, message = next(iter(refused.values()))
            return SendResult(email.message_id, "failed" if code >= 500 else "retry",
                              _answer(code, message))
        return SendResult(email.message_id, "sent")

    def send_batch(self, emails: Sequence[OutgoingEmail]) -> list[SendResult]:
        if not emails:
            return []
        client = self._connect()
        results: list[SendResult] = []
        try:
            for email in emails:
                try:
                    results.append(self._send_one(client, email))
                except (smtplib.SMTPServerDisconnected, OSError) as exc:
                    log.warning("SMTP connection lost after %s of %s emails: %s",
                                len(results), len(emails), exc)
                    break
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                log.debug("QUIT failed", exc_info=True)
        lost = [SendResult(e.message_id, "retry", "connection lost before sending")
                for e in emails[len(results):]]
        return results + lost
