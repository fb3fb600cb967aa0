"""Building the running parts from a config: store, mailbox, mailer, renderer, calendar."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

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
from mailflow.config import Config
from mailflow.core.addressing import Trackers
from mailflow.core.business_time import BusinessCalendar


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


def open_mailbox(config: Config) -> MailboxSource:
    if config.imap is not None:
        from mailflow.adapters.imap_mailbox import ImapMailbox
        imap = config.imap
        return ImapMailbox.connect(imap.host, imap.port, imap.tls, imap.username,
                                   imap.password.reveal() if imap.password else "", imap.folder,
                                   verify_certificates=imap.verify_certificates,
                                   ca_file=imap.ca_file,
                                   oauth2_token=(imap.oauth2_token.reveal()
                                                 if imap.oauth2_token else None))
    assert config.maildir is not None
    ensure_maildir(config.maildir)
    return MaildirMailbox(config.maildir)


def make_mailer(config: Config) -> Mailer:
    if config.smtp is not None:
        smtp = config.smtp
        return SmtpMailer(smtp.host, smtp.port, smtp.tls, smtp.username,
                          smtp.password.reveal() if smtp.password else None,
                          verify_certificates=smtp.verify_certificates, ca_file=smtp.ca_file,
                          timeout=smtp.timeout,
                          oauth2_token=smtp.oauth2_token.reveal() if smtp.oauth2_token else None)
    assert config.outbox_dir is not None, "config validation requires smtp or outbox_dir"
    return FileMailer(config.outbox_dir)


def mailbox_settings(config: Config) -> MailboxSettings:
    """The source-independent settings; the only place that knows where they live."""
    imap = config.imap
    if imap is not None:
        return MailboxSettings(imap.processed_folder, imap.quarantine_folder, imap.batch_size,
                               imap.poll_interval, imap.idle, imap.sent_folder,
                               f"{imap.host} folder {imap.folder}", imap.username)
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
                       self.config.workflow.max_partners_per_intro)

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
    return App(config, store, calendar_of(config), Renderer(config.templates_dir),
               secret_of(config, store), mailer)
