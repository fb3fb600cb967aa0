"""The web view's HTML pages: Jinja2 templates in templates/web/, always autoescaped."""

from __future__ import annotations

from typing import Any

import jinja2

from mailflow.core import wording
from mailflow.resources import templates_dir

# what templates write as `{{ row.step|step_name }}`: the codes never reach the screen
FILTERS = {"step_name": wording.step_name, "step_purpose": wording.step_purpose,
           "status_name": wording.status_name, "outcome_name": wording.outcome_name,
           "email_status": wording.email_status_name, "event_name": wording.event_name}


class Pages:
    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir() / "web")),
            autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
            lstrip_blocks=True)
        self.env.filters.update(FILTERS)

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(f"{name}.html").render(context)
