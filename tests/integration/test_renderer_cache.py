"""Compiled templates kept between processes: reused, never mixed up, never in the way."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailflow.adapters.renderer import Renderer

TEMPLATE = ("{% block subject %}About {{ who }}{% endblock %}"
            "{% block text %}Hello {{ who }}{% endblock %}"
            "{% block html %}<p>Hello {{ who }}</p>{% endblock %}")


def _renderer(overrides: Path, cache: Path) -> Renderer:
    return Renderer(overrides, cache_dir=cache)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    overrides, cache = tmp_path / "templates", tmp_path / "cache"
    overrides.mkdir()
    cache.mkdir()
    (overrides / "hello.j2").write_text(TEMPLATE)
    return overrides, cache


def test_a_second_process_reuses_what_the_first_compiled(dirs: tuple[Path, Path],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    overrides, cache = dirs
    first = _renderer(overrides, cache).render("hello", {"who": "Ann"})
    kept = sorted(p.name.split("-")[1] for p in cache.iterdir())
    assert kept == ["html", "text"]  # one entry per kind: their compiled code differs
    again = _renderer(overrides, cache)

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(again.env, "compile", no_compiling)
    monkeypatch.setattr(again.html_env, "compile", no_compiling)
    assert again.render("hello", {"who": "Ann"}) == first


def test_the_html_kept_still_escapes_and_the_text_does_not(dirs: tuple[Path, Path]) -> None:
    overrides, cache = dirs
    for _ in range(2):  # compiled, then loaded
        rendered = _renderer(overrides, cache).render("hello", {"who": "<b>Ann</b>"})
        assert rendered.html == "<p>Hello &lt;b&gt;Ann&lt;/b&gt;</p>"
        assert rendered.text == "Hello <b>Ann</b>\n"


def test_an_edited_override_is_compiled_again(dirs: tuple[Path, Path]) -> None:
    overrides, cache = dirs
    _renderer(overrides, cache).render("hello", {"who": "Ann"})
    (overrides / "hello.j2").write_text(TEMPLATE.replace("Hello", "Good morning"))
    assert _renderer(overrides, cache).render("hello", {"who": "Ann"}).text == (
        "Good morning Ann\n")


def test_a_damaged_or_unwritable_cache_costs_only_the_compiling(dirs: tuple[Path, Path]
                                                                ) -> None:
    overrides, cache = dirs
    _renderer(overrides, cache).render("hello", {"who": "Ann"})
    for entry in cache.iterdir():
        entry.write_bytes(entry.read_bytes()[:7])  # cut short
    assert _renderer(overrides, cache).render("hello", {"who": "Ann"}).subject == "About Ann"
    gone = cache / "removed"  # a directory that vanished: nothing can be written there
    assert _renderer(overrides, gone).render("hello", {"who": "Ann"}).subject == "About Ann"
    assert not gone.exists()
