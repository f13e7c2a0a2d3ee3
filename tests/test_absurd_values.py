"""Absurd values of the global and ``calls`` options: one line naming the option and the
valid range, exit 1, never "Internal error" and never a request sent with them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from connector.cli.app import cli
from connector.config import ConnectionSettings
from connector.errors import ConfigError

TIMEOUT_RULE = "must be a number of seconds from 0.1 to 3600"
DATE_RULE = "is out of range: give a date from 1970-01-01 to 2099-12-31"
CALL = "SIPALTO-THE-ANL-ND2-1759926851.58197"


def _one_error_line(result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr == f"Error: {expected}\n"
    assert "Internal error" not in result.output


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e400", "0", "-1", "0.01",
                                   "3601", "thirty", ""])  # fmt: skip
def test_an_absurd_timeout_option_is_one_line(run_cli, sandbox, value: str) -> None:
    asked = len(sandbox.state.requests)
    result = run_cli("--timeout", value, "contacts", "list")
    _one_error_line(result, f"--timeout {TIMEOUT_RULE}, not {value!r}")
    assert len(sandbox.state.requests) == asked


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "0", "-5"])
def test_an_absurd_timeout_variable_is_one_line_naming_the_variable(run_cli, value: str) -> None:
    result = run_cli("contacts", "list", env={"SIPALTO_TIMEOUT": value})
    _one_error_line(result, f"SIPALTO_TIMEOUT {TIMEOUT_RULE}, not {value!r}")


@pytest.mark.parametrize("value", ["0.1", "3600", "30", " 12.5 "])
def test_sane_timeouts_work(run_cli, value: str) -> None:
    assert run_cli("--timeout", value, "contacts", "list").exit_code == 0


@pytest.mark.parametrize("value", ["nan", "inf", "0"])
def test_the_library_refuses_absurd_timeouts_too(value: str) -> None:
    with pytest.raises(ConfigError, match=TIMEOUT_RULE):
        ConnectionSettings.from_env({"SIPALTO_TIMEOUT": value})
    with pytest.raises(ConfigError, match=TIMEOUT_RULE):
        ConnectionSettings().with_overrides(timeout=float(value))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--start", "9999-12-31"), f"--start '9999-12-31' {DATE_RULE}"),
        (("--start", "0001-01-01"), f"--start '0001-01-01' {DATE_RULE}"),
        (("--start", "1969-12-31 23:59"), f"--start '1969-12-31 23:59' {DATE_RULE}"),
        (("--since", "2100-01-01"), f"--since '2100-01-01' {DATE_RULE}"),
        (("--since", "999999w"), f"--since '999999w' {DATE_RULE}"),
        (("--start", "2025-10-01", "--end", "9999-12-31"), f"--end '9999-12-31' {DATE_RULE}"),
        (("--start", "2025-10-01", "--end", "9999-12-31 23:59"),
         f"--end '9999-12-31 23:59' {DATE_RULE}"),
    ],
)  # fmt: skip
def test_dates_outside_1970_to_2099_are_one_line(run_cli, sandbox, args, expected: str) -> None:
    asked = len(sandbox.state.requests)
    _one_error_line(run_cli("calls", "list", "-n", "1009", *args), expected)
    assert len(sandbox.state.requests) == asked


def test_a_transcript_date_outside_the_years_is_one_line(run_cli) -> None:
    result = run_cli("calls", "transcript", CALL, "-n", "1009", "--date", "9999-12-31")
    _one_error_line(result, f"--date '9999-12-31' {DATE_RULE}")


def test_the_first_and_last_accepted_dates_are_sent_with_four_digit_years(run_cli) -> None:
    # The sandbox refuses a range end that is not exactly YYYY-MM-DD HH:ii.
    result = run_cli("calls", "list", "-n", "1009", "--start", "1970-01-01", "--end",
                     "1970-01-02", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    dates = [row["date"] for row in json.loads(result.stdout)]
    assert dates and all(date.startswith(("1970-01-01 ", "1970-01-02 ")) for date in dates)
    late = run_cli("calls", "list", "-n", "1009", "--start", "2099-12-31", "--end", "2099-12-31")
    assert late.exit_code == 0, late.output


def test_an_absurd_time_zone_variable_is_one_line() -> None:
    result = CliRunner().invoke(
        cli, ["calls", "list", "-n", "1009"], env={"SIPALTO_TIMEZONE": "Local/Time"}
    )
    _one_error_line(
        result,
        "SIPALTO_TIMEZONE 'Local/Time' is not a time zone: give an IANA name such as "
        "Europe/London or UTC",
    )
