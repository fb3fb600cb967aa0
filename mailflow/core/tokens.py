"""Signed reply addresses: `tracker+r42.<mac>@domain` routes a reply to R-42.

The MAC covers the referral and the recipient's address, so a token only works
for the person it was sent to and cannot be made up or moved to another referral.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from mailflow.core.addressing import split_address

_TOKEN = re.compile(r"^r(\d+)\.([0-9a-z]{10})$")
_TOKEN_LIKE = re.compile(r"^r\d+(?:\.|$)")
MAC_LENGTH = 10


def _mac(secret: str, referral_id: int, recipient: str) -> str:
    message = f"{referral_id}:{recipient.lower()}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return digest[:MAC_LENGTH]


def reply_address(tracker: str, secret: str, referral_id: int, recipient: str) -> str:
    base, domain, _ = split_address(tracker)
    return f"{base}+r{referral_id}.{_mac(secret, referral_id, recipient)}@{domain}"


@dataclass(frozen=True)
class TokenCheck:
    """A token found in a recipient address: the referral it names, or why it was refused."""

    referral_id: int | None
    problem: str = ""


def check_token(detail: str, secret: str, sender: str) -> TokenCheck | None:
    """None when `detail` is not a token at all; else the verified referral or the problem."""
    match = _TOKEN.match(detail.lower())
    if match is None:
        if _TOKEN_LIKE.match(detail.lower()):  # shaped like a token: never fall back
            return TokenCheck(None, f"malformed reply token {detail[:40]!r}")
        return None
    referral_id = int(match.group(1))
    if hmac.compare_digest(match.group(2), _mac(secret, referral_id, sender)):
        return TokenCheck(referral_id)
    return TokenCheck(None, f"token for R-{referral_id} is not valid for {sender}")
