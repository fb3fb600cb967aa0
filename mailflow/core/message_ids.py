"""The Message-IDs of the emails mailflow sends, minted in one place."""

from __future__ import annotations

from mailflow.core.addressing import split_address


def mint(what: str, installation: str, tracker: str) -> str:
    """`what` the email is (unique within one installation), the installation's random part
    (so that robot mail can be matched to our own mail only), and the tracker's domain."""
    return f"{what}.{installation}@mailflow.{split_address(tracker)[1]}"
