"""`mailflow check`: config, templates, IMAP and SMTP, one line per finding."""

from __future__ import annotations

from mailflow.adapters.renderer import Renderer
from mailflow.app.template_context import sample_context, say
from mailflow.app.wiring import (
    graph_reads,
    graph_sends,
    identity_of,
    imap_signs_in,
    mailbox_settings,
    make_mailer,
    open_mailbox,
    sign_in_scopes,
    smtp_signs_in,
)
from mailflow.config import Config
from mailflow.core.addressing import Trackers
from mailflow.core.languages import SUPPORTED
from mailflow.core.vocabulary import help_words
from mailflow.errors import MailflowError


def digest_sample() -> dict[str, object]:
    row = {"email": "bob@law.example", "name": "Bob Smith", "given": 4, "received": 0,
           "won": 2, "lost": 1, "done": 1, "median_hours_to_contact": 5.0,
           "average_rating": 4.5, "flags": ["never-refers-back"], "value_text": "9000 / 0"}
    return {"referrer": "alice@firm.example", "date": "23 Nov 2026",
            "open": [{"tag": "R-42", "client": "jane@gmail.com", "partner": "bob@law.example",
                      "status": "open", "days": 16, "stale": True}], "open_count": 1,
            "needs": [{"tag": "R-41", "actor": "bob@law.example", "text": "estate lawyer"}],
            "ledger": [row], "flagged": [row], "catch_up": [row], "max_count": 4,
            "profiles": [{"email": "bob@law.example", "name": "Bob Smith",
                          "ideal": "families with property abroad", "not": "divorce cases"}]}


# what each notice kind is given (core.decisions, dispatch, scheduling), as sample data
NOTICE_SAMPLES: dict[str, dict[str, object]] = {
    "confirm": {"change": "closed", "outcome": "won", "undo_offer": True},
    "relay": {"news": "note", "sender": "bob@law.example", "text": "We met today."},
    "refused": {"role": "client", "word": "client may not say won"},
    "unproven": {},
    "help": {"reply_words": help_words()},
    "which": {"word": "done"},
    "unwanted": {"partner_avoid": "divorce cases"},
    "declined": {},
    "bounce": {"address": "jane@gmail.com", "smtp_status": "5.1.1"},
    "send-failed": {"address": "jane@gmail.com", "error": "550 no such user"},
    "signin": {"link": "https://mailflow.firm.example/auth?t=sample", "minutes": 15},
    "history": {"count": 3, "tags": ["R-1", "R-2", "R-3"], "first": "2026-09-01",
                "listed": "R-1, R-2, R-3"},
}


def template_sample(name: str) -> dict[str, object]:
    """Sample data for one template: the digest's own, or a referral's plus a notice's."""
    if name == "digest":
        return digest_sample()
    if name == "alert":
        return {"event": "failing", "problem": "IMAP login failed", "since": "2026-11-23",
                "at": "2026-11-23", "incident": "IMAP login failed", "away": "5 hours"}
    kind = name.removeprefix("notice_")
    return {**sample_context(), **NOTICE_SAMPLES.get(kind, {})}


def check_templates(renderer: Renderer) -> list[str]:
    """Render every template with sample data; returns the problems."""
    problems = []
    for name in renderer.names():
        context = template_sample(name)
        for language in dict.fromkeys(renderer.language_of(name, code) for code in SUPPORTED):
            try:
                renderer.render(name, {**context, "say": say(language)}, language)
            except MailflowError as exc:
                problems.append(f"template: {exc}")
    return problems


def check_step_templates(renderer: Renderer, config: Config) -> list[str]:
    """Every workflow step names a template that exists."""
    names = set(renderer.names())
    return [f"workflow.steps: {step.name}: template {step.template}.j2 not found"
            for step in (*config.workflow.steps, *config.workflow.received_steps)
            if step.template not in names]


def check_sign_in(config: Config) -> str | None:
    """The Microsoft sign-in gives a fresh token for every service that uses it (refreshed
    now, not taken from the cache: a lapsed sign-in shows here while a token it gave
    earlier is still valid); the problem in one line, or None."""
    try:
        identity = identity_of(config)
        for scopes in sign_in_scopes(config):
            identity.token(scopes, refresh=True)
    except MailflowError as exc:
        return str(exc)
    except Exception as exc:  # whatever MSAL raises, `check` says it in one line
        return f"{type(exc).__name__}: {exc}"
    return None


def run_checks(config: Config) -> str:
    ok: list[str] = [f"config: {config.path} is valid"]
    problems: list[str] = []
    renderer = Renderer(config.templates_dir, config.language)
    template_problems = check_templates(renderer) + check_step_templates(renderer, config)
    problems += template_problems
    if not template_problems:
        ok.append(f"templates: {len(renderer.names())} render in "
                  f"{', '.join(SUPPORTED)}")
    missing = renderer.missing_translations()
    if missing:  # not a failure: these fall back to the firm's language, then English
        ok.append(f"templates: no translation of {', '.join(missing[:10])}"
                  + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
                  + f"; those emails go out in {renderer.default_language} or English")
    settings = mailbox_settings(config)
    login = settings.login
    if login is not None and "@" in login and not Trackers(config.trackers).matches(
            login.lower()):
        problems.append(f"tracker: {config.tracker} does not match the mailbox {login}; "
                        "set tracker to the address this mailbox receives")
    signed_in = True
    if sign_in_scopes(config):
        problem = check_sign_in(config)
        signed_in = problem is None
        if problem is None:
            ok.append("microsoft: signed in")
        else:  # said once here, not again by each service that signs in
            problems.append(f"microsoft: {problem}")
    if signed_in or not (graph_reads(config) or imap_signs_in(config)):
        try:
            mailbox = open_mailbox(config)
            mailbox.close()
            ok.append(f"mailbox: logged in, {settings.where} exists")
        except MailflowError as exc:
            problems.append(f"mailbox: {exc}")
    if signed_in or not (graph_sends(config) or smtp_signs_in(config)):
        try:
            mailer = make_mailer(config)
            mailer.check()
            ok.append("sending: " + (f"SMTP {config.smtp.host} accepts our login" if config.smtp
                                     else f"outbox directory {config.outbox_dir} is writable"
                                     if config.outbox_dir else
                                     "Microsoft Graph accepts our sign-in"))
        except MailflowError as exc:
            problems.append(f"sending: {exc}")
    if problems:
        raise MailflowError("\n".join(problems))
    return "\n".join(ok)
