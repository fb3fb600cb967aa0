"""Trusting the receiving server's Authentication-Results (RFC 8601) about From.

Anyone can put an Authentication-Results header in a message they send, even one
naming our server. Our server adds its own header on top, so only the topmost
header with our authserv-id counts: anything below it was there before our server
saw the message. The header is parsed by `authres` (the RFC 8601 parser dkimpy
uses), so comments such as `(smtp.mailfrom=firm.example)` are never read as results.
"""

from __future__ import annotations

import authres

from mailflow.core.model import InboundMessage


def _aligned(domain: str, sender_domain: str) -> bool:
    domain, sender_domain = domain.lower().strip().rstrip("."), sender_domain.lower()
    return bool(domain) and (sender_domain == domain or sender_domain.endswith("." + domain))


def _authserv_id(value: str) -> str:
    first = value.split(";", 1)[0].split()
    return first[0].lower() if first else ""


def _property(result: object, ptype: str, name: str) -> str:
    for prop in getattr(result, "properties", ()):
        if prop.type == ptype and prop.name == name:
            return str(prop.value or "")
    return ""


def sender_verified(message: InboundMessage, authserv_id: str) -> tuple[bool, str]:
    """Whether our server vouches for the From domain: DMARC pass, or aligned DKIM/SPF pass."""
    sender = message.from_.email if message.from_ else ""
    sender_domain = sender.rpartition("@")[2]
    ours = next((v for v in message.header_all("authentication-results")
                 if _authserv_id(v) == authserv_id.lower()), None)
    if ours is None:
        return False, f"no Authentication-Results from {authserv_id}"
    try:
        header = authres.AuthenticationResultsHeader.parse(f"Authentication-Results: {ours}")
    except Exception:  # authres raises its own SyntaxError and others on garbage
        return False, f"unreadable Authentication-Results from {authserv_id}"
    for result in header.results:
        if str(result.result).lower() != "pass":
            continue
        method = str(result.method).lower()
        if method == "dmarc":
            checked = _property(result, "header", "from")
            if not checked or checked.lower().rstrip(".") == sender_domain.lower():
                return True, "dmarc=pass"
        elif method == "dkim":
            domain = (_property(result, "header", "d")
                      or _property(result, "header", "i").rpartition("@")[2])
            if _aligned(domain, sender_domain):
                return True, f"dkim=pass aligned with {sender_domain}"
        elif method == "spf":
            domain = _property(result, "smtp", "mailfrom").rpartition("@")[2]
            if _aligned(domain, sender_domain):
                return True, f"spf=pass aligned with {sender_domain}"
    return False, f"{authserv_id} did not authenticate {sender_domain}"
