"""Trusting the receiving server's Authentication-Results (RFC 8601) about From.

Only headers added by our own server (its authserv-id) count: anyone can put
an Authentication-Results header in a message they send.
"""

from __future__ import annotations

import re

from mailflow.core.model import InboundMessage

_RESULT = re.compile(r"\b(dmarc|dkim|spf)\s*=\s*(\w+)([^;]*)", re.IGNORECASE)


def _aligned(domain: str, sender_domain: str) -> bool:
    domain, sender_domain = domain.lower().strip(), sender_domain.lower()
    return sender_domain == domain or sender_domain.endswith("." + domain)


def sender_verified(message: InboundMessage, authserv_id: str) -> tuple[bool, str]:
    """Whether our server vouches for the From domain: DMARC pass, or aligned DKIM/SPF pass."""
    sender = message.from_.email if message.from_ else ""
    sender_domain = sender.rpartition("@")[2]
    ours = [v for v in message.header_all("authentication-results")
            if v.strip().split(";")[0].strip().split()[0].lower() == authserv_id.lower()]
    if not ours:
        return False, f"no Authentication-Results from {authserv_id}"
    for value in ours:
        for method, result, props in _RESULT.findall(value):
            if result.lower() != "pass":
                continue
            method = method.lower()
            if method == "dmarc":
                return True, "dmarc=pass"
            found = re.search(r"(?:header\.d|header\.i|smtp\.mailfrom)\s*=\s*([\w.@+-]+)",
                              props)
            domain = found.group(1).rpartition("@")[2] if found else ""
            if domain and _aligned(domain, sender_domain):
                return True, f"{method}=pass aligned with {sender_domain}"
    return False, f"{authserv_id} did not authenticate {sender_domain}"
