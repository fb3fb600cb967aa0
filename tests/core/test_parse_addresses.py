"""The fast address split agrees with the stdlib's getaddresses on every header we have."""

from __future__ import annotations

import email
from email.header import Header
from email.utils import getaddresses
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

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
    ("=?utf-8?q?Zo=C3=AB?= <z@x.example>", True),
    ("=?utf-8?b?Wm/DqyBIYWxs?= <z@x.example>, =?utf-8?q?Chlo=C3=A9_G?= <c@y.example>", True),
    ("Bob <bob@law.example> (work)", False),
    ("undisclosed-recipients:;", False),
    ("[ <a@x.example>", False),  # a domain literal's bracket: getaddresses reads it its way
    ("a@[192.0.2.1]", False),
])
def test_fast_path_only_for_plain_forms(value: str, simple: bool) -> None:
    assert (_split_simple(value) is not None) is simple


_NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
_LOCALS = st.from_regex(r"[a-z0-9._+-]{1,8}", fullmatch=True)


@st.composite
def _mailbox(draw: st.DrawFn) -> str:
    address = f"{draw(_LOCALS)}@{draw(st.sampled_from(['x.example', 'mail.y.example']))}"
    name = draw(_NAMES)
    form = draw(st.sampled_from(["bare", "plain", "encoded-q", "encoded-b", "quoted"]))
    if form == "bare" or not name.strip():
        return address
    if form == "plain":
        return f"{name} <{address}>"
    if form == "quoted":
        return '"' + name.replace("\\", "").replace('"', "") + f'" <{address}>'
    encoding = "q" if form == "encoded-q" else "b"
    return Header(name, "utf-8").encode().replace("?b?", f"?{encoding}?") \
        if encoding == "b" else f"{_q_encoded(name)} <{address}>"


def _q_encoded(name: str) -> str:
    """An RFC 2047 Q-encoded word, written by hand so it may hold raw specials."""
    body = "".join(ch if ch.isascii() and ch.isalnum() else
                   "".join(f"={b:02X}" for b in ch.encode()) for ch in name)
    return f"=?utf-8?q?{body}?="


@given(st.lists(_mailbox(), min_size=1, max_size=4))
@example(["[ <0@x.example>"])  # found by this test: a bracket in the name
def test_fast_path_agrees_with_getaddresses(mailboxes: list[str]) -> None:
    """Whichever path a header takes, it comes out as it would through getaddresses."""
    value = ", ".join(mailboxes)
    ours = parse_addresses([value])
    with patch("mailflow.core.parse._split_simple", return_value=None):  # the slow path
        assert ours == parse_addresses([value])
