"""TLS set-up shared by the IMAP and SMTP adapters: verified by default, plain-worded errors."""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(verify: bool = True, ca_file: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def tls_problem(exc: ssl.SSLError) -> str:
    """'certificate verify failed: self-signed certificate' rather than an OpenSSL code."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    return str(getattr(exc, "reason", None) or exc)
