"""Real servers for the integration tests: Dovecot (IMAP) and aiosmtpd (SMTP)."""

from tests.integration.dovecot_server import dovecot, dovecot_tls, imap_account
from tests.integration.smtp_server import smtp_server
from tests.integration.world import world

__all__ = ["dovecot", "dovecot_tls", "imap_account", "smtp_server", "world"]
