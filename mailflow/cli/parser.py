"""`mailflow [--config PATH] COMMAND`: the stable command-line contract of PRODUCT.md.

Built on click (what rq, sqlite-utils and pip-tools use): every command and option
has its help text, `MAILFLOW_CONFIG` is the `--config` option's environment variable,
and exit codes are 0 (success), 1 (a runtime failure, one line on stderr) and 2 (a
usage mistake). Each command maps its options to an `operations` function.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mailflow import __version__
from mailflow.adapters import clock
from mailflow.errors import MailflowError, UsageError
from mailflow.logs import setup_logging

if TYPE_CHECKING:  # imported where used: `--version` and `--help` need neither
    from mailflow.config import Config

DEFAULT_CONFIG = "mailflow.yaml"


class _Commands:
    """`mailflow.cli.commands`, imported on first use: `--help`, `--version` and a usage
    mistake then start without the store, the mailbox and the templates."""

    def __getattr__(self, name: str) -> Any:
        from mailflow.cli import commands
        return getattr(commands, name)


operations = _Commands()
STATUSES = ("needs_partner", "awaiting_consent", "open", "contacted", "closed")


class Moment(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """An ISO-8601 time; without an offset it is UTC."""

    name = "ISO-8601"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"not an ISO-8601 time: {value!r}", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _config_path(ctx: click.Context) -> Path:
    given = ctx.find_root().params.get("config")
    return Path(given) if given else Path(DEFAULT_CONFIG)


def _run(ctx: click.Context, handler: Callable[[Config, argparse.Namespace], Any],
         **params: Any) -> Any:
    """Load the config and call `handler` with the command's options; `main` prints the
    result (text as it is, anything else as JSON)."""
    from mailflow.config import load_config
    return handler(load_config(_config_path(ctx)), argparse.Namespace(**params))


def _json_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--json", "json_output", is_flag=True,
                        help=f"print {what} as JSON (a stable shape for scripts)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mailflow")
@click.option("--config", envvar="MAILFLOW_CONFIG", metavar="PATH",
              help=f"the config file (default: $MAILFLOW_CONFIG, else ./{DEFAULT_CONFIG})")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="log lines as readable text or JSON for log shippers")
@click.option("-v", "--verbose", is_flag=True, help="debug logging")
@click.pass_context
def cli(ctx: click.Context, config: str | None, log_format: str, verbose: bool) -> None:
    """Referral follow-up over email: CC a tracking address, mailflow does the rest."""
    command = ctx.invoked_subcommand
    setup_logging(log_format, verbose, logging.INFO if command == "run" else logging.WARNING)


@cli.command()
@click.argument("path", required=False, metavar="[PATH]")
@click.pass_context
def init(ctx: click.Context, path: str | None) -> Any:
    """Write a commented starter config (default ./mailflow.yaml); never overwrites."""
    return operations.init(Path(path) if path else _config_path(ctx))


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> Any:
    """Validate config and templates, log in to IMAP and SMTP; one line per problem."""
    return _run(ctx, operations.check)


@cli.command()
@click.pass_context
def login(ctx: click.Context) -> Any:
    """Sign the mailbox in to Microsoft 365 (device code); needs a `microsoft:` section."""
    return _run(ctx, operations.login)


@cli.command()
@click.option("--once", is_flag=True, help="one cycle (ingest, plan, send), then exit")
@click.option("--now", type=Moment(), help="with --once: act as if it were this time")
@click.option("--since", type=Moment(), help="ignore (do not even record) mail dated before")
@click.option("--web", is_flag=True, help="also serve the web view (see `mailflow web`) in "
              "the same process")
@click.option("--host", default="127.0.0.1", show_default=True, help="with --web: address")
@click.option("--port", type=click.IntRange(1, 65535), default=8025, show_default=True,
              help="with --web: port")
@click.pass_context
def run(ctx: click.Context, once: bool, now: datetime | None, since: datetime | None,
        web: bool, host: str, port: int) -> Any:
    """The daemon: IDLE where the server has it, polling otherwise; --once for one cycle."""
    if web and once:
        raise click.UsageError("--web serves as long as the daemon runs; drop --once")
    return _run(ctx, lambda c, a: operations.run(c, a, now or clock.now()), once=once,
                since=since, web=web, host=host, port=port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (behind a TLS proxy, keep 127.0.0.1)")
@click.option("--port", type=click.IntRange(1, 65535), default=8025, show_default=True,
              help="port to listen on")
@click.option("--https", is_flag=True, help="the site is reached over https (a proxy in "
              "front): session cookies are then Secure")
@click.option("--url", metavar="URL", help="the address people open, for sign-in links "
              "(default: http://HOST:PORT)")
@click.pass_context
def web(ctx: click.Context, host: str, port: int, https: bool, url: str | None) -> Any:
    """Each referrer's own referrals, partners and ledger in a browser, signed in by email."""
    return _run(ctx, operations.web, host=host, port=port, https=https, url=url)


@cli.command(name="list")
@click.option("--status", type=click.Choice(STATUSES), help="only referrals in this state")
@_json_option("the referrals")
@click.pass_context
def list_command(ctx: click.Context, status: str | None, json_output: bool) -> Any:
    """Referrals, oldest first."""
    return _run(ctx, operations.list_referrals, status=status, json=json_output)


@cli.command()
@click.argument("ref", metavar="REF")
@_json_option("the referral, its events and its outbox")
@click.pass_context
def show(ctx: click.Context, ref: str, json_output: bool) -> Any:
    """One referral with its events and pending steps (REF is its tag, like R-42)."""
    return _run(ctx, operations.show, ref=ref, json=json_output)


@cli.command()
@click.argument("ref", metavar="REF")
@click.option("--outcome", type=click.Choice(["done", "won", "lost"]), default="done",
              show_default=True, help="how it turned out")
@click.pass_context
def close(ctx: click.Context, ref: str, outcome: str) -> Any:
    """Close a referral by hand; the thank-yous follow (REF is its tag, like R-42)."""
    return _run(ctx, operations.close, ref=ref, outcome=outcome)


@cli.command()
@click.argument("ref", metavar="REF")
@click.pass_context
def reopen(ctx: click.Context, ref: str) -> Any:
    """Reopen a closed referral (REF is its tag, like R-42)."""
    return _run(ctx, operations.reopen, ref=ref)


@cli.command()
@click.argument("ref", metavar="REF")
@click.argument("days", metavar="DAYS", type=click.IntRange(1, 365))
@click.pass_context
def snooze(ctx: click.Context, ref: str, days: int) -> Any:
    """Move a referral's pending steps DAYS days later (1 to 365)."""
    return _run(ctx, operations.snooze, ref=ref, days=days)


@cli.command()
@click.argument("ref", metavar="REF")
@click.argument("email", metavar="EMAIL")
@click.pass_context
def partner(ctx: click.Context, ref: str, email: str) -> Any:
    """Make EMAIL (one of the people on the intro) the partner; the other is the client."""
    return _run(ctx, operations.partner, ref=ref, email=email)


@cli.command()
@click.argument("ref", metavar="REF")
@click.pass_context
def swap(ctx: click.Context, ref: str) -> Any:
    """Swap a referral's client and partner (mailflow guessed the wrong way round)."""
    return _run(ctx, operations.swap, ref=ref)


@cli.command()
@click.argument("ref", metavar="REF")
@click.argument("email", metavar="EMAIL")
@click.pass_context
def stop(ctx: click.Context, ref: str, email: str) -> Any:
    """No more mail to EMAIL about this referral (`resume` lifts it)."""
    return _run(ctx, operations.stop, ref=ref, email=email)


@cli.command()
@click.argument("ref", metavar="REF")
@click.argument("email", metavar="EMAIL")
@click.pass_context
def resume(ctx: click.Context, ref: str, email: str) -> Any:
    """Mail EMAIL about this referral again, after a `stop` given for them (never after
    their own stop)."""
    return _run(ctx, operations.resume, ref=ref, email=email)


@cli.command()
@click.argument("ref", metavar="REF")
@click.pass_context
def undo(ctx: click.Context, ref: str) -> Any:
    """Undo the last change made to a referral from the command line (within 24 hours)."""
    return _run(ctx, operations.undo, ref=ref)


@cli.command()
@click.argument("email", metavar="EMAIL")
@click.argument("language", metavar="LANGUAGE")
@click.pass_context
def language(ctx: click.Context, email: str, language: str) -> Any:
    """Set the language one person gets (en, de, fr, es, nl), or `auto` to learn it again."""
    return _run(ctx, operations.language, email=email, language=language)


@cli.command()
@click.argument("email", metavar="EMAIL")
@click.pass_context
def unbounce(ctx: click.Context, email: str) -> Any:
    """Clear an address's bounce flag so that it may be written to again."""
    return _run(ctx, operations.unbounce, email=email)


@cli.command()
@click.argument("email", metavar="EMAIL")
@_json_option("everything held about EMAIL (for a subject-access request)")
@click.pass_context
def person(ctx: click.Context, email: str, json_output: bool) -> Any:
    """Everything mailflow holds about one address: referrals in every role, events, notes,
    messages, emails, stops."""
    return _run(ctx, operations.person, email=email, json=json_output)


@cli.command()
@click.argument("email", metavar="EMAIL")
@click.option("--yes", is_flag=True, help="erase it (without --yes: only say what would go)")
@click.pass_context
def forget(ctx: click.Context, email: str, yes: bool) -> Any:
    """Erase one person's data: a pseudonym on their referrals, their texts deleted, their
    mail expunged from mailflow's folders; the ledger's counts stay."""
    return _run(ctx, lambda c, a: operations.forget(c, a, clock.now()), email=email, yes=yes)


@cli.group(invoke_without_command=True)
@_json_option("the directory with the ledger")
@click.pass_context
def partners(ctx: click.Context, json_output: bool) -> Any:
    """The partner directory with the ledger and flags; add, edit or remove CLI partners."""
    if ctx.invoked_subcommand is None:
        return _run(ctx, operations.partners, action=None, json=json_output)
    return None


def _partner_fields(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--name", help="display name"),
        click.option("--niche", help="what they do, e.g. estate planning"),
        click.option("--notes", help="what makes a good referral for them"),
        click.option("--domain", help="every address at this domain is this partner"),
        click.option("--language", help="the language they get: en, de, fr, es or nl"),
        click.option("--timezone", help="their time zone, e.g. America/Montreal"),
        click.option("--country", help="whose public holidays they keep, e.g. CA"),
        click.option("--catch-up-days", "catch_up_days",
                     help="days without an exchange before the digest suggests catching up"),
    ]):
        command = option(command)
    return command


@partners.command()
@click.argument("email", nargs=-1, required=True, metavar="EMAIL...")
@_partner_fields
@click.pass_context
def add(ctx: click.Context, /, email: tuple[str, ...], **fields: str | None) -> Any:
    """Add a partner (one or more addresses); refuses one already known."""
    return _run(ctx, operations.partners, action="add", email=list(email), json=False, **fields)


@partners.command()
@click.argument("email", nargs=-1, required=True, metavar="EMAIL...")
@_partner_fields
@click.pass_context
def edit(ctx: click.Context, /, email: tuple[str, ...], **fields: str | None) -> Any:
    """Change the fields given of a known CLI partner; the others stay as they are."""
    return _run(ctx, operations.partners, action="edit", email=list(email), json=False, **fields)


@partners.command()
@click.argument("email", metavar="EMAIL")
@click.pass_context
def remove(ctx: click.Context, email: str) -> Any:
    """Remove a partner added with the CLI (config partners are edited in the file)."""
    return _run(ctx, operations.partners, action="remove", email=email, json=False)


@cli.command()
@_json_option("the pending steps")
@click.pass_context
def outbox(ctx: click.Context, json_output: bool) -> Any:
    """What will be sent, to whom and when; and what was missed or superseded lately."""
    return _run(ctx, operations.outbox, json=json_output)


@cli.command()
@_json_option("the status")
@click.pass_context
def status(ctx: click.Context, json_output: bool) -> Any:
    """Last poll and send, pending and failed steps, quarantined messages."""
    return _run(ctx, lambda c, a: operations.status(c, a, clock.now()), json=json_output)


@cli.command()
@click.option("--format", "format_", type=click.Choice(["json", "csv"]), default="json",
              show_default=True, help="json: referrals, events and ledger; csv: referrals")
@click.pass_context
def export(ctx: click.Context, format_: str) -> Any:
    """Referrals, events and the ledger, for a backup or a spreadsheet."""
    return _run(ctx, operations.export, format=format_)


@cli.command()
@click.option("--html", metavar="FILE", help="also write the HTML report to FILE")
@click.pass_context
def report(ctx: click.Context, html: str | None) -> Any:
    """Each referrer's digest, on demand."""
    return _run(ctx, lambda c, a: operations.report(c, a, clock.now()), html=html)


@cli.command()
@click.option("--keep", metavar="DIR", help="leave the Maildir, outbox and database in DIR "
              "(a new or empty directory)")
@click.option("--force", is_flag=True, help="with --keep: use a directory that is not empty")
@click.option("--web", is_flag=True, help="then serve the demo's data and print a link that "
              "signs the demo referrer in")
@click.option("--port", type=click.IntRange(1, 65535), default=8025, show_default=True,
              help="with --web: port on 127.0.0.1")
@click.pass_context
def demo(ctx: click.Context, keep: str | None, force: bool, web: bool, port: int) -> Any:
    """The four-week story on a local Maildir and a file outbox, in seconds."""
    return operations.demo(argparse.Namespace(keep=keep, force=force, web=web, port=port))


def _emit(result: Any) -> None:
    if isinstance(result, str):
        from mailflow.core.parse import printable
        print(printable(result))  # text from mail never drives the terminal (ESC, NUL…)
    elif result is not None:
        print(json.dumps(result, indent=2, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0, 1 runtime failure, 2 usage mistake)."""
    # files mailflow writes (database, outbox, reports) hold personal data: owner-only
    previous = os.umask(0o077)
    try:
        return _main(list(argv) if argv is not None else sys.argv[1:])
    finally:
        os.umask(previous)


def _main(argv: list[str]) -> int:
    try:
        with cli.make_context("mailflow", argv) as ctx:
            result = cli.invoke(ctx)
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 1
    except MailflowError as exc:
        print(f"mailflow: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        return 130
    try:
        _emit(result)
        sys.stdout.flush()
    except BrokenPipeError:  # `mailflow export | head -1`: the reader has had enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
    return 0


if __name__ == "__main__":
    sys.exit(main())
