"""Jinja2 templates: one file per step with `subject`, `text` and optional `html` blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from mailflow.core.languages import SUPPORTED
from mailflow.errors import TemplateError
from mailflow.resources import templates_dir

_SPACES = re.compile(r"[ \t\r\n]+")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None
    language: str = "en"  # the language the email is in (a missing translation falls back)


def _environment(search: list[str], autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


class Renderer:
    """Renders `<name>.j2`; a directory from the config overrides the built-in files.

    The files at the top are English; `<language>/<name>.j2` is the same email in another
    language (`de/partner_nudge.j2`), looked up in the config's directory first. A missing
    translation falls back to the firm's default language, then to English.

    Escaping follows the output kind, not the file name: the `html` block is always
    rendered with autoescape on, `subject` and `text` (plain text) with it off.
    """

    def __init__(self, override_dir: Path | None = None, default_language: str = "en") -> None:
        self.default_language = default_language
        search = [str(override_dir)] if override_dir else []
        search.append(str(templates_dir()))
        self.env = _environment(search, autoescape=False)
        self.html_env = _environment(search, autoescape=True)
        self._files = frozenset(self.env.list_templates(extensions=["j2"]))

    def names(self) -> list[str]:
        return sorted(n[:-3] for n in self._files
                      if "/" not in n and not n.startswith("_"))

    def missing_translations(self) -> list[str]:
        """`<language>/<name>` for every email with no file in a supported language."""
        return [f"{language}/{name}" for language in SUPPORTED if language != "en"
                for name in self.names() if f"{language}/{name}.j2" not in self._files]

    def language_of(self, name: str, language: str) -> str:
        """The language `name` is written in for someone who reads `language`."""
        for candidate in dict.fromkeys((language, self.default_language)):
            if candidate == "en" or f"{candidate}/{name}.j2" in self._files:
                return candidate
        return "en"

    def render(self, name: str, context: dict[str, Any], language: str = "en") -> Rendered:
        written_in = self.language_of(name, language)
        path = f"{name}.j2" if written_in == "en" else f"{written_in}/{name}.j2"
        try:
            template = self.env.get_template(path)
            blocks = template.blocks
            if "subject" not in blocks or "text" not in blocks:
                raise TemplateError(f"template {name}.j2 needs a subject and a text block")
            context = {**context, "language": written_in}
            ctx = template.new_context(context)
            # only line breaks and runs of spaces fold: a no-break space (French "R-4 :")
            # stays
            subject = _SPACES.sub(" ", "".join(blocks["subject"](ctx))).strip()
            text = "".join(blocks["text"](ctx)).strip() + "\n"
            html = None
            if "html" in blocks:
                escaped = self.html_env.get_template(path)
                html = "".join(escaped.blocks["html"](escaped.new_context(context))).strip()
                html = html or None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template {path} not found") from exc
        except jinja2.TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = path + (f" line {line}" if line else "")
            raise TemplateError(f"{where}: {exc.message or exc}") from exc
        return Rendered(subject, text, html, written_in)
