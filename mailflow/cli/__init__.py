"""The command line: parser, commands, views, checks and the demo."""

from mailflow.cli.parser import cli, main

__all__ = ["cli", "main"]
