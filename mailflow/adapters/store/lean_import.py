"""sqlite-utils, loaded without numpy and pandas.

sqlite-utils imports both when they are installed, only to store their types; mailflow
stores neither, and importing numpy was a sixth of the start-up of `mailflow run`
(0.1 s). The store package imports this module before any of its own, so every later
`import sqlite_utils` finds it loaded. Once it is, numpy and pandas import as usual.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

HIDDEN = ("numpy", "pandas")


def load_without(name: str, hidden: tuple[str, ...]) -> ModuleType:
    """Import `name` as if the `hidden` modules were not installed (unless loaded already)."""
    blocked = [module for module in hidden if module not in sys.modules]
    for module in blocked:
        sys.modules[module] = None  # type: ignore[assignment]  # an ImportError on import
    try:
        return importlib.import_module(name)
    finally:
        for module in blocked:
            if sys.modules.get(module, ...) is None:
                del sys.modules[module]


sqlite_utils = load_without("sqlite_utils", HIDDEN)
