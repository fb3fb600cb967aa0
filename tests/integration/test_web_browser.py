"""The web view in a real browser: Playwright driving Debian's chromium against uvicorn.

Sign in through the link aiosmtpd captured, list and filter, close a referral and see
the thank-yous queued, correct a partner, add a partner, read the ledger's SVG. A
screenshot of every page goes to a temp dir (printed) for a look afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from mailflow.app.wiring import App
from mailflow.core.charts import MARGIN, VALUE_ROOM, WIDTH
from tests.integration.web_world import WebWorld, web_world

__all__ = ["web_world"]
pytestmark = pytest.mark.smtp
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
SHOTS = Path(tempfile.gettempdir()) / "mailflow-web-screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("MAILFLOW_REQUIRE_DOVECOT") == "1":
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return found


@pytest.fixture
def served(web_world: WebWorld) -> Iterator[tuple[WebWorld, App, str]]:
    app = web_world.app()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(web_world.serve(app, f"http://127.0.0.1:{port}"),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield web_world, app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright
    executable = _chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        yield launched
        launched.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: Any, world: WebWorld, base: str, email: str) -> None:
    page.goto(f"{base}/signin")
    page.fill("input[name=email]", email)
    page.click("text=Email me a sign-in link")
    assert "Check your inbox" in page.inner_text("#check-inbox")
    link = world.links_to(email)[-1]
    page.goto(link)  # a page with a button: opening the link uses nothing up
    page.click("#sign-in")


def test_a_referrer_works_through_the_site_in_chromium(served, browser) -> None:  # type: ignore[no-untyped-def]
    world, app, base = served
    page = browser.new_page()
    _sign_in(page, world, base, "alice@firm.example")
    assert page.url.endswith("/referrals")
    assert page.locator("tr.referral").count() == 3
    _shot(page, "referrals")

    page.select_option("select[name=status]", "open")
    page.fill("input[name=q]", "Tom")
    page.click("text=Filter")
    assert page.locator("tr.referral").count() == 1
    page.click("text=R-2")
    assert "Tom / Carol" in page.inner_text("h1")
    _shot(page, "referral")

    page.select_option("select[name=outcome]", "won")
    page.click("#close")
    assert "closed (won)" in page.inner_text("#status")
    pending = page.locator("tr.email.pending").all_inner_texts()
    assert any("partner thank-you" in row for row in pending)
    assert any("client thank-you" in row for row in pending)
    tom = next(r for r in app.store.referrals() if r.client == "tom@bakery.example")
    assert app.store.referral(tom.id).status.value == "closed"

    guessed = next(r for r in app.store.referrals() if "other way" in r.subject)
    page.goto(f"{base}/referrals/{guessed.id}")
    page.click("#swap")
    assert app.store.referral(guessed.id).partner == "dan@it.example"

    page.goto(f"{base}/partners")
    page.fill("#partner-form input[name=email]", "nina@notary.example")
    page.fill("#partner-form input[name=name]", "Nina <b>Notary</b>")
    page.fill("#partner-form input[name=niche]", "notary")
    page.click("#add-partner")
    assert "Nina <b>Notary</b>" in page.inner_text("#partners")  # shown as text, not markup
    assert app.store.find_partner("nina@notary.example") is not None
    _shot(page, "partners")

    page.goto(f"{base}/ledger")
    bars = page.locator("#given-received rect.given")
    widths = {bars.nth(i).get_attribute("data-partner"): float(bars.nth(i).get_attribute(
        "width") or 0) for i in range(bars.count())}
    # Bob lost the swapped one to Dan: one each
    plot = WIDTH - 2 * MARGIN - VALUE_ROOM
    assert widths == {"Bob Smith": plot, "Carol Jones": plot, "dan@it.example": plot}
    box = bars.nth(0).bounding_box()
    whole = page.locator("#given-received").bounding_box()
    assert box is not None and whole is not None  # really drawn, in proportion to the chart
    assert box["width"] / whole["width"] == pytest.approx(plot / WIDTH, abs=0.01)
    _shot(page, "ledger")
    page.goto(f"{base}/outbox")
    _shot(page, "outbox")
    page.close()


def test_a_second_referrer_sees_none_of_the_firsts(served, browser) -> None:  # type: ignore[no-untyped-def]
    world, app, base = served
    page = browser.new_page()
    _sign_in(page, world, base, "zoe@firm.example")
    assert page.locator("tr.referral").all_inner_texts() == [
        t for t in page.locator("tr.referral").all_inner_texts() if "max@shop.example" in t]
    assert page.locator("tr.referral").count() == 1
    alices = next(r for r in app.store.referrals() if r.referrer == "alice@firm.example")
    response = page.goto(f"{base}/referrals/{alices.id}")
    assert response is not None and response.status == 404
    admin = browser.new_page()
    _sign_in(admin, world, base, "ops@firm.example")
    admin.goto(f"{base}/status")
    assert admin.locator("#status").count() == 1
    _shot(admin, "status")
    page.close()
    admin.close()


def test_enter_in_any_field_does_only_that_forms_own_action(served, browser) -> None:  # type: ignore[no-untyped-def]
    """Pressing Enter in the snooze box once closed the referral (the first button)."""
    world, app, base = served
    page = browser.new_page()
    _sign_in(page, world, base, "alice@firm.example")
    jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    page.goto(f"{base}/referrals/{jane.id}")
    page.fill("#days", "3")
    page.press("#days", "Enter")
    page.wait_for_selector("#message")
    after = app.store.referral(jane.id)
    assert after.status is jane.status and after.snoozed_until is not None
    assert "snoozed until" in page.inner_text("#message")
    for form in page.locator("form").all():  # every text input submits its own form only
        assert form.locator("button").count() >= 1
        actions = form.locator("input[name=action]").all()
        assert len(actions) <= 1
    page.goto(f"{base}/partners")
    page.fill("#partner-form input[name=email]", "olga@audit.example")
    page.press("#partner-form input[name=email]", "Enter")
    page.wait_for_selector("#message")
    assert app.store.find_partner("olga@audit.example") is not None
    page.click("tr.partner:has-text('olga@audit.example') a.edit")
    page.fill("#edit-form input[name=niche]", "audit")
    page.press("#edit-form input[name=niche]", "Enter")
    page.wait_for_selector("#message")
    olga = app.store.find_partner("olga@audit.example")
    assert olga is not None and olga.niche == "audit"
    page.close()


def test_close_then_undo_in_the_browser(served, browser) -> None:  # type: ignore[no-untyped-def]
    world, app, base = served
    page = browser.new_page()
    _sign_in(page, world, base, "alice@firm.example")
    jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    page.goto(f"{base}/referrals/{jane.id}")
    page.click("#close")
    assert "closed (done)" in page.inner_text("#status")
    assert "thank" in page.inner_text("#message")
    page.click("#undo")
    assert app.store.referral(jane.id).status is jane.status
    assert "closed" not in page.inner_text("#status")
    page.close()


def test_another_site_cannot_frame_a_signed_in_page(served, browser) -> None:  # type: ignore[no-untyped-def]
    import http.server

    world, app, base = served
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, world, base, "alice@firm.example")
    jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    framing = (f'<iframe id="f" src="{base}/referrals/{jane.id}" width="800" height="600">'
               "</iframe>").encode()

    class Framer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(framing)

        def log_message(self, *args: Any) -> None:
            pass

    evil = http.server.HTTPServer(("127.0.0.1", 0), Framer)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        framed = [f for f in page.frames if f != page.main_frame]
        assert framed and all(not f.url.startswith(base) for f in framed)
        assert all("Close" not in (f.content() if not f.is_detached() else "")
                   for f in framed if f.url.startswith("http"))
    finally:
        evil.shutdown()
        evil.server_close()
        context.close()
