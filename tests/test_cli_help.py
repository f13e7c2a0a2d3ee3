"""Every command's ``--help``, and the README: examples a person can read and run.

The commands are found by walking the click group, so a new command is checked without
being listed here.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from connector.cli.app import cli, load_commands

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


load_commands()  # the group loads a command's module when asked for it: here, all of them
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
    assert "-q, --quiet" in result.output, f"{_name(path)} does not take -q after its name"


def _options(path: tuple[str, ...]) -> set[str]:
    """Every option spelling usable in ``sipalto-sync PATH ...``: the global ones and its own."""
    names = {"-h", "--help"}
    for depth in range(len(path) + 1):
        for param in _command(path[:depth]).params:
            names.update(getattr(param, "opts", ()), getattr(param, "secondary_opts", ()))
    return names


def _invocation(line: str) -> tuple[tuple[str, ...], list[str]]:
    """The command path and the options of one example line (a shell line)."""
    tokens = shlex.split(line, comments=True)
    while tokens and (tokens[0] == "$" or re.fullmatch(r"[A-Z_]+=\S*", tokens[0])):
        tokens.pop(0)
    assert tokens[0] == "sipalto-sync", line
    path: list[str] = []
    options: list[str] = []
    command: click.Command = cli
    for token in tokens[1:]:
        if token in (">", ">>", "|"):
            break
        if isinstance(command, click.Group) and token in command.commands:
            path.append(token)
            command = command.commands[token]
        elif token.startswith("-") and token != "-":
            options.append(token.split("=")[0])
    return tuple(path), options


def _shell_lines(lines: list[str]) -> list[str]:
    """Lines that run sipalto-sync, continuation lines (ending in ``\\``) joined."""
    joined: list[str] = []
    pending = ""
    for line in lines:
        text = pending + line.strip()
        if text.endswith("\\"):
            pending = text[:-1]
            continue
        pending = ""
        if "sipalto-sync" in text.split("#")[0]:
            joined.append(text)
    return joined


def _readme_examples() -> list[str]:
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines()]
    return [
        line for line in _shell_lines(lines) if re.match(r"(\$ |[A-Z_]+=\S* )*sipalto-sync ", line)
    ]


EXAMPLES = [
    *((f"--help of {_name(path)}", line) for path in COMMANDS
      for line in _shell_lines(_examples(_command(path).epilog or ""))),
    *(("README", line) for line in _readme_examples()),
]  # fmt: skip


@pytest.mark.parametrize(("where", "line"), EXAMPLES, ids=[line for _, line in EXAMPLES])
def test_every_example_uses_only_options_its_command_has(where: str, line: str) -> None:
    path, options = _invocation(line)
    unknown = [option for option in options if option not in _options(path)]
    assert not unknown, f"{where}: {line!r} uses {unknown}, unknown to {_name(path)}"


def _readme_option_tables() -> Iterator[tuple[tuple[str, ...], str]]:
    """``(command path, option)`` for each option in a table under a command's heading."""
    path: tuple[str, ...] | None = None
    for line in README.splitlines():
        heading = re.match(r"#+ `sipalto-sync ([^`]+)`", line)
        if heading:
            path = tuple(heading.group(1).split())
        elif line.startswith("#"):
            path = None
        elif path is not None and line.startswith("| `-"):
            first_cell = line.split(" | ")[0]
            for code in re.findall(r"`(-[^`]+)`", first_cell):
                yield path, code.split()[0]


TABLE_OPTIONS = list(_readme_option_tables())


@pytest.mark.parametrize(
    ("path", "option"), TABLE_OPTIONS, ids=[f"{_name(p)} {o}" for p, o in TABLE_OPTIONS]
)
def test_every_option_in_a_readme_table_exists(path: tuple[str, ...], option: str) -> None:
    assert option in _options(path), f"README documents {option} for {_name(path)}"


@pytest.mark.parametrize("path", COMMANDS, ids=_name)
def test_every_command_has_a_readme_example(path: tuple[str, ...]) -> None:
    assert _name(path) in README, f"no README example of {_name(path)}"
