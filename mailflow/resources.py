"""Where the built-in templates and the example config are: the checkout, or an install."""

from __future__ import annotations

import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]
_INSTALLED = Path(sys.prefix) / "share" / "mailflow"


def _first(*candidates: Path) -> Path:
    return next((c for c in candidates if c.exists()), candidates[0])


def templates_dir() -> Path:
    return _first(_CHECKOUT / "templates", _INSTALLED / "templates")


def example_config() -> Path:
    return _first(_CHECKOUT / "config.example.yaml", _INSTALLED / "config.example.yaml")
