"""SMTP PIPELINING (RFC 2920) against a server that answers a MAIL, RCPT and DATA group
only once all of it has arrived: a client that waits for each answer would get none."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from mailflow.adapters.smtp_mailer import SmtpMailer
from tests.integration.test_smtp_mailer import outgoing

pytestmark = pytest.mark.smtp


@dataclass
class GroupingServer:
    """Answers MAIL and each RCPT only when DATA has come, all in one write."""

    mail_answer: bytes = b"250 2.1.0 ok"
    rcpt_answer: bytes = b"250 2.1.5 ok"
    data_answer: bytes = b"354 go ahead"
    hang_up_after_mail: bool = False  # answer a group's MAIL, then close the line
    groups: list[list[bytes]] = field(default_factory=list)  # the commands of each group
    messages: list[bytes] = field(default_factory=list)
    resets: int = 0

    def serve(self, listener: socket.socket) -> None:
        connection, _ = listener.accept()
        with connection, connection.makefile("rb") as lines:
            connection.sendall(b"220 grouping ESMTP\r\n")
            group: list[bytes] = []
            for line in lines:
                verb = line[:4].upper()
                if verb == b"EHLO":
                    connection.sendall(b"250-grouping\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb in (b"MAIL", b"RCPT"):
                    group.append(line.strip())
                elif verb == b"DATA":
                    self.groups.append([*group, line.strip()])
                    answers = [self.mail_answer if command.upper().startswith(b"MAIL")
                               else self.rcpt_answer for command in group]
                    if self.hang_up_after_mail:
                        connection.sendall(answers[0] + b"\r\n")
                        return
                    connection.sendall(b"".join(a + b"\r\n" for a in
                                                [*answers, self.data_answer]))
                    group = []
                    if self.data_answer.startswith(b"354"):
                        self._content(lines, connection)
                elif verb == b"RSET":
                    self.resets += 1
                    connection.sendall(b"250 2.0.0 reset\r\n")
                elif verb == b"QUIT":
                    connection.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    connection.sendall(b"502 5.5.2 not here\r\n")

    def _content(self, lines: socket.SocketIO, connection: socket.socket) -> None:
        content = b""
        for line in lines:
            if line == b".\r\n":
                break
            content += line
        accepted = self.rcpt_answer.startswith(b"25")
        if accepted:
            self.messages.append(content)
        connection.sendall(b"250 2.0.0 queued\r\n" if accepted
                           else b"554 5.5.1 no valid recipients\r\n")


@pytest.fixture
def grouping() -> Iterator[tuple[GroupingServer, int]]:
    server = GroupingServer()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        thread = threading.Thread(target=server.serve, args=(listener,), daemon=True)
        thread.start()
        yield server, listener.getsockname()[1]
        thread.join(timeout=10)


def test_mail_rcpt_and_data_go_in_one_group(grouping: tuple[GroupingServer, int]) -> None:
    server, port = grouping
    mailer = SmtpMailer("127.0.0.1", port, "none", None, None, timeout=3)
    results = mailer.send_batch([outgoing(1), outgoing(2)])
    assert [r.status for r in results] == ["sent", "sent"]
    assert [len(group) for group in server.groups] == [3, 3]
    assert server.groups[0][1] == b"rcpt TO:<bob@law.example>"
    assert b"[R-2] Quick nudge" in server.messages[1]


def test_data_opened_for_no_recipient_is_ended_empty(
        grouping: tuple[GroupingServer, int]) -> None:
    """Every RCPT refused, yet DATA answered 354 (RFC 2920 allows it): the client ends the
    content at once, resets, and sends nothing."""
    server, port = grouping
    server.rcpt_answer, server.data_answer = b"550 5.1.1 unknown", b"354 go ahead"
    mailer = SmtpMailer("127.0.0.1", port, "none", None, None, timeout=3)
    results = mailer.send_batch([outgoing(1), outgoing(2)])
    assert [r.status for r in results] == ["failed", "failed"]
    assert "550 5.1.1 unknown" in results[0].detail
    assert server.messages == [] and server.resets == 2
    assert len(server.groups) == 2  # the line stayed in step: the second email was tried


def test_a_refusal_stands_when_the_server_hangs_up_after_it(
        grouping: tuple[GroupingServer, int]) -> None:
    """MAIL refused for good, and the line closed before the other answers: the email
    failed for the server's reason (not "connection lost": that would be retried), and
    the next one is left for a retry."""
    server, port = grouping
    server.mail_answer, server.hang_up_after_mail = b"550 5.7.1 sender rejected", True
    mailer = SmtpMailer("127.0.0.1", port, "none", None, None, timeout=3)
    results = mailer.send_batch([outgoing(1), outgoing(2)])
    assert [r.status for r in results] == ["failed", "retry"]
    assert "550 5.7.1 sender rejected" in results[0].detail


def test_an_address_with_a_line_break_fails_alone(
        grouping: tuple[GroupingServer, int]) -> None:
    """The commands go out as written: an address that would end one and start another
    fails its own email, and no command of it reaches the server."""
    server, port = grouping
    mailer = SmtpMailer("127.0.0.1", port, "none", None, None, timeout=3)
    results = mailer.send_batch([outgoing(1, to='"\r\nRSET\r\n"'), outgoing(2)])
    assert [r.status for r in results] == ["failed", "sent"]
    assert "line break" in results[0].detail
    assert len(server.groups) == 1 and server.resets == 0
