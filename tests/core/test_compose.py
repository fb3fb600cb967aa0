"""Outgoing messages: headers, threading, and names that survive re-parsing."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.utils import getaddresses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailflow.core.compose import to_bytes
from mailflow.core.model import Address
from mailflow.core.outgoing import LOOP_HEADER, OutgoingEmail
from mailflow.core.parse import parse_message

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


def sample(**changes: object) -> OutgoingEmail:
    base = OutgoingEmail("r7.partner_nudge.1@mailflow.firm.example",
                         Address("referrals@firm.example", "mailflow"),
                         (Address("bob@law.example", "Bob Smith"),), "[R-7] Quick nudge",
                         "Hello Bob\n", NOW, reply_to=Address("referrals+r7.abc@firm.example"),
                         in_reply_to="intro7@firm.example",
                         references=("intro7@firm.example",), loop_value="R-7")
    return OutgoingEmail(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_headers_mark_automation_and_thread() -> None:
    parsed = email.message_from_bytes(to_bytes(sample()))
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed[LOOP_HEADER] == "R-7"
    assert parsed["Message-ID"] == "<r7.partner_nudge.1@mailflow.firm.example>"
    assert parsed["In-Reply-To"] == "<intro7@firm.example>"
    assert parsed["References"] == "<intro7@firm.example>"
    assert parsed["Reply-To"] == "referrals+r7.abc@firm.example"
    assert parsed["X-Auto-Response-Suppress"] == "All"  # Exchange: no out-of-office back
    assert parsed["Subject"] == "[R-7] Quick nudge"  # ASCII stays readable, not encoded


def test_references_list_every_id() -> None:
    parsed = email.message_from_bytes(to_bytes(sample(references=("a@x.example",
                                                                  "b@x.example"))))
    assert parsed["References"] == "<a@x.example> <b@x.example>"


def test_two_non_ascii_names_stay_two_addresses() -> None:
    raw = to_bytes(sample(to=(Address("zoe@x.example", "Zoë Ångström"),
                              Address("jorg@y.example", "Jörg, Müller"))))
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    pairs = getaddresses([str(parsed["To"])])
    assert [p[1] for p in pairs] == ["zoe@x.example", "jorg@y.example"]
    ours = parse_message(raw)
    assert [(a.email, a.name) for a in ours.to] == [("zoe@x.example", "Zoë Ångström"),
                                                     ("jorg@y.example", "Jörg, Müller")]


def test_html_alternative_and_unicode_subject() -> None:
    raw = to_bytes(sample(html="<p>Hello</p>", subject="[R-7] Café — nudge"))
    parsed = parse_message(raw)
    assert parsed.subject == "[R-7] Café — nudge"
    assert parsed.html is not None and "<p>Hello</p>" in parsed.html
    assert parsed.text.strip() == "Hello Bob"


def test_long_lines_are_wrapped_for_transport() -> None:
    raw = to_bytes(sample(text="word " * 500))
    assert max(len(line) for line in raw.split(b"\n")) <= 998
    assert parse_message(raw).text.strip() == ("word " * 500).strip()


def test_lines_end_in_crlf_for_smtp() -> None:
    raw = to_bytes(sample(text="one\ntwo\n"))
    assert raw.count(b"\n") == raw.count(b"\r\n") > 10
    with_html = to_bytes(sample(text="one\ntwo\n", html="<p>one</p>\n<p>two</p>\n"))
    assert with_html.count(b"\n") == with_html.count(b"\r\n") > 20


def test_deterministic() -> None:
    assert to_bytes(sample()) == to_bytes(sample())


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400)
       | st.text(alphabet="ab =\t\r\n\x85\u2028.éFrom", max_size=400))
def test_the_direct_plain_part_is_what_the_email_package_writes(text: str) -> None:
    """plain_part() replaced the email package's generator for speed; it must not differ
    in one byte, whatever the text (line ends, trailing spaces, dots, Unicode breaks)."""
    from mailflow.core.compose import SMTP_COMPAT, _text_part, plain_part

    assert plain_part(text) == _text_part(text, "plain").as_bytes(policy=SMTP_COMPAT)


def test_a_plain_email_still_reads_back_as_its_text() -> None:
    text = "Hi Bob,\n\nWas Jane in touch? Reply done = closed.\n" + "é" * 90 + "\n"
    raw = to_bytes(OutgoingEmail("x@mailflow.example", Address("referrals@firm.example"),
                                 (Address("bob@law.example"),), "[R-1] nudge", text,
                                 datetime(2026, 11, 24, 10, tzinfo=UTC)))
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content().replace("\r\n", "\n") == text  # type: ignore[attr-defined]


# -- found by mutmut over core/compose.py: guards no test noticed -----------------------

def test_no_control_character_can_start_a_header() -> None:
    raw = to_bytes(sample(to=(Address("bob@law.example\r\nBcc: eve@evil.example",
                                      "Bob\r\nBcc: eve@evil.example"),),
                          subject="[R-7] hi\r\nBcc: eve@evil.example"))
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc") for line in head.split(b"\r\n"))


def test_quotes_and_backslashes_in_a_name_stay_in_the_name() -> None:
    name = 'Bob "the \\ builder", Esq.'
    raw = to_bytes(sample(to=(Address("bob@law.example", name),)))
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert getaddresses([str(parsed["To"])]) == [(name, "bob@law.example")]


def test_international_addresses() -> None:
    from mailflow.core.compose import NeedsSmtpUtf8, needs_smtputf8, wire_address

    assert wire_address("bob@bücher.example") == "bob@xn--bcher-kva.example"
    assert wire_address("bob@law.example") == "bob@law.example"
    assert wire_address("plain") == "plain"
    assert needs_smtputf8("josé@law.example") and not needs_smtputf8("bob@bücher.example")
    with pytest.raises(NeedsSmtpUtf8):
        to_bytes(sample(to=(Address("josé@law.example"),)))
    assert b"To: \"Bob\" <jos\xc3\xa9@law.example>" in to_bytes(
        sample(to=(Address("josé@law.example", "Bob"),)), utf8=True)
    raw = to_bytes(sample(to=(Address("zoe@x.example", "Zoë"),)))
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0]  # encoded words, not raw UTF-8


def test_ids_that_could_break_a_header_are_not_echoed() -> None:
    for bad in ("a b@x.example", "a>b@x.example", "a\r\nBcc: e@x@x.example"):
        parsed = email.message_from_bytes(to_bytes(sample(in_reply_to=bad, references=(bad,))))
        assert parsed["In-Reply-To"] is None and parsed["References"] is None


@given(st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=20), min_size=1,
                max_size=40))
def test_fold_keeps_lines_within_78_and_the_value_intact(words: list[str]) -> None:
    from mailflow.core.compose import fold

    folded = fold("References", " ".join(words))
    assert all(len(line) <= 78 for line in folded.split("\r\n"))
    assert folded.replace("\r\n", "")[len("References: "):] == " ".join(words)
    assert not folded.startswith("References:\r\n")  # the first word stays on the name's line
