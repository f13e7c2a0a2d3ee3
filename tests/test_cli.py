"""The real command line against the sandbox: exit codes and the lines a user sees."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import click
import httpx
from click.testing import CliRunner

from connector.sandbox import Faults


def test_contacts_list_json_is_the_phonebook(run_cli) -> None:
    result = run_cli("contacts", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"id": "11111", "name": "Domino's Pizza", "phone1": "01491833000",
         "phone2": "07591524881", "phone3": "07591524882"},
        {"id": "22222", "name": "McDonald's", "phone1": "01491835522", "phone2": "", "phone3": ""},
    ]  # fmt: skip


def test_contacts_list_piped_is_a_plain_table_with_a_count(run_cli) -> None:
    result = run_cli("contacts", "list")
    assert result.exit_code == 0
    assert [line.rstrip() for line in result.stdout.splitlines()] == [
        " id    | name           | phone1      | phone2      | phone3",
        "-------+----------------+-------------+-------------+-------------",
        " 11111 | Domino's Pizza | 01491833000 | 07591524881 | 07591524882",
        " 22222 | McDonald's     | 01491835522 |             |",
        "2 contacts",
    ]


def test_contacts_list_csv_to_a_file(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "book.csv"
    result = run_cli("contacts", "list", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0
    assert f"Wrote 2 contacts to {out}" in result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert rows[1] == {"id": "22222", "name": "McDonald's", "phone1": "01491835522",
                       "phone2": "", "phone3": ""}  # fmt: skip


def test_contacts_list_vcf_has_one_card_per_contact(run_cli) -> None:
    result = run_cli("contacts", "list", "--format", "vcf")
    assert result.stdout.count("BEGIN:VCARD") == 2
    assert "TEL;TYPE=VOICE,PREF:01491833000" in result.stdout


def test_bad_credentials_give_one_line_and_exit_1(run_cli) -> None:
    result = run_cli("contacts", "list", env={"SIPALTO_PASSWORD": "wrong"})
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: login refused for user 'demo': check the username and password\n"
    )


def test_unreachable_host_gives_one_line(run_cli) -> None:
    result = run_cli("contacts", "list", env={"SIPALTO_BASE_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach the Sipalto server")
    assert "Traceback" not in result.output


def test_bad_base_url_is_a_usage_error(run_cli) -> None:
    result = run_cli("--base-url", "ftp://x", "contacts", "list")
    assert result.exit_code == 1
    assert "is not an http(s) URL" in result.stderr


def test_bad_option_value_is_reported_by_click(run_cli) -> None:
    result = run_cli("contacts", "list", "--format", "xml")
    assert result.exit_code == 1
    assert "Invalid value for '--format'" in result.stderr


def test_server_errors_on_read_are_retried_then_reported(run_cli, sandbox_factory) -> None:
    broken = sandbox_factory(faults=Faults(fail_rate=1.0))
    result = run_cli("contacts", "list", server=broken, env={"SIPALTO_TIMEOUT": "5"})
    assert result.exit_code == 1
    assert re.match(r"Error: POST /auth/login: HTTP 50[03] ", result.stderr)


def test_verbose_shows_the_traceback(run_cli) -> None:
    result = run_cli("-v", "contacts", "list", env={"SIPALTO_PASSWORD": "wrong"})
    assert result.exit_code == 1
    assert "Traceback" in result.stderr


def test_password_never_printed_even_verbose(run_cli) -> None:
    result = run_cli("-vv", "contacts", "list", env={"SIPALTO_PASSWORD": "hunter2-secret"})
    assert "hunter2-secret" not in result.output


def test_demo_runs_the_job_against_its_own_sandbox(run_cli) -> None:
    result = run_cli("demo", env={"SIPALTO_BASE_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "  listening on http://127.0.0.1:" in out
    assert "Plan: 14 to add, 4 to update, 0 to delete, 1 to review, 2 rejected." in out
    assert "Apply complete." in out
    # The second plan finds nothing left to do.
    assert "Plan: 0 to add, 0 to update, 0 to delete, 1 to review, 2 rejected." in out
    assert "Warehouse Desk (1009)" in out


def test_sandbox_command_serves_until_interrupted(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "connector", "sandbox", "--port", "0", "--state", str(state)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        url = re.search(r"on (http://127\.0\.0\.1:\d+)", first).group(1)  # type: ignore[union-attr]
        token = httpx.post(
            f"{url}/auth/login", data={"username": "demo", "password": "demo"}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        added = httpx.post(f"{url}/phone-books/add-global-contact", headers=headers,
                           data={"name": "Kept", "phone1": "01632960123"})  # fmt: skip
        assert added.json() == {"success": True, "response": "OK"}
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert any(c["name"] == "Kept" for c in saved)
    assert process.returncode == 0


def test_contacts_list_to_dash_is_standard_output(run_cli) -> None:
    result = run_cli("contacts", "list", "--format", "json", "-o", "-")
    assert result.exit_code == 0
    assert [c["id"] for c in json.loads(result.stdout)] == ["11111", "22222"]
    assert result.stderr == ""


def test_a_command_that_exits_non_zero_reaches_the_shell_with_its_code() -> None:
    from connector.cli.app import SipaltoGroup

    group = SipaltoGroup()

    @group.command()
    def decline() -> None:
        click.echo("Nothing was changed.", err=True)
        raise click.exceptions.Exit(1)

    result = CliRunner().invoke(group, ["decline"])
    assert result.exit_code == 1
    assert "Nothing was changed." in result.stderr
