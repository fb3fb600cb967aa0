"""The one error family of mailflow.

MailflowError            anything the user can act on; the CLI prints it on one line
├── ConfigError          a config file or key is wrong (names the file and the key)
├── MailboxError         the mailbox (IMAP server or Maildir) cannot be used
├── SendError            the outgoing transport (SMTP or outbox dir) cannot be used
│   └── PermanentSendError   the server refused a message for good (5xx)
├── SignInError          the stored Microsoft sign-in cannot give a token (run `mailflow login`)
├── TemplateError        a template is missing or does not render
└── UsageError           a command was given something it cannot act on (unknown REF…)

Anything else escaping to the CLI is a bug and keeps its traceback.
"""


class MailflowError(Exception):
    """An error with a message meant for the user."""


class ConfigError(MailflowError):
    """The configuration is invalid."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(f"{where}{problem}")


class MailboxError(MailflowError):
    """The mailbox cannot be read or written."""


class SendError(MailflowError):
    """The message could not be handed over now; retrying later may work."""


class PermanentSendError(SendError):
    """The server refused the message for good (SMTP 5xx)."""


class SignInError(MailflowError):
    """The Microsoft sign-in cannot give a token: never signed in, lapsed, consent missing.

    The daemon alerts the admin at once: waiting does not mend it, a person must act.
    """


class TemplateError(MailflowError):
    """A template is missing or failed to render."""


class UsageError(MailflowError):
    """A command was asked to do something it cannot."""
