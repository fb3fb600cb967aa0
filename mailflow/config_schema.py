"""Reading one YAML mapping key by key, with errors that name the file and the key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from mailflow.errors import ConfigError

T = TypeVar("T")
_MISSING: Any = object()


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


class Section:
    """A mapping under validation: every read names its key, leftovers are errors."""

    def __init__(self, file: str, prefix: str, data: Any) -> None:
        self.file = file
        self.prefix = prefix
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(file, prefix or "(top level)",
                              f"expected a mapping, got {_describe(data)}")
        self.data: dict[str, Any] = dict(data)
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.file, self.key(name), problem)

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default: Any = _MISSING) -> Any:
        self.used.add(name)
        if name not in self.data or self.data[name] is None:
            if default is _MISSING:
                raise self.error(name, "is required")
            return default
        return self.data[name]

    def string(self, name: str, default: Any = _MISSING) -> Any:
        value = self.raw(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"expected a non-empty string, got {_describe(value)}")
        return value.strip()

    def integer(self, name: str, default: Any = _MISSING, minimum: int | None = None,
                maximum: int | None = None) -> Any:
        value = self.raw(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected an integer, got {_describe(value)}")
        if minimum is not None and value < minimum:
            raise self.error(name, f"expected an integer >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(name, f"expected an integer <= {maximum}, got {value}")
        return value

    def number(self, name: str, default: Any = _MISSING) -> Any:
        value = self.raw(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"expected a number, got {_describe(value)}")
        return float(value)

    def boolean(self, name: str, default: Any = _MISSING) -> Any:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {_describe(value)}")
        return value

    def choice(self, name: str, options: tuple[str, ...], default: Any = _MISSING) -> Any:
        value = self.raw(name, default)
        if value not in options:
            raise self.error(name, f"expected one of {' | '.join(options)}, got {_describe(value)}")
        return value

    def strings(self, name: str, default: Any = _MISSING) -> tuple[str, ...]:
        value = self.raw(name, default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, str) and v.strip() for v in value
        ):
            raise self.error(name, f"expected a list of strings, got {_describe(value)}")
        return tuple(v.strip() for v in value)

    def section(self, name: str, required: bool = False) -> Section | None:
        if name not in self.data or self.data[name] is None:
            self.used.add(name)
            if required:
                raise self.error(name, "is required")
            return None
        self.used.add(name)
        return Section(self.file, self.key(name), self.data[name])

    def items(self, name: str) -> list[Section]:
        """A list of mappings, each as its own Section (`key[0]`, `key[1]`, …)."""
        value = self.raw(name, [])
        if not isinstance(value, list):
            raise self.error(name, f"expected a list, got {_describe(value)}")
        return [Section(self.file, f"{self.key(name)}[{i}]", v) for i, v in enumerate(value)]

    def convert(self, name: str, parse: Callable[[Any], T], expected: str,
                default: Any = _MISSING) -> T:
        value = self.raw(name, default)
        if value is default and default is not _MISSING:
            return value  # type: ignore[no-any-return]
        try:
            return parse(value)
        except (ValueError, TypeError, LookupError) as exc:
            raise self.error(name, f"expected {expected}, got {_describe(value)}") from exc

    def finish(self) -> None:
        """Reject keys nobody read: a typo must not be silently ignored."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(unknown[0], "unknown key (check the spelling against "
                                         "config.example.yaml)")
