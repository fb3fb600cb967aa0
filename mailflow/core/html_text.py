"""Turn an HTML mail body into plain text good enough to read words from.

libxml2's HTML parser (through lxml) is linear on hostile markup: the stdlib
HTMLParser re-scans unclosed tags (`<div <div <div…` took 71 s at 98 KB), and
lexbor is quadratic on deep nesting. libxml2 also caps nesting depth. The tree
is walked iteratively, so depth never reaches the Python stack.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from lxml import etree

_BLOCK_TAGS = frozenset({
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "ul", "ol", "hr", "pre", "blockquote",
})
_SKIPPED_TAGS = frozenset({"style", "script", "head", "title"})
# Containers mail clients put the quoted message in (Gmail, Outlook web and new Outlook,
# Yahoo, Thunderbird); Apple Mail's <blockquote type="cite"> and Outlook desktop's
# border-top block that starts with a bold "From:" are checked in `_is_quote_container`.
_QUOTE_MARKERS = re.compile(
    r"gmail_quote|divRplyFwdMsg|appendonsend|yahoo_quoted|moz-cite-prefix|"
    r"mail-editor-reference-message-container|OutlookMessageHeader", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^[ \t]*(?:From|Von|De|Van|Da|Fra|Från|Od)\s*:", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\xa0]+")
_PARSER = etree.HTMLParser(recover=True, no_network=True, remove_comments=True,
                           remove_pis=True, huge_tree=False)


def _leading_text(element: etree._Element, limit: int = 40) -> str:
    """The first `limit` characters of an element's text, read no further than that."""
    taken: list[str] = []
    size = 0
    for piece in element.itertext():
        taken.append(piece)
        size += len(piece)
        if size >= limit:
            break
    return "".join(taken)[:limit]


def _is_quote_container(element: etree._Element) -> bool:
    tag = element.tag
    if tag not in ("div", "blockquote", "table"):
        return False
    marks = f"{element.get('class', '')} {element.get('id', '')}"
    if _QUOTE_MARKERS.search(marks):
        return True
    if tag == "blockquote" and (element.get("type") or "").lower() == "cite":
        return True
    style = (element.get("style") or "").lower().replace(" ", "")
    return (tag == "div" and "border-top:solid" in style
            and _OUTLOOK_FROM.match(_leading_text(element)) is not None)


class _Lines:
    """Text collected into lines, blockquotes prefixed with '> '."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0

    def add(self, text: str | None) -> None:
        if text:
            self.current.append(text.replace("\n", " "))

    def end_line(self) -> None:
        prefix = "> " * min(self.quote_depth, 8)  # deeper quoting reads the same
        if not self.current:  # most block ends close a block that has no text of its own
            self.lines.append(prefix.rstrip())
            return
        line = _SPACES.sub(" ", "".join(self.current)).strip()
        self.lines.append(prefix + line if line else prefix.rstrip())
        self.current = []


def _events(root: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    walker: Iterator[tuple[str, etree._Element]] = etree.iterwalk(root, events=("start", "end"))
    return walker


def html_to_text(html: str, cut_quotes: bool = False) -> str:
    """Plain text of `html`: one line per block, blockquotes prefixed with '> '.

    With `cut_quotes`, everything from the first quote container on is left out (the
    quoted message of a reply); if that leaves nothing, the whole text is returned.
    """
    whole, reply = _texts(html)
    return reply if cut_quotes else whole


# an HTML-only message is read twice, whole (its text) and cut (the reply's words): one
# walk gives both, and the second read finds them here
@functools.lru_cache(maxsize=2)
def _texts(html: str) -> tuple[str, str]:
    """The whole text of `html` and the text before its first quote container."""
    if not html.strip():
        return "", ""
    try:
        root = etree.fromstring(html, _PARSER)
    except (etree.ParserError, ValueError):
        return "", ""
    if root is None:
        return "", ""
    out = _Lines()
    skip_depth = 0
    cut_at: int | None = None  # the lines before the first quote container
    for event, element in _events(root):
        if not isinstance(element.tag, str):  # comments and processing instructions
            if event == "end" and not skip_depth:
                out.add(element.tail)
            continue
        tag = element.tag.lower()
        if event == "start":
            if tag in _SKIPPED_TAGS:
                skip_depth += 1
            elif tag in _BLOCK_TAGS:
                out.end_line()
                if cut_at is None and _is_quote_container(element):
                    cut_at = len(out.lines)
                out.quote_depth += tag == "blockquote"
            if not skip_depth:
                out.add(element.text)
            continue
        if tag in _SKIPPED_TAGS:
            skip_depth = max(0, skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            out.end_line()
            if tag == "blockquote":
                out.quote_depth = max(0, out.quote_depth - 1)
        if not skip_depth:
            out.add(element.tail)
    out.end_line()
    whole = _joined(out.lines)
    # written below the quote, the reply is the whole text: the text stage sorts it out
    reply = _joined(out.lines[:cut_at]) if cut_at is not None else whole
    return whole, reply or whole


def _joined(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
