"""The web view at the HTTP level: sign-in, who sees what, CSRF, rate limits, escaping.

Real parts: the store, the dispatcher and aiosmtpd for the sign-in email; Starlette's
TestClient stands in for the browser (test_web_browser.py drives a real Chromium).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from mailflow.app.wiring import App
from mailflow.core.charts import MARGIN, VALUE_ROOM, WIDTH
from tests.integration.web_world import WebWorld, web_world

__all__ = ["web_world"]
pytestmark = pytest.mark.smtp
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def site(web_world: WebWorld) -> Iterator[tuple[WebWorld, App, TestClient]]:
    app = web_world.app()
    client = TestClient(web_world.serve(app, "http://mailflow.test"),
                        base_url="http://mailflow.test")
    yield web_world, app, client
    client.close()
    app.close()


AUTH_FORM = re.compile(r'name="t" value="([^"]*)">\s*<input type="hidden" name="auth" '
                       r'value="([^"]*)"')


def press_sign_in(client: TestClient, path: str) -> Any:
    """Open the emailed link (a page with a button), then press the button; a link that
    is used up or too old answers 400 at once."""
    shown = client.get(path)
    if shown.status_code == 400:
        assert "expired or was used" in shown.text
        return shown
    assert shown.status_code == 200, shown.text
    match = AUTH_FORM.search(shown.text)
    assert match is not None, shown.text
    return client.post("/auth", data={"t": html.unescape(match.group(1)),
                                      "auth": match.group(2)})


def sign_in(world: WebWorld, client: TestClient, email: str) -> str:
    """Sign `email` in through the emailed link; returns the page's CSRF token."""
    page = client.post("/signin", data={"email": email})
    assert page.status_code == 200 and "Check your inbox" in page.text
    (link,) = world.links_to(email)[-1:]
    landed = press_sign_in(client, link.replace("http://mailflow.test", ""))
    assert landed.status_code == 200 and email in landed.text
    match = CSRF.search(landed.text)
    assert match is not None
    return match.group(1)


def test_the_form_says_the_same_to_everyone_and_mails_only_the_allowed(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    allowed = client.post("/signin", data={"email": "alice@firm.example"})
    stranger = client.post("/signin", data={"email": "eve@evil.example"})
    assert allowed.status_code == stranger.status_code == 200
    assert (allowed.text.replace("alice@firm.example", "X")
            == stranger.text.replace("eve@evil.example", "X"))
    assert len(world.links_to("alice@firm.example")) == 1
    assert world.links_to("eve@evil.example") == []


def test_a_link_works_once_and_not_after_fifteen_minutes(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    client.post("/signin", data={"email": "alice@firm.example"})
    (link,) = world.links_to("alice@firm.example")
    path = link.replace("http://mailflow.test", "")
    scanner = TestClient(client.app, base_url="http://mailflow.test")
    assert scanner.get(path).status_code == 200  # a safe-links scanner fetched it first…
    assert press_sign_in(client, path).status_code == 200  # …and the person still gets in
    other = TestClient(client.app, base_url="http://mailflow.test")
    assert press_sign_in(other, path).status_code == 400  # reused
    client.post("/signin", data={"email": "alice@firm.example"})
    late = world.links_to("alice@firm.example")[-1].replace("http://mailflow.test", "")
    world.clock[0] += timedelta(minutes=16)
    assert press_sign_in(other, late).status_code == 400  # expired
    assert other.get("/referrals", follow_redirects=False).status_code == 303


def test_the_link_points_at_the_configured_address_whatever_the_host_header(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    client.post("/signin", data={"email": "alice@firm.example"},
                headers={"Host": "evil.example"})
    (link,) = world.links_to("alice@firm.example")
    assert link.startswith("http://mailflow.test/auth?t=") and "evil" not in link


def test_sign_in_requests_are_rate_limited_per_address(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    for _ in range(6):
        assert client.post("/signin", data={"email": "alice@firm.example"}).status_code == 200
    assert len(world.links_to("alice@firm.example")) == 3  # PER_ADDRESS


def test_a_referrer_sees_only_their_own_referrals(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    sign_in(world, client, "zoe@firm.example")
    listed = client.get("/referrals").text
    assert "max@shop.example" in listed and "jane@gmail.com" not in listed
    alices = next(r for r in app.store.referrals() if r.referrer == "alice@firm.example")
    assert client.get(f"/referrals/{alices.id}").status_code == 404
    assert client.get("/status").status_code == 404
    admin = TestClient(client.app, base_url="http://mailflow.test")
    sign_in(world, admin, "ops@firm.example")
    assert admin.get(f"/referrals/{alices.id}").status_code == 200
    assert admin.get("/status").status_code == 200


def test_the_sign_in_button_works_only_in_the_browser_that_opened_the_link(site) -> None:  # type: ignore[no-untyped-def]
    """A page elsewhere cannot press it for someone (login CSRF): the form carries a nonce
    kept in the session of the browser that showed it."""
    world, _, client = site
    client.post("/signin", data={"email": "alice@firm.example"})
    (link,) = world.links_to("alice@firm.example")
    token = link.split("t=", 1)[1]
    forged = TestClient(client.app, base_url="http://mailflow.test")
    assert forged.post("/auth", data={"t": token, "auth": "guess"}).status_code == 403
    assert press_sign_in(client, link.replace("http://mailflow.test", "")).status_code == 200


def test_a_post_without_the_csrf_token_is_refused(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    sign_in(world, client, "alice@firm.example")
    jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    refused = client.post(f"/referrals/{jane.id}/action",
                          data={"action": "close", "outcome": "won"})
    assert refused.status_code == 403
    assert app.store.referral(jane.id).status.value == "open"


def test_closing_goes_through_the_core_and_queues_the_thank_yous(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    done = client.post(f"/referrals/{jane.id}/action",
                       data={"action": "close", "outcome": "won", "csrf": csrf})
    assert done.status_code == 200 and "closed (won)" in done.text
    closed = app.store.referral(jane.id)
    assert closed.status.value == "closed" and str(closed.outcome) == "won"
    pending = {(r.step, r.status) for r in app.store.outbox_rows(jane.id)}
    assert ("thank_partner", "pending") in pending and ("thank_client", "pending") in pending
    (event,) = [e for _, e in app.store.events(jane.id) if e.kind == "closed"]
    assert event.actor == "alice@firm.example (via web)"
    again = client.post(f"/referrals/{jane.id}/action",
                        data={"action": "close", "outcome": "won", "csrf": csrf})
    assert "already closed" in again.text


def test_a_wrong_guess_is_corrected_by_swapping_client_and_partner(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    guessed = next(r for r in app.store.referrals() if "other way" in r.subject)
    assert (guessed.client, guessed.partner) == ("dan@it.example", "bob@law.example")
    client.post(f"/referrals/{guessed.id}/action", data={"action": "swap", "csrf": csrf})
    swapped = app.store.referral(guessed.id)
    assert (swapped.client, swapped.partner) == ("bob@law.example", "dan@it.example")
    assert [e.kind for _, e in app.store.events(guessed.id)][-1] == "partner-chosen"


def test_partners_are_added_with_the_config_rules_and_shown_escaped(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    csrf = sign_in(world, client, "alice@firm.example")
    added = client.post("/partners", data={"op": "add", "email": "x@evil.example",
                                           "name": "<script>alert(1)</script>",
                                           "niche": "tax", "csrf": csrf})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in added.text
    assert "<script>alert(1)</script>" not in added.text
    config_one = client.post("/partners", data={"op": "remove", "email": "bob@law.example",
                                                "csrf": csrf})
    assert "config file" in config_one.text
    assert app.store.find_partner("bob@law.example") is not None
    bad = client.post("/partners", data={"op": "add", "email": "not an address",
                                         "csrf": csrf})
    assert 'class="error"' in bad.text


def test_the_ledger_draws_one_bar_per_count_scaled_to_the_largest(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    sign_in(world, client, "alice@firm.example")
    page = client.get("/ledger").text
    chart = page.split('id="given-received"')[1].split("</svg>")[0]
    plot = WIDTH - 2 * MARGIN - VALUE_ROOM
    assert _given_bars(chart) == {"Bob Smith": plot, "Carol Jones": plot // 2}  # 2 to 1
    admin = TestClient(client.app, base_url="http://mailflow.test")
    sign_in(world, admin, "ops@firm.example")
    everyone = admin.get("/ledger").text.split('id="given-received"')[1].split("</svg>")[0]
    assert _given_bars(everyone) == {"Bob Smith": plot, "Carol Jones": round(plot / 3)}  # 3 to 1


def _given_bars(svg: str) -> dict[str, int]:
    bars = re.findall(r'<rect class="bar given"[^>]*width="(\d+)"[^>]*data-partner="([^"]+)"',
                      svg)
    return {partner: int(width) for width, partner in bars}


def test_demo_web_prints_a_link_that_signs_the_demo_referrer_in(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import http.cookiejar
    import socket
    import subprocess
    import sys
    import time
    import urllib.parse
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "mailflow", "demo", "--keep",
                                str(tmp_path / "demo"), "--web", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        link = ""
        deadline = time.monotonic() + 120
        assert process.stdout is not None
        while not link and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line or process.poll() is None, "the demo ended before serving"
            if "/auth?t=" in line:
                link = line.strip()
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        for _ in range(100):  # uvicorn may still be binding
            try:
                shown = opener.open(link, timeout=10).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        match = AUTH_FORM.search(shown)
        assert match is not None, shown
        pressed = urllib.parse.urlencode({"t": html.unescape(match.group(1)),
                                          "auth": match.group(2)}).encode()
        page = opener.open(f"http://127.0.0.1:{port}/auth", pressed, timeout=10).read().decode()
        assert "alice@firm.example" in page and page.count('class="referral"') == 6
        assert "R-5" in opener.open(f"http://127.0.0.1:{port}/referrals/5").read().decode()
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


def test_run_web_serves_the_site_beside_the_daemon(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    for sub in ("new", "cur", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True)
    (tmp_path / "mailflow.yaml").write_text(
        "tracker: referrals@firm.example\ndatabase: mailflow.db\nmaildir: mail\n"
        "outbox_dir: outbox\nreferrers: ['*@firm.example']\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    daemon = subprocess.Popen([sys.executable, "-m", "mailflow", "run", "--web", "--port",
                               str(port)], cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        page = ""
        deadline = time.monotonic() + 60
        while not page and time.monotonic() < deadline:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/signin",
                                              timeout=5).read().decode()
            except OSError:
                time.sleep(0.2)
        assert "Email me a sign-in link" in page
        assert (tmp_path / "mailflow.db").exists()  # the daemon ran its cycle too
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err[-2000:]


def test_hostile_urls_and_addresses_get_a_clear_answer(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    client.post("/signin", data={"email": "a b\r\nBcc: x@evil.example@firm.example"})
    client.post("/signin", data={"email": "x@evil.example@firm.example"})
    assert world.smtp.messages == []  # no address, no email: the pattern's domain is not enough
    sign_in(world, client, "alice@firm.example")
    assert client.get("/referrals?page=" + "9" * 30).status_code == 200  # not an overflow
    assert client.get("/referrals/" + "9" * 30).status_code == 404
    assert client.get("/referrals/-1").status_code == 404


def test_a_rate_limit_remembers_a_bounded_number_of_keys_in_constant_time() -> None:
    """Found in review: 10,000 keys all inside the window could not be pruned, and each
    further key rebuilt the whole table. Now the quietest key is forgotten at once."""
    import time
    from datetime import UTC, datetime

    from mailflow.web.auth import MAX_TRACKED, RateLimit
    limit = RateLimit(1, timedelta(minutes=15))
    start = datetime(2026, 11, 24, tzinfo=UTC)

    def fill(count: int, prefix: str) -> float:
        began = time.perf_counter()
        for n in range(count):
            assert limit.allow(f"{prefix}{n}", start)
        return time.perf_counter() - began

    fill(MAX_TRACKED, "k")
    assert not limit.allow("k5", start)  # the limit itself holds
    small = fill(MAX_TRACKED // 4, "a")
    large = fill(MAX_TRACKED, "b")  # 4x the keys, every one beyond the bound
    assert len(limit._seen) == MAX_TRACKED
    assert large < small * 12, (small, large)  # linear (4x), not quadratic (16x and more)
    assert limit.allow("k5", start)  # the quiet old key was forgotten
