"""Jinja2 templates: one file per step with `subject`, `text` and optional `html` blocks."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.bccache import Bucket

import mailflow
from mailflow.core.languages import SUPPORTED
from mailflow.errors import TemplateError
from mailflow.resources import templates_dir

_SPACES = re.compile(r"[ \t\r\n]+")
log = logging.getLogger("mailflow.renderer")
_OPTIONS = dict(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                keep_trailing_newline=False)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None
    language: str = "en"  # the language the email is in (a missing translation falls back)


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja2's cache of compiled templates, which never fails a render: an unreadable
    entry is compiled again, one that cannot be written is not kept.

    A `run --once` compiled every template it rendered, afresh in each process: about
    3 ms a template, some 0.3 s of a first run's sending (bench/ingest.py).
    """

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # a damaged entry: compiled from the source instead
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:  # a full or read-only disk: next time it is compiled again
            log.debug("compiled template not kept: %s", exc)


def compiled_templates(kind: str, directory: Path | None = None) -> _CompiledTemplates | None:
    """The cache for one kind of environment (`text`, `html`: their compiled code differs),
    in `directory` or Jinja2's private per-user directory; None where there is none.

    Entries are named by this version of mailflow and Jinja2 and the environment's
    options; Jinja2 itself keys each by the template's path and checks its source, so an
    edited override is compiled again.
    """
    fingerprint = hashlib.sha256(repr((mailflow.__version__, jinja2.__version__, kind,
                                       sorted(_OPTIONS.items(), key=str))).encode())
    pattern = f"mailflow-{kind}-{fingerprint.hexdigest()[:12]}-%s.cache"
    try:
        return _CompiledTemplates(str(directory) if directory else None, pattern)
    except (OSError, RuntimeError) as exc:  # no private temporary directory here
        log.debug("templates are compiled on every run: %s", exc)
        return None


def _environment(search: list[str], autoescape: bool,
                 cache: jinja2.BytecodeCache | None) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(search), autoescape=autoescape,
                              bytecode_cache=cache, **_OPTIONS)  # type: ignore[arg-type]


class Renderer:
    """Renders `<name>.j2`; a directory from the config overrides the built-in files.

    The files at the top are English; `<language>/<name>.j2` is the same email in another
    language (`de/partner_nudge.j2`), looked up in the config's directory first. A missing
    translation falls back to the firm's default language, then to English.

    Escaping follows the output kind, not the file name: the `html` block is always
    rendered with autoescape on, `subject` and `text` (plain text) with it off.
    """

    def __init__(self, override_dir: Path | None = None, default_language: str = "en",
                 cache_dir: Path | None = None, cache: bool = True) -> None:
        """`cache_dir`: where compiled templates are kept (None: Jinja2's per-user
        directory); `cache` False: compiled in each process."""
        self.default_language = default_language
        search = [str(override_dir)] if override_dir else []
        search.append(str(templates_dir()))
        self.env = _environment(search, False,
                                compiled_templates("text", cache_dir) if cache else None)
        self.html_env = _environment(search, True,
                                     compiled_templates("html", cache_dir) if cache else None)
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
