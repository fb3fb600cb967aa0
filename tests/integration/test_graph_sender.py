"""Sending through Graph (sendMail with the composed MIME), and IMAP/SMTP XOAUTH2 with the
token of `mailflow login` instead of a token command."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from mailflow.adapters.graph_http import GraphClient
from mailflow.adapters.graph_mailer import GraphMailer
from mailflow.app.wiring import identity_of, sign_in_scopes
from mailflow.config import load_config
from mailflow.core.model import Address
from mailflow.core.outgoing import OutgoingEmail, SendResult
from mailflow.core.parse import parse_message
from mailflow.errors import SendError
from tests.integration.dovecot_server import DovecotServer, account
from tests.integration.graph_world import GraphWorld, graph_server, world_fixture
from tests.integration.smtp_server import Behaviour, start_peer
from tests.integration.test_imap_oauth2 import GOOD_TOKEN, USERNAME, oauth2_dovecot
from tests.integration.world import INTRO

__all__ = ["graph_server", "oauth2_dovecot", "world_fixture"]


def email(n: int, to: str = "bob@law.example") -> OutgoingEmail:
    return OutgoingEmail(f"r1.partner_nudge.{n}@mailflow.firm.example",
                         Address("referrals@firm.example", "Referrals"),
                         (Address(to, "Bob Smith"),), f"[R-1] Nudge {n}", "Hello Bob.\n",
                         datetime(2026, 11, 24, 9, tzinfo=UTC),
                         in_reply_to="intro1@firm.example",
                         references=("intro1@firm.example",))


def mailer(world: GraphWorld, waits: list[float]) -> GraphMailer:
    config = load_config(world.config)
    identity = identity_of(config)
    assert config.microsoft is not None
    return GraphMailer(GraphClient(f"{world.server.url}/v1.0", "/me",
                                   identity.tokens(sign_in_scopes(config)[-1]),
                                   failure=SendError, ca_file=config.microsoft.ca_file,
                                   sleep=waits.append))


def test_the_mime_goes_as_it_is_and_a_refused_recipient_fails_that_email_alone(
        world: GraphWorld) -> None:
    world.login()
    state = world.server.state
    state.throttle = {"sendMail": 1}
    state.retry_after = "2"
    waits: list[float] = []
    reported: list[tuple[int, SendResult]] = []
    results = mailer(world, waits).send_batch(
        [email(1), email(2, to=state.refuse_recipient), email(3)],
        on_result=lambda i, r: reported.append((i, r)))
    assert [r.status for r in results] == ["sent", "failed", "sent"]
    assert results[1].detail.startswith("400 ErrorInvalidRecipients")
    assert reported == list(enumerate(results))
    assert waits == [2.0]  # throttled once, waited as told
    sent = [parse_message(raw) for raw in state.sent]
    assert [m.message_id for m in sent] == [email(1).message_id, email(3).message_id]
    assert sent[0].in_reply_to == "intro1@firm.example"
    assert b"Auto-Submitted: auto-generated" in state.sent[0]


def test_a_refusal_not_about_the_email_keeps_every_email_due(world: GraphWorld) -> None:
    world.login()
    world.server.state.denied = True
    with pytest.raises(SendError, match="permission missing"):
        mailer(world, []).send_batch([email(1), email(2)])
    assert world.server.state.sent == []


@pytest.mark.dovecot
@pytest.mark.smtp
def test_imap_and_smtp_take_their_token_from_the_sign_in(
        oauth2_dovecot: DovecotServer, world: GraphWorld) -> None:
    imap = account(oauth2_dovecot, 1)
    controller, smtp = start_peer(Behaviour(oauth2=(USERNAME, GOOD_TOKEN)))
    try:
        world.write(rest=f"""imap:
  host: {imap.host}
  port: {imap.port}
  tls: none
  username: {USERNAME}
  idle: false
smtp:
  host: {smtp.host}
  port: {smtp.port}
  tls: none
  username: {USERNAME}
""")
        world.server.state.fixed_access_token = GOOD_TOKEN  # what Dovecot's introspection knows
        world.login()
        asked = world.server.state.scopes_asked[0].split()
        assert "https://outlook.office.com/IMAP.AccessAsUser.All" in asked
        assert "https://outlook.office.com/SMTP.Send" in asked
        from imapclient import IMAPClient
        client = IMAPClient(imap.host, port=imap.port, ssl=False, timeout=10)
        client.oauth2_login(USERNAME, GOOD_TOKEN)
        client.append("INBOX", INTRO.replace(b"\n", b"\r\n"))
        client.logout()
        status, _, err = world.main("check")
        assert status == 0, err
        world.run("2026-11-23T10:00:00+00:00")
        listed = world.cli_json("list")
        assert isinstance(listed, list) and [r["client"] for r in listed] == ["jane@gmail.com"]
        assert smtp.messages, "the acknowledgement went out over SMTP with XOAUTH2"
        assert world.server.state.requests == []  # Graph itself was never used
        assert json.dumps(world.server.state.grants).count("device_code") == 2
    finally:
        controller.stop()


@pytest.mark.dovecot
def test_imap_with_the_sign_in_and_graph_sending_share_one_login(
        oauth2_dovecot: DovecotServer, world: GraphWorld) -> None:
    imap = account(oauth2_dovecot, 1)
    world.write(rest=f"""imap:
  host: {imap.host}
  port: {imap.port}
  tls: none
  username: {USERNAME}
  idle: false
""")
    world.server.state.fixed_access_token = GOOD_TOKEN
    world.login()
    # one device code for Exchange's IMAP scope; Graph's token came from the same sign-in
    assert world.server.state.scopes_asked[0].split()[0] == \
        "https://outlook.office.com/IMAP.AccessAsUser.All"
    assert world.server.state.grants == ["device_code", "device_code", "refresh_token"]
    from imapclient import IMAPClient
    client = IMAPClient(imap.host, port=imap.port, ssl=False, timeout=10)
    client.oauth2_login(USERNAME, GOOD_TOKEN)
    client.append("INBOX", INTRO.replace(b"\n", b"\r\n"))
    client.logout()
    world.run("2026-11-23T10:00:00+00:00")
    sent = world.sent()  # the acknowledgement and the partner brief, through Graph
    assert sent and {m.in_reply_to for m in sent} == {"intro1@firm.example"}
