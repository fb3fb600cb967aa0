"""The fast address split agrees with the stdlib's getaddresses on every header we have."""

from __future__ import annotations

import email
from email.utils import getaddresses
from pathlib import Path

import pytest

from mailflow.core.parse import _split_simple, decode_header_value, parse_addresses

MAIL = Path(__file__).parents[1] / "mail"
HEADERS = [(path.name, value) for path in sorted(MAIL.rglob("*.eml"))
           for name, value in email.message_from_bytes(path.read_bytes()).raw_items()
           if name.lower() in ("from", "to", "cc", "reply-to")]


def reference(value: str) -> list[tuple[str, str]]:
    return [(decode_header_value(n).strip('"').strip(), a.strip("<>").lower())
            for n, a in getaddresses([value]) if "@" in a]


@pytest.mark.parametrize(("name", "value"), HEADERS, ids=[f"{n}:{i}" for i, (n, _) in
                                                         enumerate(HEADERS)])
def test_same_as_getaddresses(name: str, value: str) -> None:
    ours = [(a.name, a.email) for a in parse_addresses([value])]
    assert ours == list(dict((a, (n, a)) for n, a in reference(str(value))).values())


@pytest.mark.parametrize(("value", "simple"), [
    ("Jane Doe <jane@gmail.com>, bob@law.example", True),
    ('"Doe, Jane" <j@x.example>', False),
    ("=?utf-8?q?Zo=C3=AB?= <z@x.example>", False),
    ("Bob <bob@law.example> (work)", False),
    ("undisclosed-recipients:;", False),
])
def test_fast_path_only_for_plain_forms(value: str, simple: bool) -> None:
    assert (_split_simple(value) is not None) is simple
