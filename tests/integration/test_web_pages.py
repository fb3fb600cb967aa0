"""What the referrer's pages say (Starlette's TestClient): plain words, search kept across
pages, the one stale rule, readable charts, the outbox's subjects and the firm view."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from mailflow.core.wording import EMAILS, EVENTS, STATUSES
from tests.integration.test_web import sign_in, site
from tests.integration.web_world import web_world

__all__ = ["site", "web_world"]
pytestmark = pytest.mark.smtp
CODES = re.compile(r"\b(" + "|".join(re.escape(c) for c in
                                     sorted({*EMAILS, *EVENTS, *STATUSES}, key=len)[::-1]
                                     if "_" in c or "-" in c) + r")\b")


def _text(page: str) -> str:
    """What a person reads: the page without its tags, attributes, and the stylesheet."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_no_code_name_reaches_the_screen(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    sign_in(world, client, "ops@firm.example")
    for path in ("/referrals", "/outbox", "/ledger", "/status", "/firm",
                 "/referrals?status=needs_partner", "/people?email=jane@gmail.com"):
        shown = _text(client.get(path).text)
        assert not CODES.findall(shown), (path, CODES.findall(shown))


def test_the_search_is_kept_across_pages(site, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    monkeypatch.setattr("mailflow.web.app.PAGE_SIZE", 1)
    sign_in(world, client, "alice@firm.example")
    for referral in app.store.referrals()[:2]:
        app.store.update_referral(referral.id, subject=f"R&D tax relief {referral.id}")
    first = client.get("/referrals", params={"q": "R&D", "status": "open"}).text
    assert "2 referrals" in first
    none = client.get("/referrals", params={"q": "nobody at all"}).text
    assert "No referral matches" in none and '<table id="referrals"' not in none
    later = html.unescape(re.search(r'href="([^"]+)" id="next"', first).group(1))  # type: ignore[union-attr]
    second = client.get(f"/referrals{later}").text
    assert "2 referrals" in second and 'value="R&amp;D"' in second
    assert "R&amp;D tax relief" in second and 'id="earlier"' in second


def test_a_snoozed_referral_is_not_stale(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    world.clock[0] += timedelta(days=15)
    sign_in(world, client, "alice@firm.example")
    snoozed = app.store.referrals()[0]
    app.store.update_referral(snoozed.id, snoozed_until=world.now() + timedelta(days=3))
    rows = client.get("/referrals").text.split('<tr class="referral">')[1:]
    stale = {re.search(r">(R-\d+)<", r).group(1): "stale" in r for r in rows}  # type: ignore[union-attr]
    assert stale == {"R-1": False, "R-2": True, "R-3": True}
    assert "snoozed until" in rows[0]


def test_the_ledger_writes_values_draws_missing_as_missing_and_names_what_is_drawn(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    sign_in(world, client, "alice@firm.example")
    bob = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    app.store.update_referral(bob.id, rating=4)
    page = client.get("/ledger").text
    given = page.split('id="given-received"')[1].split("</svg>")[0]
    values = re.findall(r'<text class="value"[^>]*>([^<]+)</text>', given)
    assert values == ["2 given", "0 received", "1 given", "0 received"]
    assert re.findall(r'<text class="tick"[^>]*>([^<]+)</text>', given) == ["0", "1", "2"]
    legend = page.split('id="given-received"')[1].split("<h2>")[0]
    assert "sent back by the partner" not in legend  # nothing received: no green in the legend
    ratings = page.split('id="ratings"')[1].split("<h2>")[0]
    assert 'class="bar rating missing"' in ratings and "no rating yet" in ratings
    assert re.search(r'data-partner="Bob Smith" data-value="4(\.0)?"', ratings)
    assert 'data-partner="Carol Jones" data-value=""' in ratings  # missing, not zero
    assert 'viewBox="0 0 ' in given and "<title" in given
    assert "None closed in this period." in page  # not three bars of zero


def test_the_ledger_period_counts_only_referrals_made_in_it(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    world.clock[0] += timedelta(days=60)  # late January: a new quarter and a new year
    sign_in(world, client, "alice@firm.example")
    quarter = client.get("/ledger?period=quarter").text
    assert "No referrals in this period" in quarter and "since Fri 01 Jan 2027" in quarter
    assert 'aria-current="page">This quarter' in quarter
    everything = client.get("/ledger?period=nonsense").text
    assert 'aria-current="page">All time' in everything and "Bob Smith" in everything


def test_the_charts_draw_the_partners_with_most_referrals_the_table_all(  # type: ignore[no-untyped-def]
        site, monkeypatch) -> None:
    world, _, client = site
    sign_in(world, client, "alice@firm.example")
    whole = client.get("/ledger").text
    assert 'id="charted"' not in whole  # two partners: both drawn, nothing to explain
    monkeypatch.setattr("mailflow.web.ledger_view.CHART_PARTNERS", 1)
    page = client.get("/ledger").text
    for chart in ("given-received", "contact", "ratings"):
        drawn = set(re.findall(r'data-partner="([^"]+)"', page.split(f'id="{chart}"')[1]
                                                          .split("</svg>")[0]))
        assert drawn == {"Bob Smith"}, chart  # two referrals given, Carol Jones one
    outcomes = page.split('id="outcomes"')[1].split("</svg>")[0]
    assert outcomes == whole.split('id="outcomes"')[1].split("</svg>")[0]  # every partner's
    note = _text(page.split('id="charted"')[1].split("</p>")[0])
    assert "draw the 1 partners with the most referrals" in note and "lists all 2" in note
    table = page.split('id="ledger"')[1]
    assert "Bob Smith" in table and "Carol Jones" in table


def test_the_outbox_shows_a_subject_plain_words_and_local_times(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    sign_in(world, client, "alice@firm.example")
    page = client.get("/outbox").text
    shown = _text(page)
    assert "Partner checkin" not in shown and "partner_checkin" not in page
    assert "Partner check-in" in shown and "7 days after the intro, unless it was closed" in shown
    assert "Times are Europe/London" in shown


def test_a_referrals_emails_say_when_they_go_in_plain_words(site) -> None:  # type: ignore[no-untyped-def]
    world, app, client = site
    sign_in(world, client, "alice@firm.example")
    jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
    shown = _text(client.get(f"/referrals/{jane.id}").text)
    assert "1 business day after the intro, unless contact was seen or it was closed" in shown
    assert "business days after intake" not in shown and "1 business days" not in shown


def test_the_outbox_never_previews_a_sign_in_link(site) -> None:  # type: ignore[no-untyped-def]
    import json

    from mailflow.adapters.store import OutboxRow
    from mailflow.web.outbox_view import outbox_subject
    row = OutboxRow(1, 0, "signin", "a@firm.example", world_now(), "pending", 0, None, None, "",
                    json.dumps({"subject": "Sign in to mailflow",
                                "text": "http://x/auth?t=secret"}), "signin")
    assert outbox_subject(row) == {"subject": "Sign in to mailflow", "preview": ""}
    digest = OutboxRow(2, 0, "digest", "a@firm.example", world_now(), "pending", 0, None, None,
                       "", json.dumps({"subject": "Your week", "text": "Hi,\n\n  R-1 open"}),
                       "digest")
    assert outbox_subject(digest) == {"subject": "Your week", "preview": "Hi, R-1 open"}
    step = OutboxRow(3, 1, "feedback_request", "b@x.example", world_now(), "pending", 0, None,
                     None, "")
    assert outbox_subject(step)["subject"] == "Feedback request"


def world_now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime
    return datetime(2026, 11, 24, tzinfo=UTC)


def test_the_firm_view_is_for_the_admin_alone(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    sign_in(world, client, "alice@firm.example")
    assert client.get("/firm").status_code == 404
    from starlette.testclient import TestClient
    admin = TestClient(client.app, base_url="http://mailflow.test")
    sign_in(world, admin, "ops@firm.example")
    page = admin.get("/firm").text
    rows = [_text(r).split() for r in page.split('<tr class="referrer">')[1:]]
    assert [r[:4] for r in rows] == [["alice@firm.example", "3", "0", "0"],
                                     ["zoe@firm.example", "1", "0", "0"]]
    assert "no contact yet" in page


def test_the_stylesheet_is_served_and_no_page_carries_inline_style(site) -> None:  # type: ignore[no-untyped-def]
    world, _, client = site
    css = client.get("/static/site.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "@media" in css.text
    assert "<style" not in client.get("/signin").text
    sign_in(world, client, "ops@firm.example")
    for path in ("/referrals", "/ledger", "/outbox", "/status", "/firm"):
        page = client.get(path).text
        assert "<style" not in page and " style=" not in page, path
        assert '<link rel="stylesheet" href="/static/site.css">' in page
