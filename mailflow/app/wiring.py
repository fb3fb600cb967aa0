"""Building the running parts from a config: store, mailbox, mailer, renderer, calendar."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailflow.adapters.file_mailer import FileMailer
from mailflow.adapters.mailbox import MailboxSettings, MailboxSource
from mailflow.adapters.maildir_mailbox import MaildirMailbox, ensure_maildir
from mailflow.adapters.mailer import Mailer
from mailflow.adapters.renderer import Renderer
from mailflow.adapters.smtp_mailer import SmtpMailer
from mailflow.adapters.store import Store
from mailflow.app.directory import seed_from_config
from mailflow.app.dispatch import Dispatcher
from mailflow.app.inbound import Handler, ReplyPolicy
from mailflow.app.ingest import Folders
from mailflow.app.planning import calendar_of
from mailflow.config import Config, MicrosoftConfig
from mailflow.core.addressing import Trackers
from mailflow.core.business_time import BusinessCalendar
from mailflow.errors import MailboxError, MailflowError, SendError

if TYPE_CHECKING:  # MSAL and requests are imported only where Microsoft 365 is used
    from mailflow.adapters.graph_http import GraphClient
    from mailflow.adapters.ms_identity import Identity, SignInSettings


def secret_of(config: Config, store: Store) -> str:
    """The HMAC secret: from the config when given, else one generated and kept in the store."""
    if config.secret is not None:
        return config.secret.reveal()
    stored = store.meta("secret")
    if stored is None:
        with store.atomic():  # read again under the lock: two first starts keep one secret
            stored = store.meta("secret") or secrets.token_hex(32)
            store.set_meta("secret", stored)
    return stored


def imap_signs_in(config: Config) -> bool:
    """IMAP takes its XOAUTH2 token from `mailflow login` (no password, no token command)."""
    imap = config.imap
    return (imap is not None and config.microsoft is not None and imap.password is None
            and imap.oauth2_token is None)


def smtp_signs_in(config: Config) -> bool:
    smtp = config.smtp
    return (smtp is not None and config.microsoft is not None and smtp.username is not None
            and smtp.password is None and smtp.oauth2_token is None)


def graph_reads(config: Config) -> bool:
    """Microsoft Graph is the mailbox: `microsoft:` and neither `imap:` nor `maildir:`."""
    return config.microsoft is not None and config.imap is None and config.maildir is None


def graph_sends(config: Config) -> bool:
    return config.microsoft is not None and config.smtp is None and config.outbox_dir is None


def sign_in_scopes(config: Config) -> list[tuple[str, ...]]:
    """The scopes each service signs in with, one tuple per resource (one sign-in request
    cannot span two): Exchange's IMAP and SMTP, then Graph. Empty: nothing signs in."""
    from mailflow.adapters import ms_identity as ms
    microsoft = config.microsoft
    if microsoft is None:
        return []
    outlook: tuple[str, ...] = ()
    if microsoft.app_only:
        outlook = (ms.APP_ONLY_OUTLOOK,) if imap_signs_in(config) or smtp_signs_in(config) \
            else ()
        graph: tuple[str, ...] = (f"{microsoft.graph_url}/.default",)
    else:
        outlook = ((ms.IMAP_SCOPE,) if imap_signs_in(config) else ()) + (
            (ms.SMTP_SCOPE,) if smtp_signs_in(config) else ())
        graph = tuple(f"{microsoft.graph_url}/{scope}" for scope in ms.GRAPH_SCOPES)
    uses_graph = graph_reads(config) or graph_sends(config)
    return [scopes for scopes in (outlook, graph if uses_graph else ()) if scopes]


def sign_in_settings(config: Config) -> SignInSettings:
    from mailflow.adapters.ms_identity import SignInSettings, token_cache_path
    microsoft = config.microsoft
    assert microsoft is not None
    return SignInSettings(microsoft.tenant, microsoft.client_id, microsoft.authority,
                          token_cache_path(config.database), microsoft.ca_file,
                          microsoft.certificate, microsoft.certificate_key, microsoft.timeout)


@functools.lru_cache(maxsize=8)
def _identity(settings: SignInSettings) -> Identity:
    from mailflow.adapters.ms_identity import Identity
    return Identity(settings)


def identity_of(config: Config) -> Identity:
    """One sign-in per app registration and cache in a process, shared by the mailbox and
    the sender: a refresh is made once, and the tenant's configuration is read once."""
    return _identity(sign_in_settings(config))


def _oauth2_token(config: Config, scopes: tuple[str, ...]) -> Callable[[], str]:
    identity = identity_of(config)
    return lambda: identity.token(scopes)


def _graph_user(config: Config, microsoft: MicrosoftConfig) -> str:
    if microsoft.mailbox is not None:
        return f"/users/{microsoft.mailbox}"
    return f"/users/{config.tracker}" if microsoft.app_only else "/me"


def graph_client(config: Config, failure: type[MailflowError]) -> GraphClient:
    from mailflow.adapters.graph_http import GraphClient
    microsoft = config.microsoft
    assert microsoft is not None
    scopes = sign_in_scopes(config)[-1]
    identity = identity_of(config)
    return GraphClient(f"{microsoft.graph_url}/v1.0", _graph_user(config, microsoft),
                       identity.tokens(scopes), failure=failure, ca_file=microsoft.ca_file,
                       timeout=microsoft.timeout)


def open_mailbox(config: Config) -> MailboxSource:
    if config.imap is not None:
        from mailflow.adapters.imap_mailbox import ImapMailbox
        imap = config.imap
        token = (imap.oauth2_token.reveal() if imap.oauth2_token
                 else _oauth2_token(config, sign_in_scopes(config)[0])()
                 if imap_signs_in(config) else None)
        return ImapMailbox.connect(imap.host, imap.port, imap.tls, imap.username,
                                   imap.password.reveal() if imap.password else "", imap.folder,
                                   verify_certificates=imap.verify_certificates,
                                   ca_file=imap.ca_file, oauth2_token=token)
    if config.maildir is not None:
        ensure_maildir(config.maildir)
        return MaildirMailbox(config.maildir)
    from mailflow.adapters.graph_mailbox import GraphMailbox
    microsoft = config.microsoft
    assert microsoft is not None, "config validation requires imap, maildir or microsoft"
    return GraphMailbox.open(graph_client(config, MailboxError), microsoft.folder,
                             microsoft.ca_file, microsoft.timeout)


def make_mailer(config: Config) -> Mailer:
    if config.smtp is not None:
        smtp = config.smtp
        secret = smtp.oauth2_token
        token: Callable[[], str] | None = (
            secret.reveal if secret is not None
            else _oauth2_token(config, sign_in_scopes(config)[0]) if smtp_signs_in(config)
            else None)
        return SmtpMailer(smtp.host, smtp.port, smtp.tls, smtp.username,
                          smtp.password.reveal() if smtp.password else None,
                          verify_certificates=smtp.verify_certificates, ca_file=smtp.ca_file,
                          timeout=smtp.timeout, oauth2_token=token)
    if config.outbox_dir is not None:
        return FileMailer(config.outbox_dir)
    from mailflow.adapters.graph_mailer import GraphMailer
    assert config.microsoft is not None, "config validation requires smtp, outbox_dir or microsoft"
    return GraphMailer(graph_client(config, SendError))


def mailbox_settings(config: Config) -> MailboxSettings:
    """The source-independent settings; the only place that knows where they live."""
    imap = config.imap
    if imap is not None:
        return MailboxSettings(imap.processed_folder, imap.quarantine_folder, imap.batch_size,
                               imap.poll_interval, imap.idle, imap.sent_folder,
                               f"{imap.host} folder {imap.folder}", imap.username)
    microsoft = config.microsoft
    if config.maildir is None and microsoft is not None:
        user = _graph_user(config, microsoft).removeprefix("/users/").removeprefix("/")
        return MailboxSettings(microsoft.processed_folder, microsoft.quarantine_folder,
                               microsoft.batch_size, microsoft.poll_interval,
                               where=f"Microsoft Graph {user} folder {microsoft.folder}",
                               login=microsoft.mailbox)
    return MailboxSettings(where=str(config.maildir))


def folders_of(config: Config) -> Folders:
    settings = mailbox_settings(config)
    return Folders(settings.processed_folder, settings.quarantine_folder)


@dataclass
class App:
    """Everything one cycle needs; built once per process."""

    config: Config
    store: Store
    calendar: BusinessCalendar
    renderer: Renderer
    secret: str
    mailer: Mailer | None = None

    @property
    def handler(self) -> Handler:
        return Handler(self.store, Trackers(self.config.trackers), self.config.referrers,
                       self.secret, ReplyPolicy(self.config.workflow.confirm_replies,
                                   self.config.reply_tokens == "plus",
                                   self.config.privacy.forget_after_days),
                       self.config.trust_authentication_results,
                       self.config.workflow.max_partners_per_intro, config=self.config)

    @property
    def mailbox(self) -> MailboxSettings:
        return mailbox_settings(self.config)

    def dispatcher(self) -> Dispatcher:
        if self.mailer is None:
            self.mailer = make_mailer(self.config)
        return Dispatcher(self.store, self.config, self.calendar, self.renderer, self.mailer,
                          self.secret)

    def close(self) -> None:
        self.store.close()


def build_app(config: Config, mailer: Mailer | None = None) -> App:
    store = Store(config.database)
    seed_from_config(store, config.partners)
    return App(config, store, calendar_of(config), Renderer(config.templates_dir, config.language),
               secret_of(config, store), mailer)
