"""The configuration file: validated once at load into frozen objects."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from mailflow.adapters.mailbox import MailboxSettings
from mailflow.config_schema import Section
from mailflow.core.addressing import is_plain_address
from mailflow.core.languages import SUPPORTED, normalise
from mailflow.core.model import Role
from mailflow.core.workflow import StepConfig, default_received_steps, default_steps
from mailflow.errors import ConfigError

TLS_MODES = ("ssl", "starttls", "none")
COMMAND_TIMEOUT = 30  # seconds a password_command / oauth2_token_command may take
COMMAND_MESSAGE_CHARS = 200  # of the failed command's own last line of stderr, shown


def _last_line(stderr: str) -> str:
    """The failed command's own explanation, one line, printable, bounded."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return "".join(c for c in last if c.isprintable())[:COMMAND_MESSAGE_CHARS]
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STEP_ANCHORS = ("intake", "contacted", "closed")
STEP_CONDITIONS = ("contacted", "closed", "opted_out", "briefed")
_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+(business days?|business hours?|days?|hours?)\s*$")


@dataclass(frozen=True)
class Secret:
    """Where a password comes from; read only when needed, never stored in the file."""

    file: str
    key: str
    env: str | None = None
    path: Path | None = None
    command: str | None = None
    literal: str | None = None

    def reveal(self) -> str:
        if self.literal is not None:
            return self.literal
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise ConfigError(self.file, f"{self.key}_env",
                                  f"environment variable {self.env} is not set")
            return value
        if self.path is not None:
            try:
                return self.path.read_text().strip()
            except OSError as exc:
                raise ConfigError(self.file, f"{self.key}_file",
                                  f"cannot read {self.path}: {exc.strerror}") from exc
        if self.command is not None:
            try:
                done = subprocess.run(self.command, shell=True, capture_output=True,
                                      text=True, timeout=COMMAND_TIMEOUT, check=False)
            except subprocess.TimeoutExpired as exc:
                raise ConfigError(self.file, f"{self.key}_command",
                                  f"command did not finish within {COMMAND_TIMEOUT} s") from exc
            if done.returncode != 0:
                said = _last_line(done.stderr)
                raise ConfigError(self.file, f"{self.key}_command",
                                  f"command exited with status {done.returncode}"
                                  + (f": {said}" if said else ""))
            return done.stdout.strip()
        raise ConfigError(self.file, self.key, "no password source given")


_MAILBOX = MailboxSettings()  # what a mailbox does unless told: a Maildir's, and IMAP's defaults


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    tls: str
    username: str
    password: Secret | None
    folder: str = "INBOX"
    processed_folder: str | None = _MAILBOX.processed_folder
    quarantine_folder: str = _MAILBOX.quarantine_folder
    idle: bool = True
    poll_interval: int = _MAILBOX.poll_interval
    batch_size: int = _MAILBOX.batch_size
    verify_certificates: bool = True
    ca_file: Path | None = None
    sent_folder: str | None = None
    oauth2_token: Secret | None = None


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: str
    username: str | None
    password: Secret | None
    verify_certificates: bool = True
    ca_file: Path | None = None
    timeout: float = 30.0
    oauth2_token: Secret | None = None


@dataclass(frozen=True)
class MicrosoftConfig:
    """Microsoft 365: the sign-in (`mailflow login`), and Graph where IMAP or SMTP is not set.

    `mailbox` is whose mail Graph reads: None is the signed-in user (/me), or with a
    certificate (app-only, no user) the tracker address.
    """

    tenant: str
    client_id: str
    authority: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"
    mailbox: str | None = None
    certificate: Path | None = None
    certificate_key: Path | None = None
    ca_file: Path | None = None
    folder: str = "inbox"
    processed_folder: str | None = _MAILBOX.processed_folder
    quarantine_folder: str = _MAILBOX.quarantine_folder
    poll_interval: int = _MAILBOX.poll_interval
    batch_size: int = 50
    timeout: float = 30.0

    @property
    def app_only(self) -> bool:
        return self.certificate is not None


@dataclass(frozen=True)
class PartnerEntry:
    email: tuple[str, ...]
    name: str = ""
    niche: str = ""
    notes: str = ""
    domain: str | None = None
    language: str | None = None  # what they read (en de fr es nl); unset: learned or default
    timezone: str | None = None  # an IANA zone: their business hours are theirs
    country: str | None = None  # whose public holidays are theirs; unset: their zone's
    catch_up_days: int | None = None  # no exchange for longer: the digest says catch up


@dataclass(frozen=True)
class BusinessHours:
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    holidays: frozenset[date] = frozenset()
    # whose public holidays are days off too: a country code (GB, DE, US…), "none", or
    # None to take the country of `timezone`
    country: str | None = None
    subdivision: str | None = None  # a state or region, where holidays differ (DE-BY: BY)


@dataclass(frozen=True)
class WorkflowConfig:
    steps: tuple[StepConfig, ...]
    received_steps: tuple[StepConfig, ...] = default_received_steps()
    acknowledge_referrer: bool = True
    confirm_replies: bool = True
    max_per_recipient_per_day: int = 1
    max_per_referral: int = 8
    digest_every_days: int = 7
    catch_up_after_days: int = 90
    slow_contact_hours: float = 48.0
    max_notices_per_recipient_per_day: int = 3
    history_after_days: int = 14
    max_partners_per_intro: int = 5
    answer_within: timedelta = timedelta(hours=2)
    grace: tuple[float, str] = (2.0, "business days")  # steps' own `grace:` overrides it


@dataclass(frozen=True)
class PrivacyConfig:
    """`privacy:` and `retention:`: when a "forget me" is carried out, and when the texts
    of closed referrals are dropped (None: never)."""

    forget_after_days: int = 7
    retention_closed_months: int | None = None


@dataclass(frozen=True)
class Config:
    path: Path
    trackers: tuple[str, ...]
    database: Path
    timezone: ZoneInfo
    referrers: tuple[str, ...]
    partners: tuple[PartnerEntry, ...]
    business_hours: BusinessHours
    workflow: WorkflowConfig
    secret: Secret | None = None
    imap: ImapConfig | None = None
    maildir: Path | None = None
    smtp: SmtpConfig | None = None
    outbox_dir: Path | None = None
    templates_dir: Path | None = None
    reply_tokens: str = "off"
    admin: str | None = None
    trust_authentication_results: str | None = None
    alert_after_minutes: int = 60
    language: str = "en"  # the firm's: the referrers' and anyone's not otherwise known
    currency: str | None = None  # ISO 4217 of referral values; None: the firm's country's
    microsoft: MicrosoftConfig | None = None
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tracker(self) -> str:
        return self.trackers[0]


def _defaults(cls: type) -> dict[str, Any]:
    """A config class's field defaults: each default is written once, in its class."""
    return {f.name: f.default for f in fields(cls) if f.default is not MISSING}


def _path(base: Path, value: str) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else (base / path)


def _secret(section: Section, key: str, required: bool) -> Secret | None:
    sources = {
        "env": section.raw(f"{key}_env", None),
        "path": section.raw(f"{key}_file", None),
        "command": section.raw(f"{key}_command", None),
        "literal": section.raw(key, None),
    }
    given = {k: v for k, v in sources.items() if v is not None}
    if len(given) > 1:
        raise section.error(key, f"give only one of {key}_env, {key}_file, {key}_command")
    if not given:
        if required:
            raise section.error(f"{key}_env", f"is required (or {key}_file / {key}_command)")
        return None
    (kind, value), = given.items()
    if not isinstance(value, str) or not value:
        raise section.error(key, "expected a non-empty string")
    base = Path(section.file).parent
    return Secret(section.file, section.key(key),
                  env=value if kind == "env" else None,
                  path=_path(base, value) if kind == "path" else None,
                  command=value if kind == "command" else None,
                  literal=value if kind == "literal" else None)


def _oauth2(section: Section) -> Secret | None:
    """XOAUTH2: a command that prints a fresh access token (e.g. from oama or mutt_oauth2)."""
    command = section.string("oauth2_token_command", None)
    if command is None:
        return None
    if section.has("password") or section.has("password_env") or section.has("password_file") \
            or section.has("password_command"):
        raise section.error("oauth2_token_command", "give either a password or "
                            "oauth2_token_command, not both")
    return Secret(section.file, section.key("oauth2_token"), command=command)


def _imap(section: Section, base: Path, microsoft: bool = False) -> ImapConfig:
    """`microsoft`: a `microsoft:` section signs in, so no password is needed (XOAUTH2)."""
    tls = section.choice("tls", TLS_MODES, "ssl")
    oauth2 = _oauth2(section)
    password = _secret(section, "password", required=oauth2 is None and not microsoft)
    ca_file = section.string("ca_file", None)
    default = _defaults(ImapConfig)
    config = ImapConfig(
        host=section.string("host"),
        port=section.integer("port", 993 if tls == "ssl" else 143, minimum=1, maximum=65535),
        tls=tls,
        username=section.string("username"),
        password=password,
        folder=section.string("folder", default["folder"]),
        processed_folder=(None if section.raw("processed_folder", "x") is False
                          else section.string("processed_folder", default["processed_folder"])),
        quarantine_folder=section.string("quarantine_folder", default["quarantine_folder"]),
        idle=section.boolean("idle", default["idle"]),
        poll_interval=section.integer("poll_interval", default["poll_interval"], minimum=5),
        batch_size=section.integer("batch_size", default["batch_size"], minimum=1),
        verify_certificates=section.boolean("verify_certificates",
                                            default["verify_certificates"]),
        ca_file=_path(base, ca_file) if ca_file else None,
        sent_folder=section.string("sent_folder", default["sent_folder"]),
        oauth2_token=oauth2,
    )
    section.finish()
    return config


def _smtp(section: Section, base: Path) -> SmtpConfig:
    tls = section.choice("tls", TLS_MODES, "starttls")
    ca_file = section.string("ca_file", None)
    default = _defaults(SmtpConfig)
    config = SmtpConfig(
        host=section.string("host"),
        port=section.integer("port", {"ssl": 465, "starttls": 587, "none": 25}[tls], minimum=1,
                             maximum=65535),
        tls=tls,
        username=section.string("username", None),
        password=_secret(section, "password", required=False),
        verify_certificates=section.boolean("verify_certificates",
                                            default["verify_certificates"]),
        ca_file=_path(base, ca_file) if ca_file else None,
        timeout=section.number("timeout", default["timeout"]),
        oauth2_token=_oauth2(section),
    )
    section.finish()
    return config


def _https_url(section: Section, key: str, default: str) -> str:
    url: str = section.string(key, default)
    if not url.startswith("https://"):
        raise section.error(key, f'expected an https:// address, got "{url}"')
    return url.rstrip("/")


def _microsoft(section: Section, base: Path) -> MicrosoftConfig:
    default = _defaults(MicrosoftConfig)
    certificate = section.string("certificate", None)
    certificate_key = section.string("certificate_key", None)
    if (certificate is None) != (certificate_key is None):
        raise section.error("certificate_key" if certificate else "certificate",
                            "give both certificate and certificate_key (app-only sign-in), "
                            "or neither")
    mailbox = section.string("mailbox", None)
    ca_file = section.string("ca_file", None)
    config = MicrosoftConfig(
        tenant=section.string("tenant"),
        client_id=section.string("client_id"),
        authority=_https_url(section, "authority", default["authority"]),
        graph_url=_https_url(section, "graph_url", default["graph_url"]),
        mailbox=_email(section, "mailbox", mailbox) if mailbox else None,
        certificate=_path(base, certificate) if certificate else None,
        certificate_key=_path(base, certificate_key) if certificate_key else None,
        ca_file=_path(base, ca_file) if ca_file else None,
        folder=section.string("folder", default["folder"]),
        processed_folder=(None if section.raw("processed_folder", "x") is False
                          else section.string("processed_folder", default["processed_folder"])),
        quarantine_folder=section.string("quarantine_folder", default["quarantine_folder"]),
        poll_interval=section.integer("poll_interval", default["poll_interval"], minimum=5),
        batch_size=section.integer("batch_size", default["batch_size"], minimum=1,
                                   maximum=1000),
        timeout=section.number("timeout", default["timeout"]),
    )
    section.finish()
    return config


def _email(section: Section, name: str, value: str) -> str:
    if not is_plain_address(value):
        raise section.error(name, f'expected an email address, got "{value}"')
    return value.lower()


def partner_entry(data: dict[str, Any], where: str = "command line") -> PartnerEntry:
    """A partner validated exactly as the config file's `partners` entries are."""
    return _partner(Section(where, "partner", {k: v for k, v in data.items() if v}))


def _partner(section: Section) -> PartnerEntry:
    emails = section.strings("email")
    default = _defaults(PartnerEntry)
    entry = PartnerEntry(
        email=tuple(_email(section, "email", e) for e in emails),
        name=section.string("name", default["name"]),
        niche=section.string("niche", default["niche"]),
        notes=section.string("notes", default["notes"]),
        domain=section.string("domain", default["domain"]),
        language=section.convert("language", _language, LANGUAGE_EXPECTED, None),
        timezone=section.convert("timezone", _zone_name, ZONE_EXPECTED, None),
        country=section.convert("country", _country, "a country code such as DE or US",
                                None),
        catch_up_days=section.convert("catch_up_days", _days, "a number of days (1 or more)",
                                      None),
    )
    section.finish()
    return entry


LANGUAGE_EXPECTED = "one of " + " | ".join(SUPPORTED)
ZONE_EXPECTED = "an IANA time zone such as Europe/London"


def _language(value: Any) -> str:
    code = normalise(value) if isinstance(value, str) else None
    if code is None:
        raise ValueError(value)
    return code


def _currency(value: Any) -> str:
    from babel.numbers import is_currency

    code = str(value).strip().upper()
    if not is_currency(code):
        raise ValueError(value)
    return code


def _days(value: Any) -> int:
    days = int(value)
    if isinstance(value, bool) or days < 1 or str(days) != str(value).strip():
        raise ValueError(value)
    return days


def _zone_name(value: Any) -> str:
    return str(ZoneInfo(str(value).strip()).key)


def _country(value: Any) -> str:
    from mailflow.adapters.public_holidays import supported

    code = str(value).strip().upper()
    if not supported(code):
        raise ValueError(value)
    return code


def _time(value: Any) -> time:
    if isinstance(value, int):  # YAML reads 09:00 unquoted as sexagesimal minutes
        return time(value // 60, value % 60)
    return time.fromisoformat(str(value))


def _business_hours(section: Section | None) -> BusinessHours:
    if section is None:
        return BusinessHours()
    default = _defaults(BusinessHours)
    days = section.strings("days", tuple(DAY_NAMES[d] for d in sorted(default["days"])))
    for day in days:
        if day.lower()[:3] not in DAY_NAMES:
            raise section.error("days", f'expected day names like mon, tue, got "{day}"')
    holidays = section.raw("holidays", [])
    if not isinstance(holidays, list):
        raise section.error("holidays", "expected a list of dates (YYYY-MM-DD)")
    parsed: set[date] = set()
    for item in holidays:
        try:
            parsed.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError as exc:
            raise section.error("holidays", f'expected dates as YYYY-MM-DD, got "{item}"') from exc
    hours = BusinessHours(
        days=frozenset(DAY_NAMES.index(d.lower()[:3]) for d in days),
        opens=section.convert("opens", _time, "a time like 09:00", default["opens"]),
        closes=section.convert("closes", _time, "a time like 17:00", default["closes"]),
        holidays=frozenset(parsed),
        country=section.string("country", None),
        subdivision=section.string("subdivision", None),
    )
    if hours.closes <= hours.opens:
        raise section.error("closes", "must be later than opens")
    section.finish()
    return hours


def _delay(section: Section, key: str, default: str) -> tuple[float, str]:
    """A delay such as "1 business day" as (amount, plural unit)."""
    text = section.string(key, default)
    match = _DELAY.match(text)
    if not match:
        raise section.error(key, 'expected a delay like "1 business day", "3 business '
                                 f'hours", "7 days" or "2 hours", got "{text}"')
    unit = match.group(2) if match.group(2).endswith("s") else match.group(2) + "s"
    return float(match.group(1)), unit


def _duration(section: Section, key: str, default: str) -> timedelta:
    """A wall-clock delay such as "2 hours" (business units make no sense here)."""
    amount, unit = _delay(section, key, default)
    if unit not in ("hours", "days"):
        raise section.error(key, f'expected hours or days, like "2 hours", got "{unit}"')
    return timedelta(hours=amount) if unit == "hours" else timedelta(days=amount)


def _step(section: Section, grace: tuple[float, str] = (2, "business days")) -> StepConfig:
    amount, unit = _delay(section, "after", "0 hours")
    grace_amount, grace_unit = _delay(section, "grace", f"{grace[0]:g} {grace[1]}")
    unless = section.strings("unless", ())
    for condition in unless:
        if condition not in STEP_CONDITIONS:
            raise section.error("unless", f"expected any of {', '.join(STEP_CONDITIONS)}, "
                                          f'got "{condition}"')
    name = section.string("name")
    step = StepConfig(
        name=name,
        to=Role(section.choice("to", tuple(r.value for r in Role))),
        template=section.string("template", name),
        after_amount=amount,
        after_unit=unit,
        since=section.choice("since", STEP_ANCHORS, "intake"),
        unless=unless,
        once_per_partner=section.boolean("once_per_partner", False),
        grace_amount=grace_amount,
        grace_unit=grace_unit,
        presumes=section.string("presumes", ""),
    )
    section.finish()
    return step


def _workflow(section: Section | None) -> WorkflowConfig:
    if section is None:
        return WorkflowConfig(steps=default_steps())
    grace = _delay(section, "grace", "2 business days")
    steps = (tuple(_step(s, grace) for s in section.items("steps"))
             if section.has("steps") else None)
    if steps is not None and len({s.name for s in steps}) != len(steps):
        raise section.error("steps", "step names must be unique")
    for step in steps or ():
        if step.presumes and step.presumes not in {s.name for s in steps or ()}:
            raise section.error("steps", f'{step.name} presumes "{step.presumes}", '
                                         "which is not a step")
    # received referrals' own steps; `received_steps: []` turns them all off
    received = (tuple(_step(s, grace) for s in section.items("received_steps"))
                if section.has("received_steps") else default_received_steps())
    names = [s.name for s in received]
    if len(set(names)) != len(names) or set(names) & {s.name for s in steps or ()}:
        raise section.error("received_steps", "step names must be unique, across both lists")
    default = _defaults(WorkflowConfig)

    def count(key: str, minimum: int) -> Any:
        return section.integer(key, default[key], minimum=minimum)

    config = WorkflowConfig(
        steps=steps if steps else default_steps(),
        received_steps=received,
        acknowledge_referrer=section.boolean("acknowledge_referrer",
                                             default["acknowledge_referrer"]),
        confirm_replies=section.boolean("confirm_replies", default["confirm_replies"]),
        max_per_recipient_per_day=count("max_per_recipient_per_day", 1),
        max_per_referral=count("max_per_referral", 1),
        digest_every_days=count("digest_every_days", 0),
        catch_up_after_days=count("catch_up_after_days", 1),
        slow_contact_hours=section.number("slow_contact_hours", default["slow_contact_hours"]),
        max_notices_per_recipient_per_day=count("max_notices_per_recipient_per_day", 1),
        history_after_days=count("history_after_days", 0),
        max_partners_per_intro=count("max_partners_per_intro", 1),
        answer_within=_duration(section, "answer_within", "2 hours"),
        grace=grace,
    )
    section.finish()
    return config


def _privacy(privacy: Section | None, retention: Section | None) -> PrivacyConfig:
    default = PrivacyConfig()
    forget_after = (privacy.integer("forget_after_days", default.forget_after_days, minimum=0,
                                    maximum=365) if privacy is not None
                    else default.forget_after_days)
    months = (retention.integer("closed_months", None, minimum=1, maximum=1200)
              if retention is not None else None)
    for section in (privacy, retention):
        if section is not None:
            section.finish()
    return PrivacyConfig(forget_after, months)


def parse_config(data: Any, path: Path) -> Config:
    """Validate an already-loaded YAML document; `path` locates relative paths and errors."""
    file = str(path)
    base = path.parent
    top = Section(file, "", data)
    trackers = tuple(_email(top, "tracker", t) for t in top.strings("tracker"))
    imap = top.section("imap")
    maildir = top.string("maildir", None)
    microsoft_section = top.section("microsoft")
    microsoft = (_microsoft(microsoft_section, base) if microsoft_section is not None
                 else None)
    if imap is not None and maildir is not None:
        raise top.error("maildir", "give either imap or maildir, not both")
    if imap is None and maildir is None and microsoft is None:
        raise top.error("imap", "is required (or maildir: PATH for a local mailbox, or "
                                "microsoft: for Microsoft Graph)")
    smtp = top.section("smtp")
    outbox_dir = top.string("outbox_dir", None)
    if smtp is not None and outbox_dir is not None:
        raise top.error("outbox_dir", "give either smtp or outbox_dir, not both")
    if smtp is None and outbox_dir is None and microsoft is None:
        raise top.error("smtp", "no way to send: add an `smtp:` section, `outbox_dir: PATH` "
                                "or `microsoft:` for Microsoft Graph")
    templates_dir = top.string("templates_dir", None)
    admin = top.string("admin", None)
    secret = _secret(top, "secret", required=False)
    # YAML 1.1 reads an unquoted `off` as false
    default = _defaults(Config)
    reply_tokens = ("off" if top.raw("reply_tokens", None) is False
                    else top.choice("reply_tokens", ("off", "plus"), default["reply_tokens"]))
    if reply_tokens == "plus" and secret is None:
        raise top.error("secret_env", "is required when reply_tokens is plus")
    config = Config(
        path=path,
        trackers=trackers,
        database=_path(base, top.string("database", "mailflow.db")),
        timezone=top.convert("timezone", ZoneInfo, ZONE_EXPECTED, ZoneInfo("UTC")),
        language=top.convert("language", _language, LANGUAGE_EXPECTED, default["language"]),
        currency=top.convert("currency", _currency, "a currency code such as EUR, GBP or USD",
                             None),
        referrers=tuple(r.lower() for r in top.strings("referrers", ())),
        partners=tuple(_partner(p) for p in top.items("partners")),
        business_hours=_business_hours(top.section("business_hours")),
        workflow=_workflow(top.section("workflow")),
        secret=secret,
        imap=_imap(imap, base, microsoft is not None) if imap is not None else None,
        maildir=_path(base, maildir) if maildir else None,
        smtp=_smtp(smtp, base) if smtp is not None else None,
        outbox_dir=_path(base, outbox_dir) if outbox_dir else None,
        templates_dir=_path(base, templates_dir) if templates_dir else None,
        reply_tokens=reply_tokens,
        admin=_email(top, "admin", admin) if admin else None,
        trust_authentication_results=top.string("trust_authentication_results", None),
        alert_after_minutes=top.integer("alert_after_minutes", default["alert_after_minutes"],
                                        minimum=1),
        microsoft=microsoft,
        privacy=_privacy(top.section("privacy"), top.section("retention")),
    )
    top.finish()
    return config


def _yaml_where(exc: yaml.YAMLError) -> str:
    """Where a YAML mistake is: the parser gives up at one line, often lines after the
    mistake, so the start of the construct it was reading is named too."""
    problem = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    if problem is None:
        return "(yaml)"
    if context is not None and context.line != problem.line:
        return f"line {problem.line + 1} (in what starts at line {context.line + 1})"
    return f"line {problem.line + 1}"


def load_config(path: Path) -> Config:
    """Read and validate `path`; every problem is a ConfigError naming file and key."""
    where_file = str(path.resolve())
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(where_file, "", "no such file (create one with `mailflow init`)") \
            from exc
    except OSError as exc:
        raise ConfigError(where_file, "", f"cannot read: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(where_file, _yaml_where(exc),
                          f"not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    return parse_config(data, path.resolve())
