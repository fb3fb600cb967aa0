"""`mailflow [--config PATH] COMMAND`: the stable command-line contract of PRODUCT.md."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailflow import __version__, operations
from mailflow.adapters import clock
from mailflow.config import Config, load_config
from mailflow.core.parse import printable
from mailflow.errors import MailflowError, UsageError
from mailflow.logs import setup_logging

DEFAULT_CONFIG = "mailflow.yaml"


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailflow", description="Referral follow-up over "
                                     "email: CC a tracking address, mailflow does the rest.")
    parser.add_argument("--config", help="config file (default $MAILFLOW_CONFIG or "
                        f"./{DEFAULT_CONFIG})")
    parser.add_argument("--version", action="version", version=f"mailflow {__version__}")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="log lines as readable text (default) or JSON for log shippers")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init = sub.add_parser("init", help="write a commented starter config")
    init.add_argument("path", nargs="?", help=f"where (default ./{DEFAULT_CONFIG})")
    sub.add_parser("check", help="validate config and templates, reach IMAP and SMTP")
    run = sub.add_parser("run", help="the daemon; --once for one cycle")
    run.add_argument("--once", action="store_true", help="one cycle, then exit")
    run.add_argument("--now", type=_moment, help="pretend it is this time (ISO-8601)")
    run.add_argument("--since", type=_moment, help="ignore mail dated before this")
    listing = sub.add_parser("list", help="referrals")
    listing.add_argument("--status", choices=("needs_partner", "open", "contacted", "closed"))
    listing.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one referral with its history")
    show.add_argument("ref", metavar="REF")
    show.add_argument("--json", action="store_true")
    close = sub.add_parser("close", help="close a referral")
    close.add_argument("ref", metavar="REF")
    close.add_argument("--outcome", choices=("done", "won", "lost"), default="done")
    reopen = sub.add_parser("reopen", help="reopen a closed referral")
    reopen.add_argument("ref", metavar="REF")
    unbounce = sub.add_parser("unbounce", help="clear an address's bounce flag")
    unbounce.add_argument("email", metavar="EMAIL")
    partners = sub.add_parser("partners", help="the partner directory and ledger")
    partners.add_argument("--json", action="store_true")
    psub = partners.add_subparsers(dest="action", metavar="ACTION")
    for action in ("add", "edit"):
        p = psub.add_parser(action, help=f"{action} a partner")
        p.add_argument("email", nargs="+")
        p.add_argument("--name", help="display name")
        p.add_argument("--niche", help="what they do, e.g. estate planning")
        p.add_argument("--notes", help="what makes a good referral for them")
        p.add_argument("--domain", help="every address at this domain is this partner")
    remove = psub.add_parser("remove", help="remove a partner added with the CLI")
    remove.add_argument("email")
    outbox = sub.add_parser("outbox", help="what will be sent, and when")
    outbox.add_argument("--json", action="store_true")
    status = sub.add_parser("status", help="last poll and send, pending, failed, quarantined")
    status.add_argument("--json", action="store_true")
    export = sub.add_parser("export", help="referrals, events and ledger")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    report = sub.add_parser("report", help="the referrer's digest, on demand")
    report.add_argument("--html", metavar="FILE", help="also write the HTML report here")
    demo = sub.add_parser("demo", help="the whole story on a local Maildir, in seconds")
    demo.add_argument("--keep", metavar="DIR", help="leave the demo files in DIR")
    return parser


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("MAILFLOW_CONFIG") or DEFAULT_CONFIG)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _with_config(handler: Callable[[Config, argparse.Namespace], Any]
                 ) -> Callable[[argparse.Namespace], Any]:
    def run(args: argparse.Namespace) -> Any:
        return handler(load_config(config_path(args)), args)
    return run


def main(argv: Sequence[str] | None = None) -> int:
    # files mailflow writes (database, outbox, reports) hold personal data: owner-only
    previous = os.umask(0o077)
    try:
        return _main(argv)
    finally:
        os.umask(previous)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_format, args.verbose,
                  logging.INFO if args.command == "run" else logging.WARNING)
    commands: dict[str, Callable[[argparse.Namespace], Any]] = {
        "init": lambda a: operations.init(Path(a.path or config_path(a))),
        "check": _with_config(operations.check),
        "run": _with_config(lambda c, a: operations.run(c, a, a.now or clock.now())),
        "list": _with_config(operations.list_referrals),
        "show": _with_config(operations.show),
        "close": _with_config(operations.close),
        "reopen": _with_config(operations.reopen),
        "partners": _with_config(operations.partners),
        "unbounce": _with_config(operations.unbounce),
        "outbox": _with_config(operations.outbox),
        "status": _with_config(lambda c, a: operations.status(c, a, clock.now())),
        "export": _with_config(operations.export),
        "report": _with_config(lambda c, a: operations.report(c, a, clock.now())),
        "demo": lambda a: operations.demo(a),
    }
    try:
        result = commands[args.command](args)
    except MailflowError as exc:
        print(f"mailflow: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        return 130
    try:
        if isinstance(result, str):
            print(printable(result))  # text from mail never drives the terminal (ESC, NUL…)
        elif result is not None:
            _print_json(result)
        sys.stdout.flush()
    except BrokenPipeError:  # `mailflow export | head -1`: the reader has had enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
