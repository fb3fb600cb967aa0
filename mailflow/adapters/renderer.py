"""Jinja2 templates: one file per step with `subject`, `text` and optional `html` blocks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from mailflow.errors import TemplateError
from mailflow.resources import templates_dir


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


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

    Escaping follows the output kind, not the file name: the `html` block is always
    rendered with autoescape on, `subject` and `text` (plain text) with it off.
    """

    def __init__(self, override_dir: Path | None = None) -> None:
        search = [str(override_dir)] if override_dir else []
        search.append(str(templates_dir()))
        self.env = _environment(search, autoescape=False)
        self.html_env = _environment(search, autoescape=True)

    def names(self) -> list[str]:
        return sorted(n[:-3] for n in self.env.list_templates(extensions=["j2"])
                      if "/" not in n and not n.startswith("_"))

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        try:
            template = self.env.get_template(f"{name}.j2")
            blocks = template.blocks
            if "subject" not in blocks or "text" not in blocks:
                raise TemplateError(f"template {name}.j2 needs a subject and a text block")
            ctx = template.new_context(context)
            subject = " ".join("".join(blocks["subject"](ctx)).split())
            text = "".join(blocks["text"](ctx)).strip() + "\n"
            html = None
            if "html" in blocks:
                escaped = self.html_env.get_template(f"{name}.j2")
                html = "".join(escaped.blocks["html"](escaped.new_context(context))).strip()
                html = html or None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template {name}.j2 not found") from exc
        except jinja2.TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"{name}.j2" + (f" line {line}" if line else "")
            raise TemplateError(f"{where}: {exc.message or exc}") from exc
        return Rendered(subject, text, html)
