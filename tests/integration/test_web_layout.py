"""Every page in a real Chromium at 1280 and 390 px: nothing scrolls sideways, and axe-core
finds nothing serious or critical. Screenshots of each page at both widths are kept in
$MAILFLOW_SCREENSHOTS (else a temp dir, printed) for CI to keep as artefacts.

axe-core comes from npm (`.ci/run` installs it under .cache/axe); $MAILFLOW_AXE may point
at another axe.min.js. In CI (MAILFLOW_REQUIRE_DOVECOT=1) a missing axe-core fails.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mailflow.app.wiring import App
from tests.integration.test_web_browser import _sign_in, browser, served
from tests.integration.web_world import WebWorld, web_world

__all__ = ["browser", "served", "web_world"]
pytestmark = pytest.mark.smtp
WIDTHS = {"wide": (1280, 900), "phone": (390, 844)}
AXE = Path(os.environ.get("MAILFLOW_AXE") or Path(__file__).parents[2] / ".cache" / "axe"
           / "node_modules" / "axe-core" / "axe.min.js")


def _shots() -> Path:
    where = Path(os.environ.get("MAILFLOW_SCREENSHOTS")
                 or Path(tempfile.gettempdir()) / "mailflow-web-screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


def _axe() -> str:
    if not AXE.is_file():
        if os.environ.get("MAILFLOW_REQUIRE_DOVECOT") == "1":
            pytest.fail(f"axe-core is required in CI: {AXE} is missing "
                        "(npm install --prefix .cache/axe axe-core@4)")
        pytest.skip(f"axe-core is not installed at {AXE}")
    return AXE.read_text(encoding="utf-8")


def _pages(app: App) -> dict[str, str]:
    """Every page a person can reach: one of each kind."""
    referral = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    return {"referrals": "/referrals", "referral": f"/referrals/{referral.id}",
            "partners": "/partners", "ledger": "/ledger",
            "ledger-quarter": "/ledger?period=quarter", "outbox": "/outbox",
            "status": "/status", "firm": "/firm", "sessions": "/sessions",
            "people": "/people", "person": "/people?email=jane@gmail.com",
            "not-found": "/nowhere"}


PENDING: set[tuple[str, str]] = set()  # (page, axe rule) findings not fixed yet: none


def _worst(page: Any, source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page, one line each."""
    page.evaluate(source)
    found = page.evaluate("async () => (await axe.run(document)).violations.map(v => ({"
                          "id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target"
                          ".join(' ')).slice(0, 3)}))")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def _check(page: Any, name: str, width: str, axe: str) -> list[str]:
    problems = []
    scroll = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll[0] > scroll[1]:
        problems.append(f"{name} at {width}: {scroll[0]} px wide in a {scroll[1]} px window")
    inside = page.evaluate("""() => {
        const header = document.querySelector('header');
        if (!header) return true;
        const outer = header.getBoundingClientRect();
        return [...header.querySelectorAll('a, span, button')].every(e => {
            const r = e.getBoundingClientRect();
            return r.left >= outer.left && r.right <= outer.right && r.top >= outer.top
                && r.bottom <= outer.bottom;
        });
    }""")
    if not inside:
        problems.append(f"{name} at {width}: something sticks out of the header")
    page.screenshot(path=str(_shots() / f"{name}-{width}.png"), full_page=True)
    problems += [f"{name} at {width}: {json.dumps(v)}" for v in _worst(page, axe)
                 if (name, v["id"]) not in PENDING]
    return problems


@pytest.fixture
def busy(served: tuple[WebWorld, App, str]) -> Iterator[tuple[WebWorld, App, str]]:
    """The served world with what the pages must also show: a snoozed referral, a rating,
    a long unbroken subject, a long partner name."""
    world, app, base = served
    referrals = app.store.referrals()
    app.store.update_referral(referrals[1].id, snoozed_until=world.now() + timedelta(days=9))
    app.store.update_referral(referrals[0].id, rating=4,
                              subject="Jane / Bob: " + "estate-planning-" * 8)
    yield world, app, base


def test_every_page_fits_a_phone_and_a_desk_and_axe_finds_nothing_serious(  # type: ignore[no-untyped-def]
        busy, browser) -> None:
    world, app, base = busy
    axe = _axe()
    problems: list[str] = []
    for width, (w, h) in WIDTHS.items():
        # axe is injected as a script: the site's CSP (rightly) forbids that, so only here
        context = browser.new_context(viewport={"width": w, "height": h}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{base}/signin")
        problems += _check(page, "signin", width, axe)
        _sign_in(page, world, base, "ops@firm.example")
        for name, path in _pages(app).items():
            page.goto(f"{base}{path}")
            problems += _check(page, name, width, axe)
        context.close()
    print(f"screenshots in {_shots()}")
    assert problems == [], "\n".join(problems)
