"""`mailflow demo`: four weeks of referrals on a local Maildir and a file outbox, in seconds.

The story runs the real cycle (the same code as `run --once`) with a simulated
clock; the emails people send are dropped into the Maildir as time passes.
"""

from __future__ import annotations

import email.utils
import shutil
import tempfile
import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mailflow.adapters.maildir_mailbox import ensure_maildir
from mailflow.app.cycle import run_cycle
from mailflow.app.readers import party_languages
from mailflow.app.wiring import build_app
from mailflow.cli.views import referral_line
from mailflow.config import load_config
from mailflow.core.languages import NAMES
from mailflow.core.wording import EMAILS, event_name, step_name, step_purpose
from mailflow.errors import UsageError

ZONE = ZoneInfo("Europe/London")
START = datetime(2026, 11, 2, 8, 0, tzinfo=ZONE)  # a Monday
DAYS = 28
CONFIG = """\
tracker: referrals@firm.example
database: mailflow.db
timezone: Europe/London
maildir: mail
outbox_dir: outbox
referrers: ["*@firm.example"]
partners:
  - {email: bob@law.example, name: Bob Smith, niche: estate planning}
  - {email: carol@tax.example, name: Carol Jones, niche: cross-border tax}
  - {email: dan@it.example, name: Dan Brown, niche: small-office IT}
  - {email: erin@wealth.example, name: Erin King, niche: wealth management}
  - {email: klaus@steuer.example, name: Klaus Weber, niche: German tax, language: de,
     timezone: Europe/Berlin}
"""
ALICE = '"Alice Adams" <alice@firm.example>'
DEMO_REFERRER = "alice@firm.example"  # `demo --web` signs her in
TRACKER = "referrals@firm.example"


@dataclass(frozen=True)
class Mail:
    """One email a person sends during the story."""

    day: float  # days after START (fractions are hours)
    sender: str
    to: str
    subject: str
    body: str
    cc: str = TRACKER
    reply_to_id: str | None = None
    message_id: str = ""


def _intro(day: float, n: int, client: str, partner: str, subject: str, body: str) -> Mail:
    return Mail(day, ALICE, f"{client}, {partner}", subject, body,
                message_id=f"intro{n}@firm.example")


STORY = [
    _intro(0.06, 1, '"Jane Doe" <jane.doe@gmail.com>', '"Bob Smith" <bob@law.example>',
           "Introduction: Jane Doe / Bob Smith (estate planning)",
           "Jane, meet Bob: he is the best estate planner I know.\nBob, Jane is updating her "
           "will after selling her business. I'll let you two take it from here.\n\nAlice"),
    Mail(0.12, '"Bob Smith" <bob@law.example>', "jane.doe@gmail.com, alice@firm.example",
         "Re: Introduction: Jane Doe / Bob Smith (estate planning)",
         "Thanks Alice! Jane, lovely to meet you. Are you free Thursday for a call?\n\n"
         "On Mon, Alice Adams wrote:\n> Jane, meet Bob", reply_to_id="intro1@firm.example",
         message_id="bob1@law.example"),
    _intro(0.08, 2, '"Tom Baker" <tom@bakery.example>', '"Carol Jones" <carol@tax.example>',
           "Intro: Tom (bakery, moving to Spain) / Carol",
           "Tom, Carol handles cross-border tax and is excellent.\nCarol, Tom is opening a "
           "second bakery in Valencia next year.\n\nBest, Alice"),
    _intro(1.1, 3, '"Priya Shah" <priya@studio.example>', '"Dan Brown" <dan@it.example>',
           "Priya / Dan — office IT", "Priya, Dan set up our office network.\nDan, Priya's "
           "design studio needs backups sorted before year end.\n\nAlice"),
    _intro(2.1, 4, '"Mark Lee" <mark@lee-family.example>', '"Erin King" <erin@wealth.example>',
           "Mark Lee — Erin King", "Mark, Erin is the wealth manager I mentioned.\nErin, Mark "
           "has a pension question.\n\nAlice"),
    Mail(2.3, '"Dan Brown" <dan@it.example>', TRACKER, "Re: [R-3] How referrals work",
         "Contacted — we have a call booked for Friday.\n\nOn Tue, mailflow wrote:\n> Reply "
         "\"contacted\" once you've been in touch, \"done\" when finished.",
         reply_to_id="intro3@firm.example", cc=""),
    _intro(3.1, 5, '"Sam Green" <sam@green.example>', '"Ruth Hall" <ruth@hall-law.example>',
           "Sam and Ruth", "Sam, Ruth; Ruth, Sam. You two should talk about the lease.\n\nA."),
    Mail(3.3, ALICE, TRACKER, "Re: [R-5] Which of these is the partner?",
         "2\n\n> Reply with the number or the address", reply_to_id="r5.partner_question"
         ".1@mailflow.firm.example", cc=""),
    Mail(4.2, '"Carol Jones" <carol@tax.example>', TRACKER, "Re: [R-2] Quick nudge",
         "Sorry for the delay, I was travelling. Contacted Tom this morning — all good.\n\n"
         "> Reply with one word: contacted, won, lost, done", reply_to_id="intro2@firm.example",
         cc=""),
    Mail(9.2, '"Erin King" <erin@wealth.example>', TRACKER, "Re: [R-4] How is it going?",
         "Lost - not a fit, Mark needs a pensions broker rather than a planner.\n\n"
         "> Reply \"done\" when finished", reply_to_id="intro4@firm.example", cc=""),
    Mail(8.3, '"Priya Shah" <priya@studio.example>', TRACKER, "Re: [R-3] Did Dan get in touch?",
         "Rating 5 — Dan was brilliant, backups are done.\n\n> Reply with a rating",
         reply_to_id="r3.client_checkin.1@mailflow.firm.example", cc=""),
    Mail(11.2, '"Carol Jones" <carol@tax.example>', TRACKER, "Re: [R-2] How is it going?",
         "Won! Tom signed up for the full Spanish setup.\nneed: Tom will need a Spanish "
         "property lawyer too.", reply_to_id="intro2@firm.example", cc=""),
    Mail(15.1, '"Dan Brown" <dan@it.example>', TRACKER, "Re: [R-3] How is it going?",
         "Done, thanks Alice.\n\n-- \nDan Brown, Brown IT", reply_to_id="intro3@firm.example",
         cc=""),
    _intro(7.06, 6, '"Lucía García" <lucia@correo.example>',
           '"Klaus Weber" <klaus@steuer.example>', "Presentación: Lucía García / Klaus Weber",
           "Estimada Lucía, le presento a Klaus Weber, asesor fiscal en Berlín, que conoce muy "
           "bien la fiscalidad entre España y Alemania.\nKlaus, Lucía va a abrir una filial de "
           "su empresa en Múnich el año que viene.\n\nUn saludo,\nAlice"),
    Mail(10.3, '"Klaus Weber" <klaus@steuer.example>', TRACKER,
         "AW: [R-6] Presentación: Lucía García / Klaus Weber",
         "Erledigt, vielen Dank! Frau García ist jetzt unsere Mandantin.\n\nAm 09.11.2026 "
         "schrieb mailflow:\n> Bitte antworten Sie mit einem Wort",
         reply_to_id="intro6@firm.example", cc=""),
    Mail(21.2, '"Bob Smith" <bob@law.example>', TRACKER, "Re: [R-1] How did it turn out?",
         "Done. Will signed last week; thank you for thinking of me.\n\nOn Mon, mailflow "
         "wrote:\n> Reply \"won\", \"lost\" or \"done\"", reply_to_id="intro1@firm.example",
         cc=""),
]


def _deliver(maildir: Path, mail: Mail, at: datetime, counter: int) -> None:
    headers = [f"From: {mail.sender}", f"To: {mail.to}"]
    if mail.cc:
        headers.append(f"Cc: {mail.cc}")
    message_id = mail.message_id or f"demo{counter}@people.example"
    headers += [f"Subject: {mail.subject}", f"Date: {email.utils.format_datetime(at)}",
                f"Message-ID: <{message_id}>", "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=utf-8"]
    if mail.reply_to_id:
        headers += [f"In-Reply-To: <{mail.reply_to_id}>", f"References: <{mail.reply_to_id}>"]
    raw = "\r\n".join(headers) + "\r\n\r\n" + mail.body.replace("\n", "\r\n") + "\r\n"
    (maildir / "new" / f"{counter:04d}.demo").write_bytes(raw.encode())


def _describe(actor: str, detail: str) -> str:
    """Event detail for the timeline, with what each email is for."""
    step, _, rest = detail.partition(" to ")
    if step in EMAILS and rest:
        return f"{step_name(step)} to {rest} ({step_purpose(step)})"
    return f"{actor}: {detail}"


def _timeline_line(at: datetime, kind: str, tag: str, text: str) -> str:
    """One timeline entry; long text wraps under itself, never cut mid-word."""
    head = f"{at.astimezone(ZONE):%a %d %b %H:%M}  {kind:<16} {tag:<5} "
    return textwrap.fill(" ".join(text.split()), width=100, initial_indent=head,
                         subsequent_indent=" " * len(head), break_long_words=False,
                         break_on_hyphens=False)


def _prepare(keep: Path, force: bool) -> None:
    """`--keep DIR`: a new or empty directory, or (with --force) one with other files;
    never a file, and never someone else's mailflow.yaml."""
    if keep.exists() and not keep.is_dir():
        raise UsageError(f"--keep {keep}: is a file; give a directory")
    if keep.is_dir() and any(keep.iterdir()) and not force:
        raise UsageError(f"--keep {keep}: the directory is not empty (add --force to use it)")
    config = keep / "mailflow.yaml"
    if config.exists() and config.read_text(encoding="utf-8") != CONFIG:
        raise UsageError(f"--keep {keep}: holds a mailflow.yaml that is not the demo's; "
                         "not overwriting it")


def run_demo(keep: Path | None = None, force: bool = False) -> str:
    """Run the story; returns the timeline and the final list."""
    if keep is not None:
        _prepare(keep, force)
    root = keep if keep is not None else Path(tempfile.mkdtemp(prefix="mailflow-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "mailflow.yaml").write_text(CONFIG, encoding="utf-8")
    ensure_maildir(root / "mail")
    config = load_config(root / "mailflow.yaml")
    app = build_app(config)
    lines = [f"mailflow demo: {DAYS} days of referrals, simulated from {START:%a %d %b %Y}", ""]
    pending = sorted(STORY, key=lambda m: m.day)
    delivered = emails = 0
    try:
        step = timedelta(hours=1)
        now = START
        while now <= START + timedelta(days=DAYS):
            while pending and START + timedelta(days=pending[0].day) <= now:
                mail = pending.pop(0)
                delivered += 1
                at = START + timedelta(days=mail.day)
                _deliver(root / "mail", mail, at, delivered)
                who = email.utils.parseaddr(mail.sender)[0]
                first = mail.body.splitlines()[0]
                lines.append(_timeline_line(at, "email in", "", f"{who}: {first}"))
            report = run_cycle(app, now)
            for referral_id, event in app.store.events():
                if event.at == now.astimezone(event.at.tzinfo) and event.kind != "sent":
                    lines.append(_timeline_line(now, event_name(event.kind), f"R-{referral_id}",
                                                _describe(event.actor, event.detail)))
            # one line per email that left, a combined one listing its referrals
            for recipient, tags, steps in report.dispatch.sent:
                if steps == "digest":
                    lines.append(_timeline_line(now, "sent digest", "",
                                                f"the weekly digest to {recipient}"))
                    continue
                kind = "sent" if "," not in tags else "sent combined"
                names = ", ".join(step_name(s) for s in steps.split(", "))
                reasons = "; ".join(dict.fromkeys(step_purpose(s) for s in steps.split(", ")))
                lines.append(_timeline_line(now, kind, tags if "," not in tags else "",
                                            f"{names} to {recipient} ({reasons})"
                                            + (f" about {tags}" if "," in tags else "")))
            emails += len(report.dispatch.sent)
            now += step
        lines += ["", "mailflow list:"]
        lines += [referral_line(r, ZONE) for r in app.store.referrals()]
        lines += ["", "languages other than the firm's (mailflow show REF says why):"]
        lines += [f"  {r.tag}  {email}: {NAMES[got['language']]} ({got['why']})"
                  for r in app.store.referrals()
                  for email, got in party_languages(app, r).items()
                  if got["language"] != config.language]
        sent = emails  # each one a line above (a kept demo run again sends nothing new)
        where = (f"kept in {root} (outbox/, mail/, mailflow.db)" if keep is not None
                 else "use --keep DIR to look at them")
        lines += ["", f"{sent} emails sent to the file outbox; {where}"]
    finally:
        app.close()
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return "\n".join(lines)
