"""A real SMTP peer: aiosmtpd's Controller on a concrete free port, recording what it gets."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.integration.dovecot_server import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Behaviour:
    """What the fake peer does: refuse some recipients, delay others, drop the line."""

    reject: dict[str, str] = field(default_factory=dict)   # address -> "550 5.1.1 ..."
    drop_after: int | None = None                         # close after N accepted messages
    credentials: tuple[str, str] | None = None
    oauth2: tuple[str, str] | None = None                  # (user, access token) for XOAUTH2
    smtputf8: bool = True                                  # offer SMTPUTF8 (RFC 6531)
    pipelining: bool = True                                # offer PIPELINING (RFC 2920)
    refuse_content: dict[str, str] = field(default_factory=dict)  # address -> answer to DATA


class RecordingHandler:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.messages: list[Received] = []
        self.sessions = 0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        if self.behaviour.pipelining:  # as Postfix, Exchange and Gmail do
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        """XOAUTH2 as Gmail and Microsoft 365 speak it (initial response only)."""
        expected = self.behaviour.oauth2
        if expected is None or len(args) < 2:
            return AuthResult(success=False, handled=False)
        wanted = f"user={expected[0]}\x01auth=Bearer {expected[1]}\x01\x01"
        given = base64.b64decode(args[1]).decode(errors="replace")  # args: mechanism, response
        return AuthResult(success=given == wanted, handled=False, auth_data=expected[0])

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        answer = self.behaviour.reject.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        drop = self.behaviour.drop_after
        if drop is not None and len(self.messages) >= drop:
            server.transport.close()
            return "421 closing"
        refused = [self.behaviour.refuse_content[a.lower()] for a in envelope.rcpt_tos
                   if a.lower() in self.behaviour.refuse_content]
        if refused:
            return refused[0]
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted"


@dataclass
class SmtpPeer:
    host: str
    port: int
    handler: RecordingHandler
    behaviour: Behaviour

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages


def _authenticator(behaviour: Behaviour) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str,
              auth_data: Any) -> AuthResult:
        if behaviour.credentials is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = (auth_data.login.decode(), auth_data.password.decode()) == behaviour.credentials
        return AuthResult(success=ok, handled=False)
    return check


def start_peer(behaviour: Behaviour) -> tuple[Controller, SmtpPeer]:
    handler = RecordingHandler(behaviour)
    port = free_port()
    kwargs: dict[str, Any] = {}
    if behaviour.credentials is not None or behaviour.oauth2 is not None:
        # loopback tests: AUTH offered without TLS (aiosmtpd warns if it is also required)
        kwargs = {"authenticator": _authenticator(behaviour), "auth_require_tls": False}
    kwargs["enable_SMTPUTF8"] = behaviour.smtputf8
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, SmtpPeer("127.0.0.1", port, handler, behaviour)


@pytest.fixture
def smtp_server() -> Iterator[SmtpPeer]:
    controller, peer = start_peer(Behaviour())
    try:
        yield peer
    finally:
        controller.stop()
