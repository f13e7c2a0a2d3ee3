"""The command line loads a command's module only when that command is asked for."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from connector.cli.app import COMMAND_MODULES, cli, load_commands


def test_every_command_is_listed_with_the_module_that_defines_it() -> None:
    load_commands()
    assert set(cli.commands) == set(COMMAND_MODULES)
    for name, command in cli.commands.items():
        assert command.callback is not None
        assert command.callback.__module__ == COMMAND_MODULES[name], name


def test_the_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    section = result.output.split("Commands:\n")[1].split("\n\n")[0]
    assert {line.split()[0] for line in section.splitlines()} == set(COMMAND_MODULES)


def test_plan_loads_neither_the_apply_engine_nor_the_sync_runner_nor_the_sandbox() -> None:
    """What ``sipalto-sync plan`` starts with, in a fresh interpreter: nor the CRM reader,
    nor the decisions file's schema (``--decisions`` not given)."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from connector.cli.app import cli\n"
        "result = CliRunner().invoke(cli, ['plan', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    loaded = set(subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split())  # fmt: skip
    assert "connector.cli.sources" in loaded
    for module in ("connector.apply.engine", "connector.sync.runner", "connector.sandbox",
                   "connector.cli.apply", "connector.cli.sync", "connector.calls",
                   "adapters.crm.source", "pydantic.root_model", "trio"):  # fmt: skip
        assert module not in loaded, module


def test_an_unknown_command_is_one_clear_error() -> None:
    result = CliRunner().invoke(cli, ["plna"])
    assert result.exit_code != 0
    assert "No such command 'plna'" in result.output
