"""The web view's HTML pages: Jinja2 templates in templates/web/, always autoescaped."""

from __future__ import annotations

from typing import Any

import jinja2

from mailflow.resources import templates_dir


class Pages:
    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir() / "web")),
            autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
            lstrip_blocks=True)

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(f"{name}.html").render(context)
