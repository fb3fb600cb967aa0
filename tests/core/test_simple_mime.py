"""The plain-message shortcut (core/simple_mime.py) builds exactly the `Message` the email
package's feed parser makes, or leaves the message to it."""

from __future__ import annotations

import email
from email.message import Message
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench import realistic
from mailflow.core import parse
from mailflow.core.parse import MalformedMessage, parse_message
from mailflow.core.simple_mime import multipart_message, simple_message

MAIL = Path(__file__).parents[1] / "mail"
CORPUS = sorted(MAIL.rglob("*.eml"))

_ENDS = st.sampled_from(["\r\n", "\n", "\r", "\r\r\n"])
_NAMES = st.one_of(
    st.sampled_from(["From", "To", "Cc", "Subject", "Content-Type", "content-type",
                     "Content-Transfer-Encoding", "Message-ID", "X-Odd~Name!", "From ",
                     "Bad Name", "", ">From", "Date"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=6))
_VALUES = st.one_of(
    st.sampled_from(["text/plain; charset=utf-8", "text/html", "multipart/mixed; boundary=b",
                     "message/rfc822", "MULTIPART/alternative", "text/plain; name=a.pdf",
                     "quoted-printable", "base64", "Zo\udcc3\udcab <z@x.example>",
                     "=?utf-8?q?Zo=C3=AB?= <z@x.example>", "", "  ", "\t"]),
    st.text(st.characters(min_codepoint=0x09, max_codepoint=0x7e), max_size=12),
    st.text(max_size=8).map(lambda t: t.encode("utf-8", "replace")
                            .decode("ascii", "surrogateescape")))


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """Header blocks of every shape the feed parser tells apart, then a body."""
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["header", "header", "header", "continuation", "junk"]))
        if kind == "header":
            line = f"{draw(_NAMES)}:{draw(st.sampled_from(['', ' ', chr(9)]))}{draw(_VALUES)}"
        elif kind == "continuation":
            line = draw(st.sampled_from([" ", "\t"])) + draw(_VALUES)
        else:
            line = draw(_VALUES)
        lines.append(line + draw(_ENDS))
    if draw(st.booleans()):
        lines.append(draw(_ENDS))  # the blank line, usually
    body = draw(st.one_of(st.text(max_size=40), st.sampled_from(
        ["Hello\r\n", "=C3=A9t=C3=A9\r\n", "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
         "\r\n\r\n", "line\rline\nline\r\n"])))
    text = "".join(lines) + body
    return text.encode("utf-8", "surrogateescape")


def _same_message(ours: Message, theirs: Message) -> None:
    assert vars(ours) == vars(theirs)  # headers, payload, defects, unixfrom, default type


@given(messages())
@settings(max_examples=600)
@example(b"Subject: a\r\n continued\r\n\r\nbody")
@example(b"Subject: Xmas\r\nTo:\tXavier <x@x.example>\r\n\r\n")  # blanks go, the rest stays
@example(b"Subject: \r\n folded at once\r\n\r\n")
@example(b"X: a\r\r\nbody")  # the \r ends the line; \r\n is then the blank line
@example(b"From alice Mon Nov 23\r\nSubject: a\r\n\r\nx")  # an mbox line: the parser's
@example(b" first\r\nSubject: a\r\n\r\nx")  # a continuation with nothing before it
@example(b"Subject: a\r\nno colon here\r\n\r\nx")
@example(b"Subject: a")  # no line end, no body
@example(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n")
@example("Subject: Zoë\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCafé".encode())
def test_what_is_built_is_what_the_feed_parser_makes(raw: bytes) -> None:
    ours = simple_message(raw.decode("ascii", "surrogateescape"))
    if ours is not None:
        _same_message(ours, email.message_from_bytes(raw))


@given(st.binary(max_size=200))
def test_any_bytes_either_match_the_parser_or_are_left_to_it(raw: bytes) -> None:
    ours = simple_message(raw.decode("ascii", "surrogateescape"))
    if ours is not None:
        _same_message(ours, email.message_from_bytes(raw))


@pytest.mark.parametrize("raw", [
    b"Subject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n",
    b"subject: hi\n\n",
    b"Subject: a\r\n\tfolded with a tab\r\n  and spaces\r\nTo: b@x.example\r\n\r\nx",
    "Subject: Zoë\nFrom: Zoë <z@x.example>\n\nCafé\n".encode(),
])
def test_plain_mail_takes_the_shortcut(raw: bytes) -> None:
    assert simple_message(raw.decode("ascii", "surrogateescape")) is not None


@pytest.mark.parametrize("raw", [
    b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b--\r\n",
    b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx",
    b"From alice@x.example Mon Nov 23 09:00:00 2026\nSubject: a\n\nx",
    b"Subject: a\r\nnot a header\r\n\r\nx",
    b"Subject: a\r\n",
    b"\r\nSubject: a\r\n\r\n",
])
def test_anything_else_is_left_to_the_parser(raw: bytes) -> None:
    assert simple_message(raw.decode("ascii", "surrogateescape")) is None


def _parsed_both_ways(raw: bytes) -> tuple[object, object]:
    def outcome() -> object:
        try:
            return parse_message(raw)
        except MalformedMessage as exc:
            return str(exc)

    fast = outcome()
    with patch.object(parse, "simple_message", lambda _: None):
        slow = outcome()
    return fast, slow


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_every_corpus_message_parses_the_same_with_the_shortcut(path: Path) -> None:
    fast, slow = _parsed_both_ways(path.read_bytes())
    assert fast == slow


def test_a_realistic_mailbox_parses_the_same_with_the_shortcut() -> None:
    _, generated = realistic.messages(600, attachment_share=0.05)
    for raw in generated:
        fast, slow = _parsed_both_ways(raw)
        assert fast == slow


@given(messages())
@settings(max_examples=300)
def test_generated_messages_parse_the_same_with_the_shortcut(raw: bytes) -> None:
    fast, slow = _parsed_both_ways(raw)
    assert fast == slow


def _shape(message: Message) -> object:
    """A parsed message as plain data: its parts compared by content, defects by kind."""
    payload = message.get_payload()
    return ({k: v for k, v in vars(message).items() if k not in ("defects", "_payload")},
            [type(d) for d in message.defects],
            [_shape(p) for p in payload] if isinstance(payload, list) else payload)


@given(st.one_of(messages(), st.binary(max_size=200)))
def test_the_text_parse_here_is_what_message_from_bytes_makes(raw: bytes) -> None:
    """parse_message decodes once and hands the text on: the same as the bytes would give."""
    text = raw.decode("ascii", "surrogateescape")
    assert _shape(email.message_from_string(text)) == _shape(email.message_from_bytes(raw))


# --- multipart: the parts split at their delimiter lines (simple_mime.multipart_message)

_BOUNDARIES = st.sampled_from(["b", "b2", "000000000000a1b2c3", "_000_X_", "=_Part_1",
                               "Apple-Mail=_1-2", "b c", "'()+_,./:=?-"])
_PART_TYPES = st.sampled_from([
    "text/plain; charset=utf-8", "text/plain; charset=\"UTF-8\"; format=flowed", "text/html",
    "TEXT/HTML; charset=iso-8859-1", "application/pdf; name=\"a.pdf\"", "text/plain; name=x.txt",
    "text/plain", "text/html; charset=utf-8", "application/octet-stream", "image/png", "",
    "message/rfc822", "text/rfc822-headers", "message/delivery-status"])
_ENCODINGS = st.sampled_from(["", "7bit", "8bit", "quoted-printable", "base64", "x-uue"])
_BODY_LINES = st.one_of(
    st.sampled_from(["Hello"] * 20 + ["<div>Hi</div>"] * 10 + [
                     "=C3=A9t=C3=A9 caf=", "SGVsbG8gd29ybGQ=", "> quoted", "", " ", "--",
                     "--b", "--b--", "--b x", "--bb", "--b --",
                     "--b\t", "--b-- \t", "---b", "--b2", "Caf\udcc3\udca9", "From x"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=10))


@st.composite
def multipart_mail(draw: st.DrawFn, depth: int = 0, outer_end: str = "") -> str:
    """A multipart message (or part) of the shapes mail clients write, and their breakages:
    delimiter-like lines, a missing close, headers without a blank line, parts after the
    close, nested boundaries equal to the outer one, mixed line ends."""
    end = outer_end if outer_end and draw(st.integers(0, 5)) else draw(
        st.sampled_from(["\r\n"] * 6 + ["\n"] * 3 + ["\r"]))
    boundary = draw(_BOUNDARIES)
    subtype = draw(st.sampled_from(["alternative"] * 3 + ["mixed"] * 3 + ["related", "digest",
                                                                         "report"]))
    quoted = draw(st.booleans())
    head = [f"Content-Type: multipart/{subtype}; boundary=" +
            (f'"{boundary}"' if quoted or " " in boundary else boundary)]
    if depth == 0:
        head = ["From: a@x.example", "Subject: s", "MIME-Version: 1.0", *head]
    lines = [*head, ""]
    if draw(st.booleans()):
        lines.append("This is a multi-part message in MIME format.")
    for _ in range(draw(st.sampled_from([0, 1, 2, 2, 2, 3]))):
        suffix = draw(st.sampled_from([""] * 20 + [" ", chr(9), "x", "--"]))
        lines.append(f"--{boundary}{suffix}")
        if depth < 2 and draw(st.integers(0, 3)) == 0:
            lines += draw(multipart_mail(depth + 1, end)).split(end)  # type: ignore[arg-type]
            continue
        if draw(st.integers(0, 20)) > 0:
            ctype = draw(_PART_TYPES)
            if ctype:
                lines.append(f"Content-Type: {ctype}")
            encoding = draw(_ENCODINGS)
            if encoding:
                lines.append(f"Content-Transfer-Encoding: {encoding}")
            if draw(st.integers(0, 6)) == 0:
                lines.append('Content-Disposition: attachment; filename="f.pdf"')
        if draw(st.integers(0, 20)) > 0:
            lines.append("")
        lines += draw(st.lists(_BODY_LINES, min_size=draw(st.sampled_from([0, 1, 1, 1])),
                               max_size=4))
    if draw(st.integers(0, 12)) > 0:
        lines.append(f"--{boundary}--{draw(st.sampled_from(['', ' ', '-']))}")
    lines += draw(st.lists(_BODY_LINES, max_size=2))  # the epilogue
    return end.join(lines) + draw(st.sampled_from([end, ""]))


def _parts(message: Message) -> object:
    """A parsed message as the body walk reads it: each multipart's headers and parts,
    each leaf whole (preamble, epilogue and a multipart's defects are never read)."""
    payload = message.get_payload()
    if isinstance(payload, list):
        return (message._headers, message.get_default_type(),  # type: ignore[attr-defined]
                [_parts(p) for p in payload])
    return vars(message)


def _parsed_without_the_split(raw: bytes) -> tuple[object, object]:
    def outcome() -> object:
        try:
            return parse_message(raw)
        except MalformedMessage as exc:
            return str(exc)

    fast = outcome()
    with patch.object(parse, "multipart_message", lambda _: None):
        slow = outcome()
    return fast, slow


@given(multipart_mail())
@settings(max_examples=800)
@example("Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: "
         "text/plain\r\n\r\nHi\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>\r\n--b--\r\n")
@example("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain"
         "\r\n\r\n--b x\r\n--bb\r\n--b--x\r\n\r\n--b--")  # lines that start like a delimiter
@example("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/"
         "alternative; boundary=b\r\n\r\n--b\r\nX: y\r\n\r\nz\r\n--b--\r\n--b--\r\n")
def test_the_parts_split_here_are_the_feed_parsers(text: str) -> None:
    raw = text.encode("utf-8", "surrogateescape")
    ours = multipart_message(raw.decode("ascii", "surrogateescape"))
    if ours is not None:
        assert _parts(ours) == _parts(email.message_from_bytes(raw))
    fast, slow = _parsed_without_the_split(raw)
    assert fast == slow


@given(st.binary(max_size=300))
def test_any_bytes_split_as_the_parser_splits_them_or_are_left_to_it(raw: bytes) -> None:
    ours = multipart_message(raw.decode("ascii", "surrogateescape"))
    if ours is not None:
        assert _parts(ours) == _parts(email.message_from_bytes(raw))


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_every_corpus_message_parses_the_same_without_the_feed_parser(path: Path) -> None:
    raw = path.read_bytes()
    ours = multipart_message(raw.decode("ascii", "surrogateescape"))
    if ours is not None:
        assert _parts(ours) == _parts(email.message_from_bytes(raw))
    fast, slow = _parsed_without_the_split(raw)
    assert fast == slow


def test_mail_as_clients_write_it_is_split_here_and_reads_the_same() -> None:
    _, generated = realistic.messages(800, attachment_share=0.05, style="rich")
    split = 0
    for raw in generated:
        ours = multipart_message(raw.decode("ascii", "surrogateescape"))
        if ours is not None:
            split += 1
            assert _parts(ours) == _parts(email.message_from_bytes(raw))
        fast, slow = _parsed_without_the_split(raw)
        assert fast == slow
    assert split > 300  # Gmail's, Outlook's and Apple Mail's text-and-HTML take the split


@pytest.mark.parametrize("raw", [
    b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",  # no hdr
    b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nX: y\r\n\r\nx\r\n",  # no close
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n"
    b"\r\nSubject: inner\r\n\r\nx\r\n--b--\r\n",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\rX: y\r\n\r\nx\r\n--b--\r\n",  # lone CR
    b"Content-Type: multipart/digest; boundary=b\r\n\r\n--b\r\nX: y\r\n\r\nx\r\n--b--\r\n",
    b"Content-Type: multipart/mixed\r\n\r\n--b\r\nX: y\r\n\r\nx\r\n--b--\r\n",  # no boundary
])
def test_anything_less_plain_is_left_to_the_feed_parser(raw: bytes) -> None:
    assert multipart_message(raw.decode("ascii", "surrogateescape")) is None
