"""``-q/--quiet``: before or after the command, errors only.

Progress, notes, previews and reports go; errors, exit codes and the files a user named
stay. What a listing command is asked for (``contacts list``) is still written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from apply_helpers import add, plan_doc

from connector.sandbox import default_seed

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
SOURCE = str(SAMPLES / "contacts.csv")


def test_apply_from_cron_with_yes_quiet_after_the_command_prints_nothing(sandbox, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_doc([add("Dan Dyer", "07700900004")], server=sandbox.url)))
    env = {**os.environ, "SIPALTO_BASE_URL": sandbox.url, "SIPALTO_USERNAME": "demo",
           "SIPALTO_PASSWORD": "demo", "SIPALTO_SYNC_HOME": str(tmp_path / "home")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "connector", "apply", str(plan), "--yes", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert "Dan Dyer" in [c["name"] for c in sandbox.state.snapshot()]


def test_a_failed_apply_still_reports_under_quiet(run_cli, sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(users={"demo": "demo"}, read_only_users={"demo"})
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_doc([add("Dan Dyer", "07700900004")], server=server.url)))
    result = run_cli("apply", str(plan), "--yes", "-q", server=server,
                     env={"SIPALTO_SYNC_HOME": str(tmp_path / "home")})  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    assert 'failed   add "Dan Dyer"' in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_plan_quiet_prints_no_preview_but_keeps_the_exit_code_and_plan_file(
    run_cli, sandbox_factory, tmp_path, where: str
) -> None:
    server = sandbox_factory(default_seed())
    plan_file = tmp_path / "plan.json"
    args = ["plan", SOURCE, "--detailed-exitcode", "--out", str(plan_file)]
    result = run_cli(*(["-q", *args] if where == "before" else [*args, "-q"]), server=server)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", "")
    assert json.loads(plan_file.read_text(encoding="utf-8"))["summary"]["add"] == 14


def test_plan_quiet_still_writes_a_preview_to_a_named_file(run_cli, sandbox_factory, tmp_path):
    server = sandbox_factory(default_seed())
    preview = tmp_path / "review.csv"
    result = run_cli("plan", SOURCE, "--format", "csv", "-o", str(preview), "-q", server=server)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert preview.read_text(encoding="utf-8").startswith("action,source_key,")


def test_inspect_quiet_prints_only_the_rejections(run_cli) -> None:
    result = run_cli("inspect", SOURCE, "-q")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "contacts.csv:17: rejected: no phone number\ncontacts.csv:27: rejected: no name\n"
    )


def test_restore_quiet_prints_nothing(run_cli, sandbox, tmp_path) -> None:
    backup = tmp_path / "before.json"
    backup.write_text(json.dumps([{"id": "1", "name": "Only One", "phone1": "1009"}]))
    # It deletes both contacts of the sandbox: a mass delete, allowed with --max-delete.
    result = run_cli("restore", str(backup), "--yes", "--max-delete", "2", "--quiet",
                     env={"SIPALTO_SYNC_HOME": str(tmp_path / "home")})  # fmt: skip
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert [c["name"] for c in sandbox.state.snapshot()] == ["Only One"]


def test_a_listing_is_still_written_under_quiet_without_the_note(run_cli, tmp_path) -> None:
    out = tmp_path / "book.json"
    to_file = run_cli("contacts", "list", "--format", "json", "-o", str(out), "-q")
    assert (to_file.exit_code, to_file.stdout, to_file.stderr) == (0, "", "")
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 2
    to_stdout = run_cli("-q", "contacts", "list", "--format", "json")
    assert to_stdout.stdout == out.read_text(encoding="utf-8")


def test_quiet_after_a_subcommand_of_a_group(run_cli) -> None:
    result = run_cli("calls", "list", "-n", "2000", "--start", "2025-10-08", "--end",
                     "2025-10-08", "--format", "json", "-q")  # fmt: skip
    assert (result.exit_code, result.stdout, result.stderr) == (0, "[]\n", "")


def test_errors_still_show_under_quiet(run_cli) -> None:
    result = run_cli("contacts", "list", "-q", env={"SIPALTO_PASSWORD": "wrong"})
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: login refused for user 'demo': check the username and password\n"
    )
