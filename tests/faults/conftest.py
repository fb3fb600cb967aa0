"""The real servers of the integration tests, for the fault trials."""

from tests.integration.dovecot_server import dovecot

__all__ = ["dovecot"]
