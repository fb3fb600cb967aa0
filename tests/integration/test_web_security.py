"""The web view against the attacks that did not hold on an earlier version (issue 24, 1 to 10).

Real parts: the store, the sign-in sender thread, the dispatcher and aiosmtpd; Starlette's
TestClient is the browser (each with the client address it claims).
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from mailflow.app.wiring import App
from mailflow.web.auth import PER_ADDRESS, PER_ADDRESS_AND_CLIENT, TRACKER_HOURLY, mailbox_of
from tests.integration.test_web import press_sign_in, sign_in
from tests.integration.web_world import WebWorld, web_world

__all__ = ["web_world"]
pytestmark = pytest.mark.smtp
BASE = "http://mailflow.test"


def browser(world: WebWorld, app: App, client: str = "198.51.100.7") -> TestClient:
    """Another browser, at `client`, on the one web view of `app` (one process)."""
    served = next((s for s in world.sites if s.state.site.app is app), None)
    return TestClient(served or world.serve(app, BASE), base_url=BASE,
                      client=(client, 50000))


@pytest.fixture
def site(web_world: WebWorld) -> Iterator[tuple[WebWorld, App, TestClient]]:
    app = web_world.app()
    client = browser(web_world, app)
    yield web_world, app, client
    client.close()
    app.close()


def test_sign_out_ends_the_session_on_the_server(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    stolen = client.cookies.get("mailflow_session")
    assert stolen and len(stolen) >= 40
    client.post("/signout", data={"csrf": csrf})
    replay = TestClient(client.app, base_url=BASE, cookies={"mailflow_session": stolen})
    assert replay.get("/referrals", follow_redirects=False).headers["location"] == "/signin"


def test_a_referrer_removed_from_the_config_is_signed_out_at_the_next_request(
        web_world: WebWorld) -> None:
    app = web_world.app()
    client = browser(web_world, app)
    sign_in(web_world, client, "alice@firm.example")
    cookie = client.cookies.get("mailflow_session")
    assert client.get("/referrals", follow_redirects=False).status_code == 200
    text = web_world.config.read_text()
    web_world.config.write_text(text.replace('referrers: ["*@firm.example"]',
                                             'referrers: ["zoe@firm.example"]'))
    restarted = web_world.app()  # `mailflow web` started again with the new config
    again = TestClient(web_world.serve(restarted, BASE), base_url=BASE,
                       cookies={"mailflow_session": cookie or ""})
    assert again.get("/referrals", follow_redirects=False).status_code == 303
    assert restarted.store.sessions() == []
    app.close()
    restarted.close()


def test_sessions_end_when_idle_and_after_their_lifetime(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    sign_in(world, client, "alice@firm.example")
    for _ in range(7):  # a request every hour keeps it alive for its eight hours…
        world.clock[0] += timedelta(hours=1)
        assert client.get("/referrals", follow_redirects=False).status_code == 200
    world.clock[0] += timedelta(hours=1)  # …and no longer
    assert client.get("/referrals", follow_redirects=False).status_code == 303
    sign_in(world, client, "alice@firm.example")
    world.clock[0] += timedelta(hours=2, minutes=1)  # idle for more than two hours
    assert client.get("/referrals", follow_redirects=False).status_code == 303


def test_the_admin_can_end_anyones_session(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    sign_in(world, client, "alice@firm.example")
    admin = browser(world, app, "198.51.100.8")
    csrf = sign_in(world, admin, "ops@firm.example")
    listed = admin.get("/sessions").text
    assert "alice@firm.example" in listed
    (alices,) = [s for s in app.store.sessions() if s.email == "alice@firm.example"]
    admin.post("/sessions", data={"csrf": csrf, "id": alices.id})
    assert client.get("/referrals", follow_redirects=False).status_code == 303
    assert client.get("/sessions", follow_redirects=False).status_code == 303
    assert browser(world, app, "198.51.100.9").get("/sessions",
                                                    follow_redirects=False).status_code == 303


def test_a_stranger_cannot_spend_the_persons_sign_in_budget(site) -> None:  # type: ignore[no-untyped-def]
    world, app, _ = site
    attacker = browser(world, app, "203.0.113.66")
    for _ in range(PER_ADDRESS_AND_CLIENT * 3):
        attacker.post("/signin", data={"email": "alice@firm.example"})
    sent = len(world.links_to("alice@firm.example"))
    assert sent == PER_ADDRESS_AND_CLIENT
    alice = browser(world, app, "192.0.2.10")
    alice.post("/signin", data={"email": "alice@firm.example"})
    links = world.links_to("alice@firm.example")
    assert len(links) == sent + 1
    assert "Sign in as alice@firm.example" in alice.get(links[-1].replace(BASE, "")).text
    # the newest link replaces the older ones the stranger had sent, and it works
    assert press_sign_in(alice, links[-1].replace(BASE, "")).status_code == 200
    assert press_sign_in(browser(world, app, "192.0.2.11"),
                         links[0].replace(BASE, "")).status_code == 400


def test_a_browser_that_signed_in_before_gets_through_a_spent_address_budget(
        site) -> None:  # type: ignore[no-untyped-def]
    world, app, _ = site
    alice = browser(world, app, "192.0.2.10")
    sign_in(world, alice, "alice@firm.example")
    for n in range(PER_ADDRESS + 2):  # many clients, one address: its hourly budget is spent
        browser(world, app, f"203.0.113.{n + 1}").post("/signin",
                                                       data={"email": "alice@firm.example"})
    before = len(world.links_to("alice@firm.example"))
    assert before == PER_ADDRESS  # her own first link counted too
    alice.post("/signin", data={"email": "alice@firm.example"})
    assert len(world.links_to("alice@firm.example")) == before + 1


def test_plus_addresses_count_as_the_mailbox_they_reach(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    assert mailbox_of("Alice+1@Firm.Example") == "alice@firm.example"
    for n in range(10):
        client.post("/signin", data={"email": f"alice+{n}@firm.example"})
    world.wait_for_signins()
    to_alice = [m for m in world.smtp.messages if "alice" in " ".join(m.rcpt_tos)]
    assert len(to_alice) == PER_ADDRESS_AND_CLIENT
    assert {r for m in to_alice for r in m.rcpt_tos} == {"alice@firm.example"}
    for n in range(40):  # one client each: the address's own hourly budget holds
        browser(world, app, f"203.0.113.{n + 1}").post(
            "/signin", data={"email": f"alice+{n + 10}@firm.example"})
    world.wait_for_signins()
    assert len([m for m in world.smtp.messages if "alice@firm.example" in m.rcpt_tos]) \
        == PER_ADDRESS


def test_the_tracker_wide_cap_holds_and_tells_the_admin_once(site) -> None:  # type: ignore[no-untyped-def]
    world, app, _ = site
    for n in range(TRACKER_HOURLY + 20):
        browser(world, app, f"10.0.{n // 200}.{n % 200 + 1}").post(
            "/signin", data={"email": f"person{n}@firm.example"})
    world.wait_for_signins()
    links = [m for m in world.smtp.messages if b"/auth?t=" in m.content]
    assert len(links) == TRACKER_HOURLY
    alerts = [m for m in world.smtp.messages if "ops@firm.example" in m.rcpt_tos
              and b"too many sign-in requests" in m.content]
    assert len(alerts) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _point_smtp_at(world: WebWorld, port: int) -> None:
    text = world.config.read_text()
    world.config.write_text(re.sub(r"port: \d+", f"port: {port}\n  timeout: 3", text))


def test_with_smtp_down_everyone_gets_the_same_answer_and_the_link_waits(
        web_world: WebWorld) -> None:
    _point_smtp_at(web_world, _closed_port())
    app = web_world.app()
    client = browser(web_world, app)
    allowed = client.post("/signin", data={"email": "alice@firm.example"})
    stranger = client.post("/signin", data={"email": "eve@evil.example"})
    assert allowed.status_code == stranger.status_code == 200
    assert (allowed.text.replace("alice@firm.example", "X")
            == stranger.text.replace("eve@evil.example", "X"))
    web_world.wait_for_signins()
    (queued,) = [o for o in app.store.pending() if o.kind == "signin"]
    assert queued.recipient == "alice@firm.example" and queued.status == "pending"
    app.close()


def test_a_stuck_smtp_server_never_holds_up_a_page(web_world: WebWorld) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = threading.Event()
    held: list[socket.socket] = []

    def accept_and_say_nothing() -> None:
        conn, _ = listener.accept()
        held.append(conn)
        accepted.set()

    threading.Thread(target=accept_and_say_nothing, daemon=True).start()
    _point_smtp_at(web_world, listener.getsockname()[1])
    app = web_world.app()
    client = browser(web_world, app)
    site = client.app.state.site  # type: ignore[attr-defined]
    assert client.post("/signin", data={"email": "alice@firm.example"}).status_code == 200
    assert accepted.wait(10)  # the sender is now waiting on the server that says nothing…
    assert site.signins.requests.unfinished_tasks == 1
    assert client.get("/signin").status_code == 200  # …and pages are served meanwhile
    assert client.post("/signin", data={"email": "zoe@firm.example"}).status_code == 200
    assert site.signins.requests.unfinished_tasks >= 1
    for conn in held:
        conn.close()
    listener.close()
    app.close()


def test_the_sign_in_request_does_the_same_work_whoever_asks(site) -> None:  # type: ignore[no-untyped-def]
    """Nothing in the request depends on the address: the same statements, no timing."""
    world, app, client = site
    statements: list[str] = []
    app.store.db.conn.set_trace_callback(statements.append)
    allowed = client.post("/signin", data={"email": "alice@firm.example"})
    for_alice = list(statements)
    statements.clear()
    stranger = client.post("/signin", data={"email": "eve@evil.example"})
    app.store.db.conn.set_trace_callback(None)
    assert for_alice == statements
    assert "server-timing" not in allowed.headers and "server-timing" not in stranger.headers
    world.wait_for_signins()


def test_every_page_forbids_framing_sniffing_and_caching(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    sign_in(world, client, "alice@firm.example")
    referral = next(r for r in app.store.referrals() if r.referrer == "alice@firm.example")
    for path in ("/signin", "/referrals", f"/referrals/{referral.id}", "/partners", "/ledger",
                 "/outbox", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, path
        assert "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"


def test_a_page_says_only_what_the_site_said(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    page = client.get("/signin?e=1&m=Security%20notice:%20sign%20in%20at%20https://evil.example")
    assert "Security notice" not in page.text and "evil.example" not in page.text
    csrf = sign_in(world, client, "alice@firm.example")
    referral = next(r for r in app.store.referrals() if r.referrer == "alice@firm.example")
    shown = client.get(f"/referrals/{referral.id}?m=Pay%20here&e=1").text
    assert "Pay here" not in shown
    answer = client.post(f"/referrals/{referral.id}/action",
                         data={"csrf": csrf, "action": "snooze", "days": "3"},
                         follow_redirects=False)
    assert answer.headers["location"] == f"/referrals/{referral.id}"  # no text in the URL
    assert "snoozed until" in client.get(answer.headers["location"]).text
    assert "snoozed until" not in client.get(f"/referrals/{referral.id}").text.split(
        "<h1>")[1].split("</h1>")[0]


def test_an_error_never_names_a_server_path(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    answer = client.post("/partners", data={"csrf": csrf, "op": "edit",
                                            "email": "bob@law.example", "name": "B"})
    assert "the config file" in answer.text
    assert str(world.config) not in answer.text and str(world.root) not in answer.text


def test_partner_changes_are_recorded_and_only_their_adder_or_the_admin_may_make_them(
        site) -> None:  # type: ignore[no-untyped-def]
    world, app, alice = site
    csrf = sign_in(world, alice, "alice@firm.example")
    alice.post("/partners", data={"csrf": csrf, "op": "add", "email": "nina@notary.example",
                                  "name": "Nina", "niche": "notary"})
    alice.post("/partners", data={"csrf": csrf, "op": "edit", "email": "nina@notary.example",
                                  "niche": "notary public"})
    zoe = browser(world, app, "198.51.100.20")
    zoes = sign_in(world, zoe, "zoe@firm.example")
    refused = zoe.post("/partners", data={"csrf": zoes, "op": "remove",
                                          "email": "nina@notary.example"})
    assert "only they or the admin" in refused.text
    assert app.store.find_partner("nina@notary.example") is not None
    assert "Managed by" in zoe.get("/partners").text
    admin = browser(world, app, "198.51.100.21")
    admins = sign_in(world, admin, "ops@firm.example")
    admin.post("/partners", data={"csrf": admins, "op": "remove",
                                  "email": "nina@notary.example"})
    assert app.store.find_partner("nina@notary.example") is None
    changes = [(c.actor, c.change, c.email) for c in reversed(app.store.partner_changes())]
    assert changes == [("alice@firm.example (via web)", "added", "nina@notary.example"),
                       ("alice@firm.example (via web)", "edited", "nina@notary.example"),
                       ("ops@firm.example (via web)", "removed", "nina@notary.example")]
    assert "notary public" in admin.get("/sessions").text


def test_a_removed_partner_can_be_put_back_with_undo(site) -> None:  # type: ignore[no-untyped-def]
    """Undo puts the partner back whole: every address, its domain and who manages it
    (found in review: it came back with one address, owned by whoever pressed Undo)."""
    world, app, client = site
    from mailflow.app import directory
    from mailflow.config import partner_entry
    directory.add(app.store, partner_entry({"email": ["nina@notary.example",
                                                      "nina@probate.example"],
                                            "name": "Nina", "niche": "notary",
                                            "notes": "probate", "domain": "notary.example"}),
                  directory.Editor("cli", "cli", "the config file"), world.now())
    admin = browser(world, app, "198.51.100.40")
    csrf = sign_in(world, admin, "ops@firm.example")
    page = admin.post("/partners", data={"csrf": csrf, "op": "remove",
                                         "email": "nina@notary.example"})
    assert "Removed nina@notary.example" in page.text and 'id="undo"' in page.text
    change = re.search(r'name="change" value="(\d+)"', page.text)
    assert change is not None and app.store.find_partner("nina@probate.example") is None
    alice = sign_in(world, client, "alice@firm.example")  # not hers: the operator's
    refused = client.post("/partners", data={"csrf": alice, "op": "restore",
                                             "email": "nina@notary.example",
                                             "change": change.group(1)})
    assert "only whoever manages" in refused.text
    admin.post("/partners", data={"csrf": csrf, "op": "restore",
                                  "email": "nina@notary.example", "change": change.group(1)})
    back = app.store.find_partner("nina@probate.example")
    assert back is not None
    assert (back.emails, back.notes, back.domain, back.source, back.added_by) == (
        ("nina@notary.example", "nina@probate.example"), "probate", "notary.example", "cli",
        None)
    again = admin.post("/partners", data={"csrf": csrf, "op": "restore",
                                          "email": "nina@notary.example",
                                          "change": change.group(1)})
    assert "a partner again already" in again.text


def test_redirects_are_relative_and_fields_are_bounded(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    moved = client.get("/referrals/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert moved.headers["location"] == "/referrals"
    sneaky = client.get("/%2Fevil.example/", follow_redirects=False)
    assert sneaky.status_code == 404 and "location" not in sneaky.headers
    csrf = sign_in(world, client, "alice@firm.example")
    huge = client.post("/partners", data={"csrf": csrf, "op": "add",
                                          "email": "huge@name.example", "name": "N" * 1_000_000})
    assert huge.status_code == 413 and app.store.find_partner("huge@name.example") is None
    long = client.post("/partners", data={"csrf": csrf, "op": "add",
                                          "email": "long@name.example", "name": "N" * 201})
    assert "too long" in long.text and app.store.find_partner("long@name.example") is None
    address = "a" * 250 + "@x.example"
    client.post("/partners", data={"csrf": csrf, "op": "add", "email": address})
    assert app.store.find_partner(address) is None
    bad = client.post("/partners", data={"csrf": csrf, "op": "add", "email": "not an address"})
    assert "is not an email address" in bad.text
    assert not [r for r in app.store.partner_records() if "not an address" in r.emails]


def test_stop_is_shown_and_can_be_resumed_but_a_persons_own_stop_cannot(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    referral = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    path = f"/referrals/{referral.id}"
    page = client.post(f"{path}/action", data={"csrf": csrf, "action": "stop",
                                               "address": "jane@gmail.com"})
    assert "No more mail to jane@gmail.com" in page.text and 'id="undo"' in page.text
    assert "stopped by alice@firm.example (via web)" in page.text
    assert app.store.opted_out("jane@gmail.com", referral.id)
    page = client.post(f"{path}/action", data={"csrf": csrf, "action": "resume",
                                               "address": "jane@gmail.com"})
    assert "gets mail about" in page.text
    assert not app.store.opted_out("jane@gmail.com", referral.id)
    with app.store.atomic():  # Jane herself replies "stop"
        app.store.opt_out("jane@gmail.com", referral.id, world.now())
    page = client.get(path).text
    assert "jane@gmail.com asked for it" in page and "Resume mail to jane" not in page
    refused = client.post(f"{path}/action", data={"csrf": csrf, "action": "resume",
                                                  "address": "jane@gmail.com"})
    assert "only they can change that" in refused.text
    assert app.store.opted_out("jane@gmail.com", referral.id)


def test_closing_can_be_undone_and_the_thank_yous_are_cancelled(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    referral = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    path = f"/referrals/{referral.id}"
    page = client.post(f"{path}/action", data={"csrf": csrf, "action": "close",
                                               "outcome": "won"})
    assert "is closed (won)" in page.text and "Queued:" in page.text
    thanks = {o.step for o in app.store.outbox_rows(referral.id) if o.status == "pending"}
    assert {"thank_client", "thank_partner"} <= thanks
    client.post(f"{path}/action", data={"csrf": csrf, "action": "undo"})
    assert app.store.referral(referral.id).status is referral.status
    pending = {o.step for o in app.store.outbox_rows(referral.id) if o.status == "pending"}
    assert not pending & {"thank_client", "thank_partner"}
    again = client.post(f"{path}/action", data={"csrf": csrf, "action": "undo"})
    assert "nothing to undo" in again.text



def test_a_planned_email_is_cancelled_from_the_outbox_with_undo_and_stays_cancelled(
        site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    (checkin,) = [o for o in app.store.outbox_rows(jane.id)
                  if o.step == "client_checkin" and o.status == "pending"]
    assert f'action="/outbox/{checkin.id}/cancel"' in client.get("/outbox").text
    page = client.post(f"/outbox/{checkin.id}/cancel", data={"csrf": csrf})
    assert "it will not be sent" in page.text and 'id="undo"' in page.text
    assert app.store.outbox_row(checkin.id).status == "withdrawn"  # type: ignore[union-attr]
    assert [e.kind for _, e in app.store.events(jane.id)][-1] == "withdrawn"
    # a later change re-plans the referral: the cancelled email is not revived
    client.post(f"/referrals/{jane.id}/action", data={"csrf": csrf, "action": "snooze",
                                                       "days": "2"})
    assert app.store.outbox_row(checkin.id).status == "withdrawn"  # type: ignore[union-attr]
    client.post(f"/outbox/{checkin.id}/cancel", data={"csrf": csrf, "undo": "1"})
    assert app.store.outbox_row(checkin.id).status == "pending"  # type: ignore[union-attr]
    zoe = browser(world, app, "198.51.100.30")
    zoes = sign_in(world, zoe, "zoe@firm.example")
    assert zoe.post(f"/outbox/{checkin.id}/cancel", data={"csrf": zoes}).status_code == 404
    assert app.store.outbox_row(checkin.id).status == "pending"  # type: ignore[union-attr]


def test_a_persons_own_stop_is_never_turned_into_one_the_referrer_can_lift(
        site) -> None:  # type: ignore[no-untyped-def]
    """Found in review: Jane says stop; a page loaded earlier still offers "Stop mail to
    jane"; pressing it must not make Jane's own stop resumable."""
    world, app, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    with app.store.atomic():
        app.store.opt_out("jane@gmail.com", jane.id, world.now())  # Jane's own reply
    again = client.post(f"/referrals/{jane.id}/action", data={
        "csrf": csrf, "action": "stop", "address": "jane@gmail.com"})
    assert "already stopped" in again.text
    with app.store.atomic():  # and even written again by the operator, it stays hers
        app.store.opt_out("jane@gmail.com", jane.id, world.now(), by="cli")
    assert app.store.stops_on(jane.id, ["jane@gmail.com"]) == {"jane@gmail.com": None}
    client.post(f"/referrals/{jane.id}/action", data={
        "csrf": csrf, "action": "resume", "address": "jane@gmail.com"})
    assert app.store.opted_out("jane@gmail.com", jane.id)


def test_one_client_asking_all_hour_cannot_spend_the_address_budget(
        site) -> None:  # type: ignore[no-untyped-def]
    """Found in review: 3 a quarter from one client was 12 an hour, more than the address's
    10: after 45 minutes the person got nothing from a new browser."""
    world, app, _ = site
    attacker = browser(world, app, "203.0.113.66")
    for _ in range(4):
        for _ in range(3):
            attacker.post("/signin", data={"email": "alice@firm.example"})
        world.clock[0] += timedelta(minutes=15)
    assert len(world.links_to("alice@firm.example")) == PER_ADDRESS_AND_CLIENT
    browser(world, app, "192.0.2.50").post("/signin", data={"email": "alice@firm.example"})
    assert len(world.links_to("alice@firm.example")) == PER_ADDRESS_AND_CLIENT + 1


def test_a_known_browser_gets_through_the_tracker_cap_and_a_busy_office_address(
        site) -> None:  # type: ignore[no-untyped-def]
    """Found in review: the hourly cap and the per-client budget locked out even browsers
    that had signed in before (a whole office behind one address shares a client)."""
    world, app, _ = site
    office = "192.0.2.80"
    alice = browser(world, app, office)
    sign_in(world, alice, "alice@firm.example")
    for n in range(TRACKER_HOURLY + 5):  # the firm-wide cap, by made-up addresses
        browser(world, app, f"10.1.{n // 200}.{n % 200 + 1}").post(
            "/signin", data={"email": f"nobody{n}@firm.example"})
    for n in range(12):  # colleagues behind the same office address
        browser(world, app, office).post("/signin", data={"email": f"colleague{n}@firm.example"})
    before = len(world.links_to("alice@firm.example"))
    alice.post("/signin", data={"email": "alice@firm.example"})
    assert len(world.links_to("alice@firm.example")) == before + 1


def test_a_client_spends_its_budget_on_strangers_too(site) -> None:  # type: ignore[no-untyped-def]
    """Found in review: only allowed addresses counted, so a referrer could learn whether
    another address may sign in by watching their own link stop arriving."""
    world, app, _ = site
    prober = browser(world, app, "198.51.100.99")
    for n in range(10):
        prober.post("/signin", data={"email": f"stranger{n}@evil.example"})
    prober.post("/signin", data={"email": "zoe@firm.example"})
    assert world.links_to("zoe@firm.example") == []  # the same whoever was asked for


def test_a_form_from_another_site_or_of_another_shape_is_refused(site) -> None:  # type: ignore[no-untyped-def]
    """Found in review: any site could post to /signin and have our page print its text."""
    _, _, client = site
    forged = client.post("/signin", data={"email": "Security notice: call 555-0100"},
                         headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403 and "555-0100" not in forged.text
    echoed = client.post("/signin", data={"email": "Security notice: call 555-0100"})
    assert echoed.status_code == 200 and "555-0100" not in echoed.text
    upload = client.post("/signin", files={"email": ("x.txt", b"x" * 1000)})
    assert upload.status_code == 415
    assert client.post("/signin", content=b"email=" + b"a" * 70_000, headers={
        "Content-Type": "application/x-www-form-urlencoded"}).status_code == 413
    same = client.post("/signin", data={"email": "alice@firm.example"},
                       headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200 and "alice@firm.example" in same.text


def test_pressing_undo_twice_undoes_only_the_change_it_was_offered_for(
        site) -> None:  # type: ignore[no-untyped-def]
    """Found in review: snooze, close, then a double tap on Undo also removed the snooze."""
    world, app, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    path = f"/referrals/{jane.id}"
    client.post(f"{path}/action", data={"csrf": csrf, "action": "snooze", "days": "5"})
    snoozed = app.store.referral(jane.id).snoozed_until
    page = client.post(f"{path}/action", data={"csrf": csrf, "action": "close",
                                               "outcome": "done"})
    undo_id = re.search(r'name="undo_id" value="(\d+)"', page.text)
    assert undo_id is not None
    for _ in range(2):
        client.post(f"{path}/action", data={"csrf": csrf, "action": "undo",
                                            "undo_id": undo_id.group(1)})
    after = app.store.referral(jane.id)
    assert after.status is jane.status and after.snoozed_until == snoozed


def test_a_row_added_to_the_transition_table_is_a_web_action_and_a_cli_action(
        site, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The web and the command line hold no rule of their own: a new intent needs a row."""
    from mailflow.app import operator
    from mailflow.core import transitions
    from mailflow.core.model import Status
    from mailflow.core.transitions import Change, NotNow

    def hold(referral, ask, now):  # type: ignore[no-untyped-def]
        if referral.status is Status.CLOSED:
            return NotNow("closed")
        return Change({"snoozed_until": now + timedelta(days=90)}, "held", "held a quarter")

    monkeypatch.setitem(transitions.TRANSITIONS, "hold", hold)
    world, app, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    client.post(f"/referrals/{jane.id}/action", data={"csrf": csrf, "action": "hold"})
    held = app.store.referral(jane.id)
    assert held.snoozed_until == world.now() + timedelta(days=90)
    assert [e.kind for _, e in app.store.events(jane.id)][-1] == "held"
    tom = next(r for r in app.store.referrals() if r.client == "tom@bakery.example")
    operator.act(app, tom, operator.Action("hold"), world.now(), "cli")  # what the CLI calls
    assert app.store.referral(tom.id).snoozed_until == world.now() + timedelta(days=90)
