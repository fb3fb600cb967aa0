"""SMTP through smtplib: TLS verified, one connection per batch, 4xx retried, 5xx final."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailflow.adapters.mailer import OnResult
from mailflow.adapters.tls import client_context, tls_problem
from mailflow.core.compose import NeedsSmtpUtf8, to_bytes, wire_address
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
                 ca_file: Path | None = None, timeout: float = 30.0,
                 oauth2_token: Callable[[], str] | None = None) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.username, self.password = username, password
        self.timeout = timeout
        self.oauth2_token = oauth2_token  # asked at each login: a token lives an hour
        self.context = client_context(verify_certificates, ca_file)

    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def _connect(self) -> smtplib.SMTP:
        """A logged-in connection, or SendError with one clear line (the socket closed)."""
        client: smtplib.SMTP | None = None
        # asked before connecting: a token command's or a sign-in's failure is its own line
        token = (self.oauth2_token() if self.username and self.oauth2_token is not None
                 else None)
        try:
            if self.tls == "ssl":
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                          context=self.context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            self._handshake(client, token)
            return client
        except Exception as exc:
            if client is not None:
                client.close()
            raise self._explain(exc) from exc

    def _handshake(self, client: smtplib.SMTP, oauth2_token: str | None) -> None:
        client.ehlo()
        if self.tls == "starttls":
            if not client.has_extn("starttls"):
                raise SendError(f"TLS failed with {self._where()}: the server does not "
                                "offer STARTTLS (refusing to send in plaintext)")
            client.starttls(context=self.context)
            client.ehlo()
        if self.username and oauth2_token is not None:
            token = f"user={self.username}\x01auth=Bearer {oauth2_token}\x01\x01"
            client.auth("XOAUTH2", lambda challenge=None: token, initial_response_ok=True)
        elif self.username:
            client.login(self.username, self.password or "")

    def _explain(self, exc: Exception) -> SendError:
        if isinstance(exc, SendError):
            return exc
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return SendError(f"SMTP login failed for {self.username} at {self.host}: wrong "
                             "username or password")
        if isinstance(exc, ssl.SSLError):
            return SendError(f"TLS failed with {self._where()}: {tls_problem(exc)}")
        if isinstance(exc, socket.gaierror):
            return SendError(f"unknown host {self.host}")
        if isinstance(exc, ConnectionRefusedError):
            return SendError(f"cannot connect to {self._where()}: connection refused")
        return SendError(f"cannot use SMTP at {self._where()}: {exc}")

    def check(self) -> None:
        client = self._connect()
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            log.debug("QUIT failed after a successful check", exc_info=True)

    def _compose(self, email: OutgoingEmail, utf8: bool) -> Envelope | SendResult:
        """The bytes and envelope of `email`, or why it cannot go. Guarded whole, per
        email: one odd address fails only its own email, and nothing escapes into the
        transaction of the email before it, during which this is called."""
        try:
            return self._envelope(email, utf8)
        except NeedsSmtpUtf8 as exc:
            return SendResult(email.message_id, "failed", f"{exc}, and {self.host} does not "
                              "offer SMTPUTF8 for international addresses")
        except Exception as exc:
            return SendResult(email.message_id, "failed",
                              f"could not compose: {type(exc).__name__}: {exc}")

    @staticmethod
    def _envelope(email: OutgoingEmail, utf8: bool) -> Envelope | SendResult:
        """`_compose`'s work, unguarded."""
        data = to_bytes(email, utf8=utf8)
        sender = wire_address(email.sender.email)
        recipients = list(dict.fromkeys(wire_address(a.email) for a in email.recipients))
        options = ["SMTPUTF8"] if utf8 and not all(
            a.isascii() for a in (sender, *recipients)) else []
        sender_path, paths = _path(sender), [_path(r) for r in recipients]
        if any("\r" in p or "\n" in p for p in (sender_path, *paths)):
            # the commands go out as written (smtplib's putcmd refused this): an address
            # must not end a command and start another
            return SendResult(email.message_id, "failed",
                              "could not compose: a line break in an address")
        return Envelope(data, sender, recipients, options, sender_path, paths)

    def _send_one(self, client: smtplib.SMTP, email: OutgoingEmail,
                  composed: Envelope | SendResult, before_data: Callable[[], None],
                  meanwhile: Callable[[], None]) -> SendResult:
        if isinstance(composed, SendResult):
            return composed
        try:
            refused = _transaction(client, composed, before_data, meanwhile)
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

    def send_batch(self, emails: Sequence[OutgoingEmail],
                   on_result: OnResult | None = None) -> list[SendResult]:
        """As Mailer.send_batch. Each result is reported (`on_result`, in a thread of its
        own) while the next email's envelope goes out, and the next email's content waits
        until that report is done: recording a result (a disk sync) overlaps the SMTP
        round trips, yet no email is handed over before the one before it is on record.
        The next email is composed while the server takes this one in (between its
        content and the answer), in this thread: composed in a thread of its own, it held
        the interpreter when this one's answer or record came back, and both waited.
        """
        if not emails:
            return []
        client = self._connect()
        results: list[SendResult] = []
        reporter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailflow-report")
        reports: list[Future[None]] = []
        utf8 = client.has_extn("smtputf8")
        upcoming: dict[int, Envelope | SendResult] = {}

        def reported() -> None:
            while reports:
                try:
                    reports.pop(0).result()
                except BaseException as exc:  # not the connection's fault: stop the batch
                    raise _ReportFailed() from exc

        def compose_ahead(following: int) -> None:
            """Within the email before's transaction: nothing may escape to cost that
            email its answer (should even the guard fail, the email is composed again
            when its turn comes)."""
            if following < len(emails):
                with contextlib.suppress(Exception):
                    upcoming[following] = self._compose(emails[following], utf8)

        try:
            for index, email in enumerate(emails):
                # composed while the email before was taken in, unless that failed sooner
                composed = upcoming.pop(index, None)
                if composed is None:
                    composed = self._compose(email, utf8)
                meanwhile = functools.partial(compose_ahead, index + 1)
                try:
                    results.append(self._send_one(client, email, composed, reported,
                                                  meanwhile))
                except (smtplib.SMTPServerDisconnected, OSError) as exc:
                    log.warning("SMTP connection lost after %s of %s emails: %s",
                                len(results), len(emails), exc)
                    break
                if on_result is not None:
                    reports.append(reporter.submit(on_result, len(results) - 1, results[-1]))
            reported()
        except _ReportFailed as failed:
            assert failed.__cause__ is not None
            raise failed.__cause__ from None
        finally:
            reporter.shutdown(wait=True)
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                log.debug("QUIT failed", exc_info=True)
        lost = [SendResult(e.message_id, "retry", "connection lost before sending")
                for e in emails[len(results):]]
        if on_result is not None:
            for offset, result in enumerate(lost):
                on_result(len(results) + offset, result)
        return results + lost


@dataclass(frozen=True)
class Envelope:
    """One composed email as it goes on the wire."""

    data: bytes
    sender: str
    recipients: list[str]
    options: list[str]
    sender_path: str  # `<sender>` as smtplib's MAIL FROM writes it: worked out with the
    recipient_paths: list[str]  # bytes, while the server takes the email before in


class _ReportFailed(Exception):
    """Reporting a result failed: raised past the loop's "connection lost" handling."""


@functools.lru_cache(maxsize=64)  # the sender: the same address on every email
def _path(address: str) -> str:
    """`<address>`, as smtplib's mail() and rcpt() quote it (through email.utils'
    parser, some 10 us an address)."""
    return smtplib.quoteaddr(address)


def _transaction(client: smtplib.SMTP, envelope: Envelope,
                 before_data: Callable[[], None],
                 meanwhile: Callable[[], None]) -> dict[str, Any]:
    """smtplib's sendmail, with `before_data` called once DATA is open and before the
    content goes (the server takes nothing before the content's final dot), and
    `meanwhile` once the content went, before its answer is read. MAIL and RCPT go as
    smtplib's mail() and rcpt() send them, with the paths quoted ahead.

    To a server that offers PIPELINING (RFC 2920: Postfix, Exchange, Gmail do) MAIL, each
    RCPT and DATA go in one write and their answers are read in order after it: two
    round trips an email fewer, and the wait for the previous email's record overlaps
    the one that is left.
    """
    client.ehlo_or_helo_if_needed()
    commands = [_mail_command(client, envelope), *(
        f"rcpt TO:{path}" for path in envelope.recipient_paths), "data"]
    pipelined = client.has_extn("pipelining")
    if pipelined:
        client.send("".join(f"{command}\r\n" for command in commands))
    owed = len(commands)  # answers the server still owes us

    def answer(command: str) -> tuple[int, bytes]:
        nonlocal owed
        if not pipelined:
            client.send(f"{command}\r\n")
        owed -= 1
        code, text = client.getreply()
        if code == 421:  # the server is going away: it answers nothing more
            client.close()
        return code, text

    def give_up(code: int) -> None:
        if code != 421 and pipelined:
            # a server that hangs up now has still refused this email: it fails (or waits)
            # for its own reason, and the next email finds the line closed
            with contextlib.suppress(smtplib.SMTPServerDisconnected):
                _read_owed(client, owed)
        _abandon(client, code)

    code, text = answer(commands[0])
    if code != 250:
        give_up(code)
        raise smtplib.SMTPSenderRefused(code, text, envelope.sender)
    refused: dict[str, Any] = {}
    for recipient, command in zip(envelope.recipients, commands[1:-1], strict=True):
        code, text = answer(command)
        if code not in (250, 251):
            refused[recipient] = (code, text)
            if code == 421:
                give_up(code)
                raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(envelope.recipients):
        give_up(0)
        raise smtplib.SMTPRecipientsRefused(refused)
    code, text = answer(commands[-1])
    if code != 354:
        give_up(code)
        raise smtplib.SMTPDataError(code, text)
    try:
        before_data()  # after the 354, so that its round trip overlaps the wait too
    except BaseException:
        client.close()  # within DATA only dropping the line takes the message back
        raise
    client.send(_dot_stuffed(envelope.data))
    meanwhile()  # while the server takes the message in
    code, text = client.getreply()
    if code != 250:
        _abandon(client, code)
        raise smtplib.SMTPDataError(code, text)
    return refused


def _mail_command(client: smtplib.SMTP, envelope: Envelope) -> str:
    """MAIL FROM with the options the server takes (SMTPUTF8 sets the commands' encoding)."""
    esmtp = list(envelope.options)
    if client.does_esmtp and client.has_extn("size"):
        esmtp.append(f"size={len(envelope.data)}")
    if esmtp and client.does_esmtp:
        if any(option.lower() == "smtputf8" for option in esmtp):
            if not client.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
            client.command_encoding = "utf-8"
        return f"mail FROM:{envelope.sender_path} {' '.join(esmtp)}"
    return f"mail FROM:{envelope.sender_path}"


def _read_owed(client: smtplib.SMTP, owed: int) -> None:
    """Read the answers to pipelined commands after the one that failed; should DATA have
    been opened all the same, end it empty (RFC 2920 3.1) so that RSET can follow."""
    code = 0
    for _ in range(owed):
        code, _ = client.getreply()
        if code == 421:
            client.close()
            return
    if code == 354:
        client.send(".\r\n")
        client.getreply()


def _dot_stuffed(data: bytes) -> bytes:
    """The content of DATA as smtplib's data() sends it (RFC 5321 4.5.2): a leading dot
    doubled, ended by CRLF.CRLF."""
    stuffed = re.sub(rb"(?m)^\.", b"..", data)
    return stuffed + (b"" if stuffed.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def _abandon(client: smtplib.SMTP, code: int) -> None:
    """End a transaction that will not be completed (421: the server is going away)."""
    if code == 421:
        client.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        client.rset()
