"""A scripted quarter: intros, replies, closes and referrals back, through `run --once`.

Checks the ledger (`partners --json`), the digest and `report --html`; the report is
rendered in a real headless Chromium to a screenshot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailflow.cli.parser import main
from mailflow.core.parse import parse_message

LON = ZoneInfo("Europe/London")
START = datetime(2026, 9, 7, 9, 0, tzinfo=LON)  # a Monday
CONFIG = """\
tracker: referrals@firm.example
timezone: Europe/London
maildir: mail
outbox_dir: outbox
referrers: ["*@firm.example"]
partners:
  - {email: bob@law.example, name: Bob Smith, niche: estate planning}
  - {email: carol@tax.example, name: Carol Jones, niche: cross-border tax}
  - {email: dan@it.example, name: Dan Brown, niche: small-office IT}
workflow: {catch_up_after_days: 60, slow_contact_hours: 48}
"""


class Quarter:
    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root, self.capsys, self.count = root, capsys, 0
        (root / "mailflow.yaml").write_text(CONFIG)
        for sub in ("new", "cur", "tmp"):
            (root / "mail" / sub).mkdir(parents=True, exist_ok=True)

    def at(self, day: int, hour: int = 10) -> datetime:
        return START + timedelta(days=day, hours=hour - 9)

    def mail(self, day: int, sender: str, to: str, subject: str, body: str,
             cc: str = "referrals@firm.example", reply_to: str | None = None,
             hour: int = 10) -> str:
        self.count += 1
        message_id = f"q{self.count}@people.example"
        when = self.at(day, hour).strftime("%a, %d %b %Y %H:%M:%S %z")
        lines = [f"From: {sender}", f"To: {to}", *([f"Cc: {cc}"] if cc else []),
                 f"Subject: {subject}", f"Date: {when}", f"Message-ID: <{message_id}>"]
        if reply_to:
            lines.append(f"In-Reply-To: <{reply_to}>")
        raw = "\r\n".join(lines) + "\r\n\r\n" + body + "\r\n"
        (self.root / "mail" / "new" / f"{self.count:04d}").write_text(raw)
        self.run(day, hour)
        return message_id

    def run(self, day: int, hour: int = 10) -> None:
        now = self.at(day, hour).isoformat()
        assert main(["--config", str(self.root / "mailflow.yaml"), "run", "--once",
                     "--now", now]) == 0
        self.capsys.readouterr()

    def cli(self, *args: str) -> str:
        self.capsys.readouterr()
        assert main(["--config", str(self.root / "mailflow.yaml"), *args]) == 0
        return self.capsys.readouterr().out

    def intro(self, day: int, client: str, partner: str) -> str:
        return self.mail(day, "Alice Adams <alice@firm.example>", f"{client}, {partner}",
                         f"Intro: {client} / {partner}", "You two should talk.")

    def reply(self, day: int, sender: str, intro_id: str, body: str, hour: int = 11) -> None:
        self.mail(day, sender, "referrals@firm.example", "Re: intro", body, cc="",
                  reply_to=intro_id, hour=hour)


def play(q: Quarter) -> None:
    """Bob: 3 given (fast, 2 won), refers 1 back. Carol: 3 given (slow), never refers back."""
    b1 = q.intro(0, "c1@x.example", "bob@law.example")
    q.reply(0, "bob@law.example", b1, "Contacted, call booked.", hour=12)
    c1 = q.intro(1, "c2@x.example", "carol@tax.example")
    q.reply(4, "carol@tax.example", c1, "Contacted at last.")
    d1 = q.intro(2, "c3@x.example", "dan@it.example")
    q.reply(2, "dan@it.example", d1, "Called them.", hour=14)
    q.reply(15, "bob@law.example", b1, "Won - engagement signed.")
    b2 = q.intro(21, "c4@x.example", "bob@law.example")
    q.reply(21, "bob@law.example", b2, "Contacted.", hour=15)
    c2 = q.intro(22, "c5@x.example", "carol@tax.example")
    q.reply(25, "carol@tax.example", c2, "Contacted.")
    q.reply(30, "c5@x.example", c2, "rating 2")
    q.reply(40, "carol@tax.example", c2, "Lost - not a fit.")
    q.reply(45, "bob@law.example", b2, "Won!")
    c3 = q.intro(50, "c6@x.example", "carol@tax.example")
    q.reply(53, "carol@tax.example", c3, "Contacted.")
    q.intro(60, "c7@x.example", "bob@law.example")
    # Bob refers a client back: Alice forwards his intro to the +received address
    q.mail(62, "Alice Adams <alice@firm.example>", "referrals+received@firm.example",
           "Fwd: Intro from Bob", "Bob sent me one!\r\n\r\n---------- Forwarded message "
           "---------\r\nFrom: Bob Smith <bob@law.example>\r\nTo: Alice Adams "
           "<alice@firm.example>, Zed <zed@y.example>\r\nSubject: Zed / Alice\r\n\r\nAlice, "
           "meet Zed.", cc="")
    q.run(91)


def test_scripted_quarter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = Quarter(tmp_path, capsys)
    play(q)
    rows = {r["email"]: r for r in json.loads(q.cli("partners", "--json"))}
    bob, carol, dan = rows["bob@law.example"], rows["carol@tax.example"], rows["dan@it.example"]
    assert (bob["given"], bob["received"], bob["won"], bob["open"]) == (3, 1, 2, 1)
    assert (carol["given"], carol["received"], carol["won"], carol["lost"]) == (3, 0, 0, 1)
    assert (dan["given"], dan["received"]) == (1, 0)
    assert "never-refers-back" in carol["flags"] and "never-refers-back" not in bob["flags"]
    assert "slow-to-contact" in carol["flags"] and "slow-to-contact" not in bob["flags"]
    assert "catch-up" in dan["flags"]  # nothing from Dan since day 2
    assert carol["ratings"] == [2] and carol["average_rating"] == 2
    # the ledger as people read it: a table with lost, done and the mean rating
    table = q.cli("partners").splitlines()
    assert table[0].split() == ["PARTNER", "NAME", "NICHE", "GIVEN", "RECEIVED", "WON", "LOST",
                                "DONE", "CONTACT", "(H)", "RATING", "FLAGS"]
    carol_line = next(line for line in table if line.startswith("carol@tax.example"))
    assert " 2.0 " in carol_line
    # the weekly digest went out, and says the same
    # (alone, or in one email with the day's other mail to Alice)
    emails = [parse_message(p.read_bytes()) for p in (tmp_path / "outbox").glob("*.eml")]
    digests = sorted((m for m in emails if "Your referrals this week" in m.subject),
                     key=lambda m: m.date or START)
    assert len(digests) >= 4  # weekly, on the days a cycle ran
    last = digests[-1]
    assert "never-refers-back" in last.text and "Carol Jones" in last.text
    assert last.html is not None and "<table" in last.html and "<script" not in last.html
    assert 'class="rating">2.0<' in last.html and 'class="lost">1<' in last.html
    # one bar per non-zero count, scaled to the largest; the legend names only bars drawn
    with_received = [r for r in rows.values() if r["received"]]
    assert last.html.count('class="bar-received"') == len(with_received) == 1
    assert last.html.count('class="bar-given"') == len([r for r in rows.values() if r["given"]])
    assert "width:80px" in last.html and "width:26px" in last.html  # Bob: 3 given, 1 received
    assert "Green bars" in last.html and "Blue bars" in last.html
    # the on-demand report, rendered in a real browser
    html = tmp_path / "report.html"
    assert "Partner ledger" in q.cli("report", "--html", str(html))
    screenshot(html, tmp_path / "report.png")


def screenshot(html: Path, png: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("MAILFLOW_REQUIRE_DOVECOT") == "1":
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    # as root, in a closed network: no sandbox, no background connections, a fresh profile
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage",
             f"--user-data-dir={png.parent / 'chromium-profile'}"]
    done = subprocess.run([*flags, "--hide-scrollbars", f"--screenshot={png}",
                           "--window-size=900,700", html.as_uri()], capture_output=True,
                          timeout=120, check=False)
    assert png.exists() and png.stat().st_size > 5000, done.stderr[-2000:]
    dom = subprocess.run([*flags, "--dump-dom", html.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert 'id="ledger"' in dom and "Carol Jones" in dom and "Bob Smith" in dom
