"""SMTP sending against a real aiosmtpd peer; the directory outbox on disk."""

from __future__ import annotations

import email
import smtplib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailflow.adapters.file_mailer import FileMailer
from mailflow.adapters.smtp_mailer import SmtpMailer, _dot_stuffed
from mailflow.core.model import Address
from mailflow.core.outgoing import OutgoingEmail
from mailflow.errors import SendError
from tests.integration.dovecot_server import free_port
from tests.integration.smtp_server import Behaviour, SmtpPeer, start_peer

pytestmark = pytest.mark.smtp
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


def outgoing(n: int, to: str = "bob@law.example") -> OutgoingEmail:
    return OutgoingEmail(f"r{n}.partner_nudge.1@mailflow.firm.example",
                         Address("referrals@firm.example", "mailflow"), (Address(to, "Bob"),),
                         f"[R-{n}] Quick nudge", "Hello Bob\n", NOW,
                         reply_to=Address("referrals@firm.example"),
                         in_reply_to=f"intro{n}@firm.example",
                         references=(f"intro{n}@firm.example",), loop_value=f"R-{n}")


def mailer(peer: SmtpPeer, password: str | None = None) -> SmtpMailer:
    user = peer.behaviour.credentials[0] if peer.behaviour.credentials else None
    return SmtpMailer(peer.host, peer.port, "none", user, password, timeout=10)


def test_batch_in_one_connection(smtp_server: SmtpPeer) -> None:
    results = mailer(smtp_server).send_batch([outgoing(1), outgoing(2), outgoing(3)])
    assert [r.status for r in results] == ["sent"] * 3
    assert len(smtp_server.messages) == 3
    assert smtp_server.handler.sessions == 1
    first = email.message_from_bytes(smtp_server.messages[0].content)
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["In-Reply-To"] == "<intro1@firm.example>"
    assert smtp_server.messages[0].mail_from == "referrals@firm.example"


def arrivals(peer: SmtpPeer) -> list[tuple[list[str], str]]:
    """Each message the peer took: its envelope's recipients and its Message-ID."""
    return [(m.rcpt_tos, email.message_from_bytes(m.content)["Message-ID"])
            for m in peer.messages]


def envelopes(emails: list[OutgoingEmail]) -> list[tuple[list[str], str]]:
    """What `arrivals` gives when each of `emails` arrived under its own envelope."""
    return [([e.to[0].email], f"<{e.message_id}>") for e in emails]


def test_each_envelope_carries_its_own_email(smtp_server: SmtpPeer) -> None:
    """Each email is composed a step ahead, while the one before is taken in: every
    message arrives under its own envelope, in order."""
    emails = [outgoing(n, f"p{n}@law{n}.example") for n in range(1, 6)]
    assert [r.status for r in mailer(smtp_server).send_batch(emails)] == ["sent"] * 5
    assert arrivals(smtp_server) == envelopes(emails)


@pytest.mark.parametrize("pipelining", [True, False])
def test_the_email_after_a_refused_one_is_the_one_composed_ahead(pipelining: bool) -> None:
    """The email after one whose content was refused, or after one that could not be
    composed, goes as composed while the one before was taken in, or composed then."""
    controller, peer = start_peer(Behaviour(refuse_content={
        "spam@x.example": "554 5.7.1 message content rejected"}, pipelining=pipelining))
    odd = outgoing(4, to="bob@" + "é" * 70 + ".example")
    emails = [outgoing(1, "a@x.example"), outgoing(2, "spam@x.example"),
              outgoing(3, "c@x.example"), odd, outgoing(5, "e@x.example")]
    try:
        results = mailer(peer).send_batch(emails)
    finally:
        controller.stop()
    assert [r.status for r in results] == ["sent", "failed", "sent", "failed", "sent"]
    assert "554 5.7.1" in results[1].detail
    assert results[3].detail.startswith("could not compose")
    assert arrivals(peer) == envelopes([emails[0], emails[2], emails[4]])


@pytest.mark.parametrize("pipelining", [True, False])
def test_no_email_is_handed_over_before_the_one_before_it_is_recorded(
        pipelining: bool) -> None:
    """Recording runs beside the next envelope, but the next DATA waits for it: a crash
    can leave at most one email sent and not on record."""
    import time

    controller, peer = start_peer(Behaviour(pipelining=pipelining))
    accepted_while_recording: list[int] = []

    def slow_record(index: int, result: object) -> None:
        time.sleep(0.15)  # a slow disk
        accepted_while_recording.append(len(peer.messages))

    try:
        results = mailer(peer).send_batch([outgoing(n) for n in range(4)],
                                          on_result=slow_record)
    finally:
        controller.stop()
    assert [r.status for r in results] == ["sent"] * 4
    assert accepted_while_recording == [1, 2, 3, 4]  # never one ahead


def test_a_failed_record_stops_the_batch_before_the_next_email(
        smtp_server: SmtpPeer) -> None:
    def record(index: int, result: object) -> None:
        if index == 1:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        mailer(smtp_server).send_batch([outgoing(n) for n in range(4)], on_result=record)
    assert len(smtp_server.messages) == 2  # the third was never handed over


@given(st.binary(max_size=300).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"\r\n")))
def test_the_content_goes_dot_stuffed_as_smtplib_sends_it(data: bytes) -> None:
    quoted = smtplib._quote_periods(data)  # type: ignore[attr-defined]
    expected = quoted + (b"" if quoted[-2:] == b"\r\n" else b"\r\n") + b".\r\n"
    assert _dot_stuffed(data) == expected


def test_lines_starting_with_a_dot_arrive_intact(smtp_server: SmtpPeer) -> None:
    body = ".\n..two\n. a dot and a space\nend\n"
    dotted = replace(outgoing(1), text=body)
    assert [r.status for r in mailer(smtp_server).send_batch([dotted])] == ["sent"]
    received = email.message_from_bytes(smtp_server.messages[0].content)
    payload = received.get_payload(decode=True)
    assert isinstance(payload, bytes) and payload.decode().replace("\r\n", "\n") == body


def test_an_email_that_cannot_be_composed_fails_alone(smtp_server: SmtpPeer) -> None:
    """Each email is composed while the server takes in the one before: its failure is
    still that email's only, and the one before it is sent and answered."""
    odd = outgoing(2, to="bob@" + "é" * 70 + ".example")  # no IDNA form: a label too long
    results = mailer(smtp_server).send_batch([outgoing(1), odd, outgoing(3)])
    assert [r.status for r in results] == ["sent", "failed", "sent"]
    assert results[1].detail.startswith("could not compose: ValueError")
    assert [m.rcpt_tos for m in smtp_server.messages] == [["bob@law.example"]] * 2


@pytest.mark.parametrize("pipelining", [True, False])
def test_permanent_and_temporary_refusals(pipelining: bool) -> None:
    controller, peer = start_peer(Behaviour(reject={
        "gone@x.example": "550 5.1.1 <gone@x.example>: user unknown",
        "busy@x.example": "451 4.3.0 try again later"}, pipelining=pipelining))
    try:
        results = mailer(peer).send_batch([outgoing(1, "gone@x.example"),
                                           outgoing(2, "busy@x.example"), outgoing(3)])
    finally:
        controller.stop()
    assert [r.status for r in results] == ["failed", "retry", "sent"]
    assert "550 5.1.1" in results[0].detail and "user unknown" in results[0].detail
    assert len(peer.messages) == 1


@pytest.mark.parametrize("pipelining", [True, False])
def test_dropped_connection_leaves_the_rest_for_retry(pipelining: bool) -> None:
    controller, peer = start_peer(Behaviour(drop_after=1, pipelining=pipelining))
    try:
        results = mailer(peer).send_batch([outgoing(1), outgoing(2), outgoing(3)])
    finally:
        controller.stop()
    assert results[0].status == "sent"
    assert [r.status for r in results[1:]] == ["retry", "retry"]


def test_auth_success_and_wrong_password() -> None:
    controller, peer = start_peer(Behaviour(credentials=("mailflow", "s3cret")))
    try:
        assert mailer(peer, "s3cret").send_batch([outgoing(1)])[0].status == "sent"
        with pytest.raises(SendError, match="wrong username or password"):
            mailer(peer, "nope").check()
    finally:
        controller.stop()


def test_closed_port() -> None:
    with pytest.raises(SendError, match="connection refused"):
        SmtpMailer("127.0.0.1", free_port(), "none", None, None, timeout=5).check()


def test_starttls_missing_never_sends_in_plaintext(smtp_server: SmtpPeer) -> None:
    tls_mailer = SmtpMailer(smtp_server.host, smtp_server.port, "starttls", None, None,
                            timeout=5)
    with pytest.raises(SendError, match="does not offer STARTTLS"):
        tls_mailer.send_batch([outgoing(1)])
    assert smtp_server.messages == []


def test_file_outbox_is_idempotent(tmp_path: Path) -> None:
    outbox = FileMailer(tmp_path / "outbox")
    outbox.send_batch([outgoing(1)])
    outbox.send_batch([outgoing(1)])
    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes())
    assert parsed["Message-ID"] == "<r1.partner_nudge.1@mailflow.firm.example>"


def test_xoauth2() -> None:
    controller, peer = start_peer(Behaviour(oauth2=("referrals@firm.example", "ya29.token")))
    try:
        good = SmtpMailer(peer.host, peer.port, "none", "referrals@firm.example", None,
                          timeout=10, oauth2_token=lambda: "ya29.token")
        assert good.send_batch([outgoing(1)])[0].status == "sent"
        stale = SmtpMailer(peer.host, peer.port, "none", "referrals@firm.example", None,
                           timeout=10, oauth2_token=lambda: "expired")
        with pytest.raises(SendError, match="SMTP login failed"):
            stale.check()
    finally:
        controller.stop()
