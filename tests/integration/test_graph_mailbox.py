"""Reading and sending through Microsoft Graph, end to end against the local server: the
Dovecot scenarios (intake, replies, moves, a crash between handling and moving,
re-delivery), throttling in the middle of a delta round, a refused token, a lapsed sign-in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailflow.adapters.graph_http import GraphClient
from mailflow.adapters.graph_mailbox import GraphMailbox
from mailflow.adapters.ms_identity import token_cache_path
from mailflow.app.daemon import Daemon
from mailflow.app.wiring import build_app, identity_of, sign_in_scopes
from mailflow.config import load_config
from mailflow.core.parse import parse_message
from mailflow.errors import MailboxError
from tests.integration.graph_world import GraphWorld, graph_server, world_fixture
from tests.integration.world import INTRO

__all__ = ["graph_server", "world_fixture"]

NOW = "2026-11-23T10:00:00+00:00"


def reply(world: GraphWorld, sender: str, body: str, n: int) -> None:
    world.server.state.deliver(f"""From: {sender}
To: referrals@firm.example
Subject: Re: [R-1] Introduction: Jane / Bob
Date: Mon, 23 Nov 2026 11:00:00 +0000
Message-ID: <reply{n}@people.example>
In-Reply-To: <intro1@firm.example>

{body}
""".encode())


def referrals(world: GraphWorld) -> list[dict[str, object]]:
    listed = world.cli_json("list")
    assert isinstance(listed, list)
    return listed


def test_an_intro_read_through_graph_is_acknowledged_with_our_message_id(
        world: GraphWorld) -> None:
    world.login()
    world.server.state.deliver(INTRO)
    world.run(NOW)
    [referral] = referrals(world)
    assert referral["client"] == "jane@gmail.com" and referral["partner"] == "bob@law.example"
    # handled mail moved to the processed folder, which was created
    assert world.inbox() == []
    assert [parse_message(m).message_id for m in world.folder("mailflow/processed")] == [
        "intro1@firm.example"]
    # the acknowledgement went through sendMail as MIME, with the Message-ID mailflow fixed
    sent = world.sent()
    assert {a.email for m in sent for a in m.to} >= {"alice@firm.example"}
    raw = world.server.state.sent[0]
    assert b"Auto-Submitted: auto-generated" in raw
    assert sent[0].in_reply_to == "intro1@firm.example"
    app = build_app(load_config(world.config))
    try:
        recorded = app.store.sent_with_message_ids([m.message_id for m in sent])
    finally:
        app.close()
    assert {row.message_id for row in recorded} == {m.message_id for m in sent}
    assert all(row.status == "sent" for row in recorded)


def test_replies_close_the_referral_and_a_second_run_reads_only_what_is_new(
        world: GraphWorld) -> None:
    world.login()
    world.server.state.deliver(INTRO)
    world.run(NOW)
    requests_before = len(world.server.state.requests)
    reply(world, "Bob Smith <bob@law.example>", "Done, thanks!", 1)
    world.run("2026-11-23T11:30:00+00:00")
    [referral] = referrals(world)
    assert referral["status"] == "closed"
    # the second round started from the stored delta link and fetched one message
    fetched = [r for r in world.server.state.requests[requests_before:] if r.endswith("$value")]
    assert len(fetched) == 1
    assert len(world.folder("mailflow/processed")) == 2


def test_a_crash_between_handling_and_moving_gives_no_duplicate(world: GraphWorld) -> None:
    world.login()
    world.server.state.deliver(INTRO)
    world.server.state.fail_moves = 100  # the moves fail (after their retries): run stops
    status, _, err = world.main("run", "--once", "--now", NOW)
    assert status == 1 and "ServiceUnavailable" in err
    assert len(world.inbox()) == 1  # recorded, but not moved: the cursor stayed behind
    world.server.state.fail_moves = 0
    world.run("2026-11-23T10:05:00+00:00")
    assert len(referrals(world)) == 1  # re-delivered: known by its Message-ID, only moved
    assert world.inbox() == [] and len(world.folder("mailflow/processed")) == 1


def test_a_message_delivered_again_is_not_a_second_referral(world: GraphWorld) -> None:
    world.login()
    world.server.state.deliver(INTRO)
    world.run(NOW)
    world.server.state.deliver(INTRO)
    world.run("2026-11-23T10:05:00+00:00")
    assert len(referrals(world)) == 1
    assert len(world.folder("mailflow/processed")) == 2


def test_unreadable_mail_goes_to_quarantine(world: GraphWorld) -> None:
    world.login()
    world.server.state.deliver(b"\x00\x01 not a message at all")
    world.run(NOW)
    assert world.inbox() == [] and len(world.folder("mailflow/quarantine")) == 1


def _mailbox(world: GraphWorld, waits: list[float]) -> GraphMailbox:
    """The Graph mailbox of this world's config, its sleep recorded instead of slept."""
    config = load_config(world.config)
    identity = identity_of(config)
    client = GraphClient(f"{world.server.url}/v1.0", "/me",
                         identity.tokens(sign_in_scopes(config)[-1]), failure=MailboxError,
                         ca_file=config.microsoft.ca_file if config.microsoft else None,
                         sleep=waits.append)
    return GraphMailbox(client, "inbox")


def test_throttling_in_the_middle_of_a_delta_round_is_waited_out(world: GraphWorld) -> None:
    world.login()
    for n in range(7):
        world.server.state.deliver(INTRO.replace(b"intro1@", f"intro{n}@".encode()))
    state = world.server.state
    state.throttle = {"delta-next": 2, "$value": 1}
    state.retry_after = "7"
    waits: list[float] = []
    box = _mailbox(world, waits)
    try:
        batches = list(box.fetch_new(None, 3))  # pages of 3: two nextLinks, then the delta
    finally:
        box.close()
    ids = [parse_message(m.raw).message_id for batch in batches for m in batch]
    assert ids == [f"intro{n}@firm.example" for n in range(7)]  # oldest first, none lost
    assert waits == [7.0, 7.0, 7.0]  # Retry-After, each time it was asked
    cursors = [m.cursor for batch in batches for m in batch]
    assert cursors[:-1] == [""] * 6 and "$deltatoken=" in cursors[-1]


def test_a_stale_delta_link_reads_the_folder_afresh(world: GraphWorld) -> None:
    world.login()
    world.server.state.deliver(INTRO)
    box = _mailbox(world, [])
    try:
        stale = f"{world.server.url}/v1.0/me/mailFolders('x')/messages/delta?$deltatoken=gone"
        [batch] = list(box.fetch_new(stale, 10))
    finally:
        box.close()
    assert [parse_message(m.raw).message_id for m in batch] == ["intro1@firm.example"]


def test_a_refused_token_is_refreshed_once(world: GraphWorld) -> None:
    world.login()
    world.run(NOW)
    world.server.state.expire_access_tokens()  # as after an hour
    world.server.state.deliver(INTRO)
    world.run("2026-11-23T10:05:00+00:00")
    assert len(referrals(world)) == 1
    assert "refresh_token" in world.server.state.grants


def test_a_lapsed_sign_in_is_one_alert_to_the_admin_at_once(
        world: GraphWorld, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # the alert goes out by another way than the lapsed sign-in (here the outbox directory)
    world.write(rest="admin: it@firm.example\nalert_after_minutes: 600\noutbox_dir: outbox")
    world.login()
    world.server.state.deliver(INTRO)
    world.server.state.lapse()
    app = build_app(load_config(world.config))
    try:
        daemon = Daemon(app)
        daemon.cycle()
        daemon.cycle()
    finally:
        app.close()
    alerts = [p for p in (tmp_path / "outbox").glob("*.eml")
              if b"it@firm.example" in p.read_bytes()]
    assert len(alerts) == 1
    text = alerts[0].read_bytes().decode()
    assert "mailflow login" in text and "AADSTS700082" in text
    assert token_cache_path(tmp_path / "mailflow.db").exists()


def test_a_backlog_is_read_in_batches_by_the_parsing_processes_too(
        world: GraphWorld, caplog: pytest.LogCaptureFixture) -> None:
    world.write(microsoft="  batch_size: 2")
    world.login()
    for n in range(9):
        world.server.state.deliver(INTRO.replace(b"intro1@", f"intro{n}@".encode()))
    world.run(NOW)
    assert world.inbox() == [] and len(world.folder("mailflow/processed")) == 9
    assert len(referrals(world)) == 9
    # a batch is plain data with a token: a parsing process fetches it on its own session
    assert not [r for r in caplog.records if "could not fetch" in r.getMessage()]


def test_a_token_refused_even_when_fresh_is_one_line_and_no_loop(world: GraphWorld) -> None:
    world.login()
    world.server.state.wrong_audience = True
    status, _, err = world.main("run", "--once", "--now", NOW)
    assert status == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(
        "mailflow: Graph refuses the signed-in token (InvalidAuthenticationToken")
    assert world.server.state.grants.count("refresh_token") == 1  # refreshed once, no more


def test_forget_erases_a_persons_mail_from_the_graph_folders(world: GraphWorld) -> None:
    """`mailflow forget` over Graph: each message in mailflow's folders that names the person
    is confirmed and permanently deleted; the others stay."""
    from mailflow.cli.parser import main

    world.login()
    world.server.state.deliver(INTRO)
    world.server.state.deliver(INTRO.replace(b"jane@gmail.com", b"mary@gmail.com")
                               .replace(b"Jane Doe", b"Mary Major")
                               .replace(b"intro1@", b"intro2@"))
    world.run(NOW)
    assert len(world.folder("mailflow/processed")) == 2
    assert main(["--config", str(world.config), "forget", "jane@gmail.com", "--yes"]) == 0
    kept = world.folder("mailflow/processed")
    assert len(kept) == 1 and b"jane@gmail.com" not in kept[0].lower()
    assert any("permanentDelete" in r for r in world.server.state.requests)
