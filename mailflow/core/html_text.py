"""Turn an HTML mail body into plain text good enough to read words from."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK_TAGS = frozenset({
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "ul", "ol", "hr", "pre", "blockquote",
})
_SKIPPED_TAGS = frozenset({"style", "script", "head", "title"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0

    def _break(self) -> None:
        line = re.sub(r"[ \t\xa0]+", " ", "".join(self.current)).strip()
        prefix = "> " * self.quote_depth
        self.lines.append(prefix + line if line else prefix.rstrip())
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self._break()
            # Gmail and Outlook mark quoted history with these; treat it as a quote.
            classes = " ".join(value or "" for name, value in attrs if name in ("class", "id"))
            if tag == "blockquote" or "gmail_quote" in classes or "divRplyFwdMsg" in classes:
                self.quote_depth += 1 if tag == "blockquote" else 0

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.current.append(data.replace("\n", " "))


def html_to_text(html: str) -> str:
    """Plain text of `html`: one line per block, blockquotes prefixed with '> '."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    collector._break()
    text = "\n".join(collector.lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
