"""Which addresses are ours, and who may create referrals."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

_PLAIN_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


MAX_ADDRESS = 254  # RFC 5321's limit on a path, so on any address that can be mailed


def is_plain_address(value: str) -> bool:
    """One bare address (local@domain.tld): no spaces, line breaks or second '@', and no
    longer than an address can be."""
    return len(value) <= MAX_ADDRESS and _PLAIN_ADDRESS.fullmatch(value) is not None


def split_address(email: str) -> tuple[str, str, str | None]:
    """(local, domain, plus-detail) of an address; detail is None without a '+'."""
    local, _, domain = email.lower().rpartition("@")
    base, plus, detail = local.partition("+")
    return base, domain, (detail if plus else None)


@dataclass(frozen=True)
class Trackers:
    """The tracking addresses; `referrals+anything@firm.example` matches `referrals@`."""

    addresses: tuple[str, ...]

    def matches(self, email: str) -> bool:
        return self.detail(email) is not None

    def detail(self, email: str) -> str | None:
        """'' for a plain tracker address, the plus-detail for a variant, None for others.

        Remembered per address: a message asked it about 7 times (its recipients, read
        for the intro and for the reply token; bench/handle.py), 0.5 us each."""
        known = self._details
        if email in known:
            return known[email]
        if len(known) >= 10_000:  # a bound on memory (most are the firm's and partners')
            known.clear()
        base, domain, detail = split_address(email)
        found = known[email] = (detail or "") if (base, domain) in self._bases else None
        return found

    @cached_property
    def _details(self) -> dict[str, str | None]:
        return {}

    @cached_property
    def _bases(self) -> frozenset[tuple[str, str]]:
        """(local, domain) of each tracker, split once: asked of every recipient."""
        return frozenset(split_address(tracker)[:2] for tracker in self.addresses)


def matches_pattern(email: str, pattern: str) -> bool:
    """`*@domain` matches the domain and its subdomains' exact name; anything else is exact."""
    email, pattern = email.lower(), pattern.lower()
    if pattern.startswith("*@"):
        return email.rpartition("@")[2] == pattern[2:]
    return email == pattern


def is_referrer(email: str, patterns: Iterable[str]) -> bool:
    return any(matches_pattern(email, p) for p in patterns)
