"""What each CLI command does, given a loaded config; returns text or JSON-ready data."""

from __future__ import annotations

import argparse
import csv
import io
import logging
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailflow.adapters import clock
from mailflow.app import directory as partner_store
from mailflow.app import operator
from mailflow.app.operator import Action
from mailflow.app.readers import party_languages
from mailflow.app.wiring import App, build_app
from mailflow.cli.views import (
    erasure_text,
    outbox_dict,
    outbox_table,
    partners_table,
    person_text,
    referral_dict,
    referrals_table,
    show_text,
)
from mailflow.config import Config, partner_entry
from mailflow.core.addressing import is_plain_address
from mailflow.core.languages import NAMES, SUPPORTED, normalise
from mailflow.core.model import Outcome, Referral, Status, parse_ref
from mailflow.core.wording import status_name
from mailflow.errors import UsageError
from mailflow.resources import example_config

if TYPE_CHECKING:  # the cycle is imported only by `run`, to keep the other commands light
    from mailflow.app.cycle import CycleReport

log = logging.getLogger("mailflow.cli.commands")


@contextmanager
def opened(config: Config) -> Iterator[App]:
    """The app for one command, closed whatever happens."""
    app = build_app(config)
    try:
        yield app
    finally:
        app.close()
        log.debug("phase: closed (peak RSS %.0f MB)", _peak_rss_mb())


def _peak_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def init(path: Path) -> str:
    if path.exists():
        raise UsageError(f"{path} already exists; not overwriting it")
    path.write_text(example_config().read_text(encoding="utf-8"), encoding="utf-8")
    return (f"wrote {path}: set tracker, imap and smtp (host, username, password_env), "
            f"then run `mailflow --config {path} check`")


def check(config: Config, args: argparse.Namespace) -> str:
    from mailflow.cli.checks import run_checks
    return run_checks(config)


def login(config: Config, args: argparse.Namespace) -> str:
    """The device-code sign-in; the token cache is kept owner-only next to the database."""
    from mailflow.app.wiring import identity_of, sign_in_scopes, sign_in_settings
    if config.microsoft is None:
        raise UsageError("there is no `microsoft:` section in the config: nothing to sign in "
                         "to (see README, Microsoft 365)")
    groups = sign_in_scopes(config)
    if not groups:
        raise UsageError("nothing in the config signs in to Microsoft 365: IMAP and SMTP "
                         "have a password or a token command")
    identity = identity_of(config)

    def show(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    who = identity.login(groups[0], show)
    for scopes in groups[1:]:  # another resource: a token from the same sign-in
        identity.token(scopes)
    return (f"signed in as {who}; the sign-in is kept in {sign_in_settings(config).cache} "
            "(owner-only) and refreshed by itself")


def run(config: Config, args: argparse.Namespace, now: datetime) -> str | None:
    from mailflow.app.cycle import run_cycle
    with opened(config) as app:
        if args.once:
            report = run_cycle(app, now, since=args.since, progress=_progress)
            return _cycle_summary(report)
        from mailflow.app.daemon import Daemon
        if getattr(args, "web", False):
            _serve_in_background(config, args.host, args.port)
        Daemon(app, since=args.since).run_forever()
        return None


def _serve_in_background(config: Config, host: str, port: int) -> None:
    """The web view beside the daemon, in one process (a thread with its own store)."""
    import threading

    from mailflow.web.serve import serve
    # the store is opened in the thread that uses it (SQLite connections are per thread)
    thread = threading.Thread(target=lambda: serve(build_app(config), host, port),
                              name="mailflow-web", daemon=True)
    thread.start()


def web(config: Config, args: argparse.Namespace) -> None:
    from mailflow.web.serve import serve
    with opened(config) as app:
        serve(app, args.host, args.port, https=args.https, url=args.url)


def _cycle_summary(report: CycleReport) -> str:
    """What one `run --once` did, in words."""
    ingest, dispatch = report.ingest, report.dispatch
    kinds = dict(ingest.by_kind)
    parts = []
    if ingest.history:
        recent = kinds.get("intro", 0) - ingest.history
        parts.append(f"{ingest.history} earlier intros recorded as history, "
                     f"{recent} recent ones followed up")
        kinds.pop("intro", None)
    parts += [f"{v} {k}" for k, v in sorted(kinds.items())]
    line = (f"read {ingest.fetched} messages ({', '.join(parts) or 'nothing new'}); "
            f"sent {len(dispatch.sent)}, deferred {dispatch.deferred}, "
            f"failed {dispatch.failed}")
    if dispatch.missed or dispatch.superseded:
        line += f"; {dispatch.missed} too late (missed), {dispatch.superseded} superseded"
    return line


def _progress(count: int) -> None:
    """A long first run (thousands of old messages) shows that it is moving."""
    if count >= 1000 and count % 1000 < 200:
        print(f"mailflow: read {count} messages so far...", file=sys.stderr, flush=True)


def _referral(app: App, ref: str) -> Referral:
    number = parse_ref(ref)
    found = app.store.find_referral(number) if number is not None else None
    if found is None:
        raise UsageError(f"no referral {ref} (references look like R-42)")
    return found


def list_referrals(config: Config, args: argparse.Namespace) -> Any:
    with opened(config) as app:
        referrals = app.store.referrals(args.status)
        if args.json:
            return [referral_dict(r, config.timezone) for r in referrals]
        return referrals_table(referrals, config.timezone) if referrals else "no referrals"


def show(config: Config, args: argparse.Namespace) -> Any:
    with opened(config) as app:
        referral = _referral(app, args.ref)
        data = referral_dict(referral, config.timezone, app.store, True)
        data["languages"] = party_languages(app, referral)
        return data if args.json else show_text(data)


def language(config: Config, args: argparse.Namespace) -> str:
    """Set (or with `auto`, clear) the language one person gets, by hand."""
    code = None if args.language.lower() == "auto" else normalise(args.language)
    if code is None and args.language.lower() != "auto":
        raise UsageError(f"--language: {args.language!r} is not one of "
                         f"{', '.join(SUPPORTED)} or auto")
    email = args.email.strip().lower()
    with opened(config) as app:
        operator.set_language(app, email, code, clock.now())
        if code is None:
            return f"{email}: language learned from their mail again"
        return f"{email} gets {NAMES[code]} ({code})"


def _act(config: Config, ref: str, action: Action) -> Referral:
    """One operator action, decided by the core like a reply and planned at once."""
    with opened(config) as app:
        try:
            return operator.act(app, _referral(app, ref), action, clock.now(), "cli")
        except ValueError as exc:
            raise UsageError(str(exc)) from exc


def close(config: Config, args: argparse.Namespace) -> str:
    updated = _act(config, args.ref, Action("close", outcome=Outcome(args.outcome)))
    return f"{updated.tag} closed ({args.outcome}); thank-yous go out with the next cycle"


def reopen(config: Config, args: argparse.Namespace) -> str:
    updated = _act(config, args.ref, Action("reopen"))
    return f"{updated.tag} reopened ({updated.status})"


def snooze(config: Config, args: argparse.Namespace) -> str:
    updated = _act(config, args.ref, Action("snooze", days=args.days))
    until = updated.snoozed_until
    assert until is not None
    return f"{updated.tag} snoozed until {until.astimezone(config.timezone):%a %d %b %Y %H:%M}"


def partner(config: Config, args: argparse.Namespace) -> str:
    updated = _act(config, args.ref, Action("partner", partner=args.email.strip().lower()))
    return f"{updated.tag}: partner {updated.partner}, client {updated.client or '-'}"


def swap(config: Config, args: argparse.Namespace) -> str:
    updated = _act(config, args.ref, Action("swap"))
    return f"{updated.tag}: partner {updated.partner}, client {updated.client or '-'}"


def stop(config: Config, args: argparse.Namespace) -> str:
    email = args.email.strip().lower()
    updated = _act(config, args.ref, Action("stop", address=email))
    return f"{updated.tag}: no more mail to {email} (`mailflow resume` lifts it)"


def resume(config: Config, args: argparse.Namespace) -> str:
    email = args.email.strip().lower()
    updated = _act(config, args.ref, Action("resume", address=email))
    return f"{updated.tag}: {email} gets mail about it again"


def undo(config: Config, args: argparse.Namespace) -> str:
    updated = _act(config, args.ref, Action("undo"))
    return f"{updated.tag}: your last change is undone ({updated.status})"


def unbounce(config: Config, args: argparse.Namespace) -> str:
    """Clear an address's bounce flag (say, after the person fixed their mailbox)."""
    email = args.email.strip().lower()
    with opened(config) as app:
        if not operator.unbounce(app, email, clock.now(), "cli"):
            raise UsageError(f"{email} is not marked as bouncing")
    return f"{email} may be written to again; its open referrals are re-planned"


def _address(value: str) -> str:
    email = value.strip().lower()
    if not is_plain_address(email):
        raise UsageError(f"EMAIL: not an address: {value[:80]!r}")
    return email


def person(config: Config, args: argparse.Namespace) -> Any:
    """Everything held about one address (read only)."""
    from mailflow.app import privacy
    with opened(config) as app:
        data = privacy.person(app, _address(args.email)).as_dict()
    return data if args.json else person_text(data)


def forget(config: Config, args: argparse.Namespace, now: datetime) -> str:
    """Erase one person's data (`--yes`), or say what would go."""
    from mailflow.app import privacy
    with opened(config) as app:
        report = privacy.forget(app, _address(args.email), now, dry_run=not args.yes)
    return erasure_text(report.as_dict())


def partners(config: Config, args: argparse.Namespace) -> Any:
    from mailflow.app.ledger_view import partner_rows
    with opened(config) as app:
        changes = ({k: getattr(args, k) for k in partner_store.PROFILE}
                   if args.action in ("add", "edit") else {})
        editor = partner_store.Editor("cli", "cli", str(config.path))
        if args.action == "add":
            entry = partner_entry({"email": args.email, **changes})
            partner_store.add(app.store, entry, editor, clock.now())
            return f"added partner {_describe_partner(entry)}"
        if args.action == "edit":
            emails = tuple(e.strip().lower() for e in args.email)
            entry = partner_store.edit(app.store, emails, changes, editor, clock.now())
            return f"edited partner {_describe_partner(entry)}"
        if args.action == "remove":
            gone, _ = partner_store.remove(app.store, args.email.lower(), editor, clock.now())
            return (f"removed partner {', '.join(gone.emails)}"
                    + (f" ({gone.name})" if gone.name else ""))
        rows = partner_rows(app, clock.now())
        if args.json:
            return rows
        return partners_table(rows) if rows else "no partners"


def _describe_partner(entry: Any) -> str:
    fields = [f"{k} {getattr(entry, k)!r}" for k in partner_store.PROFILE if getattr(entry, k)]
    return ", ".join(entry.email) + (f": {'; '.join(fields)}" if fields else "")


def outbox(config: Config, args: argparse.Namespace) -> Any:
    with opened(config) as app:
        rows = [outbox_dict(r, config.timezone) for r in app.store.pending()]
        if args.json:
            return rows
        lines = [outbox_table(rows) if rows else "nothing pending"]
        late = [outbox_dict(r, config.timezone) for r in app.store.not_sent_since(
            clock.now() - timedelta(days=14))]
        if late:
            lines += ["", "not sent (last 14 days):", outbox_table(late, with_status=True)]
        return "\n".join(lines)


def status(config: Config, args: argparse.Namespace, now: datetime) -> Any:
    with opened(config) as app:
        store = app.store
        counts = store.counts()
        data: dict[str, Any] = {
            "last_poll": store.meta("last_poll"), "last_send": store.meta("last_send"),
            "pending": counts["pending"],
            "failed": store.failed_count(),
            "quarantined": counts["quarantined"],
            "quarantine": store.quarantined(20),
            "referrals": {s.value: counts[s.value] for s in Status},
            "incident": store.meta("incident"),
            "privacy": _privacy_status(app),
        }
        if args.json:
            return data
        return _status_text(data, config)


def _privacy_status(app: App) -> dict[str, Any]:
    """Retention's setting and last run, and the "forget me" requests waiting."""
    months = app.config.privacy.retention_closed_months
    last = (app.store.meta("retention_last") or "").split()
    return {"retention_closed_months": months,
            "retention_last_run": last[0] if last else None,
            "expired_referrals": app.store.expired_count(),
            "forget_requests": len(app.store.forget_requests()),
            "forget_after_days": app.config.privacy.forget_after_days}


def _local(value: str | None, config: Config) -> str:
    """A stored UTC timestamp as local time in the configured zone, or "never"."""
    if not value:
        return "never"
    return datetime.fromisoformat(value).astimezone(config.timezone).strftime(
        "%a %d %b %Y %H:%M %Z")


def _status_text(data: dict[str, Any], config: Config) -> str:
    counts = ", ".join(f"{n} {status_name(s)}" for s, n in data["referrals"].items())
    incident = data["incident"]
    lines = [
        f"last poll     {_local(data['last_poll'], config)}",
        f"last send     {_local(data['last_send'], config)}",
        f"referrals     {counts}",
        f"outbox        {data['pending']} pending, {data['failed']} failed",
        f"quarantined   {data['quarantined']} messages",
        f"incident      {incident.split(' ', 1)[1] if incident else 'none'}",
        f"retention     {_retention_text(data['privacy'], config)}",
        f"forget me     {data['privacy']['forget_requests']} waiting (erased "
        f"{data['privacy']['forget_after_days']} days after asking)",
    ]
    lines += [f"  {_local(q['seen_at'], config)}  {q['message_id']}: {q['reason']}"
              for q in data["quarantine"]]
    return "\n".join(lines)


def _retention_text(privacy: dict[str, Any], config: Config) -> str:
    months = privacy["retention_closed_months"]
    if months is None:
        return "off (texts of closed referrals are kept)"
    return (f"texts dropped {months} months after closing; last run "
            f"{_local(privacy['retention_last_run'], config)}, "
            f"{privacy['expired_referrals']} referrals expired")


def export(config: Config, args: argparse.Namespace) -> str:
    from mailflow.app.ledger_view import partner_rows
    with opened(config) as app:
        referrals = [referral_dict(r, config.timezone, app.store, True)
                     for r in app.store.referrals()]
        if args.format == "json":
            import json
            return json.dumps({"referrals": referrals,
                               "ledger": partner_rows(app, clock.now())}, indent=2)
        out = io.StringIO()
        fields = ["id", "status", "outcome", "direction", "referrer", "client", "partner",
                  "subject", "created_at", "contacted_at", "closed_at", "rating"]
        writer = csv.DictWriter(out, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows([{k: _csv_cell(v) for k, v in r.items()} for r in referrals])
        return out.getvalue().rstrip("\n")


def _csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: one starting with = + - @ is never a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report(config: Config, args: argparse.Namespace, now: datetime) -> str:
    from mailflow.app.digests import build_report
    with opened(config) as app:
        digests = build_report(app, now)
        if args.html:
            Path(args.html).write_text("\n".join(d.html for d in digests.values()),
                                       encoding="utf-8")
        return "\n\n".join(d.text for d in digests.values()) or "nothing to report"


def demo(args: argparse.Namespace) -> str | None:
    from mailflow.cli.demo import run_demo
    web = bool(getattr(args, "web", False))
    if web and not args.keep:
        args.keep = tempfile.mkdtemp(prefix="mailflow-demo-web-")
    story = run_demo(Path(args.keep) if args.keep else None, bool(getattr(args, "force", False)))
    if not web:
        return story
    from mailflow.cli.demo import DEMO_REFERRER
    from mailflow.config import load_config
    from mailflow.web.auth import issue_link
    from mailflow.web.serve import serve
    print(story, flush=True)
    with opened(load_config(Path(args.keep) / "mailflow.yaml")) as app:
        link = issue_link(app, DEMO_REFERRER, clock.now(), f"http://127.0.0.1:{args.port}")
        print(f"\nThe demo's data in a browser (the link signs in {DEMO_REFERRER}, once, for "
              f"15 minutes):\n  {link}\nCtrl-C stops it.", flush=True)
        serve(app, "127.0.0.1", args.port)
    return None
