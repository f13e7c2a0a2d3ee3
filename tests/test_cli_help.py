"""Every command's ``--help``, and the README: examples a person can read and run.

The commands are found by walking the click group, so a new command is checked without
being listed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from connector.cli.app import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(cli))


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def _examples(epilog: str) -> list[str]:
    """The indented lines of the epilog's ``Example:``/``Examples:`` paragraph."""
    lines = epilog.splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(r"Examples?:", line))
    examples = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        examples.append(line.strip())
    return examples


def _name(path: tuple[str, ...]) -> str:
    return " ".join(("sipalto-sync", *path))


@pytest.mark.parametrize("path", COMMANDS, ids=_name)
def test_help_shows_the_examples_one_per_line(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    assert "\\b" not in result.output
    assert "\b" not in result.output
    shown = [line.strip() for line in result.output.splitlines()]
    assert "Example:" in shown or "Examples:" in shown, f"{_name(path)} --help has no example"
    examples = _examples(_command(path).epilog or "")
    assert examples, f"{_name(path)} --help has an empty example section"
    for example in examples:
        assert example in shown, f"{_name(path)} --help runs {example!r} into other text"
    assert any(_name(path) in example for example in examples)


@pytest.mark.parametrize("path", COMMANDS, ids=_name)
def test_every_command_has_a_readme_example(path: tuple[str, ...]) -> None:
    assert _name(path) in README, f"no README example of {_name(path)}"
