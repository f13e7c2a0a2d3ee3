"""Each shipped CRM preset against the fake of its vendor (tests/fakecrm), end to end.

The fakes were written from the vendors' documentation by another hand than the presets
and the reader, so these tests check that the two readings of each vendor's docs agree:
``sipalto-sync plan URL --mapping PRESET`` against the sandbox reads every page (several
of them), through the vendor's own auth flow and its "slow down" answer mid-way, and the
plan holds every record with the name and numbers the vendor's record gives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakecrm.base import Expected, FakeCRM, Faults
from fakecrm.fixtures import (  # noqa: F401  (fixtures, reached by name)
    Served,
    dynamics,
    fake_crm,
    hubspot,
    pipedrive,
    salesforce,
    zoho,
)

from connector.errors import SourceError


def credentials(preset: str, served: Served[Any]) -> dict[str, str]:
    """The environment a user of ``preset`` sets, pointed at the fake."""
    s = served.settings
    if preset == "hubspot":
        return {"HUBSPOT_TOKEN": s["token"]}
    if preset == "pipedrive":
        return {"PIPEDRIVE_API_TOKEN": s["token"]}
    if preset == "salesforce":
        return {"SALESFORCE_TOKEN": s["token"]}
    if preset == "zoho":
        return {
            "ZOHO_ACCOUNTS_URL": served.url,
            "ZOHO_CLIENT_ID": s["client_id"],
            "ZOHO_CLIENT_SECRET": s["client_secret"],
            "ZOHO_REFRESH_TOKEN": s["refresh_token"],
        }
    assert preset == "dynamics"
    return {
        "DYNAMICS_LOGIN_URL": served.url,
        "DYNAMICS_TENANT_ID": s["tenant"],
        "DYNAMICS_CLIENT_ID": s["client_id"],
        "DYNAMICS_CLIENT_SECRET": s["client_secret"],
        "DYNAMICS_URL": served.url,
    }


def secrets_of(served: Served[Any]) -> list[str]:
    keys = ("token", "client_secret", "refresh_token")
    return [value for key, value in served.settings.items() if key in keys and value]


@dataclass(frozen=True)
class Case:
    preset: str
    #: Enough contacts for three pages or more at the page size the preset asks for.
    contacts: int
    options: dict[str, Any]


CASES = [
    Case("hubspot", 230, {}),  # limit=100
    Case("pipedrive", 1100, {}),  # limit=500
    Case("zoho", 2300, {}),  # per_page=200; `page` numbers stop at 2,000 records
    Case("salesforce", 45, {"batch_size": 20}),  # the server's batch size decides
    Case("dynamics", 1100, {}),  # odata.maxpagesize=500
]


def uk(number: str) -> str:
    """A UK number in the phonebook's form (``02079460123``)."""
    digits = re.sub(r"\D", "", number)
    return "0" + digits[2:] if digits.startswith("44") else digits


def plan_records(plan_file: Path) -> dict[str, tuple[str, str, frozenset[str]]]:
    """The plan's records by source key: (action, name, numbers)."""
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    found = {}
    for item in plan["items"]:
        source = item.get("source")
        if source:
            found[source["key"]] = (item["action"], source["name"], frozenset(source["phones"]))
    return found


def check_every_record(plan_file: Path, expected: list[Expected]) -> None:
    found = plan_records(plan_file)
    assert set(found) == {e.key for e in expected}
    for e in expected:
        action, name, numbers = found[e.key]
        assert name == e.name, e
        # Sipalto holds three numbers: a record with more keeps three of its own.
        wanted = {uk(p) for p in e.phones}
        assert numbers <= wanted and len(numbers) == min(3, len(wanted)), e
        assert (action == "rejected") == (not e.phones), e


def serve(request: pytest.FixtureRequest, case: Case, faults: Faults) -> Served[Any]:
    factory: Callable[..., Served[Any]] = request.getfixturevalue(case.preset)
    return factory(case.contacts, faults=faults, **case.options)


def plan_from(
    run_cli: Callable[..., Any], served: Served[Any], preset: str, out: Path, *more: str
) -> Any:
    env = credentials(preset, served)
    return run_cli("plan", served.url, "--mapping", preset, "--out", str(out), *more, env=env)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.preset, marks=[pytest.mark.slow] if c.preset == "salesforce" else [])
        for c in CASES
    ],
)
def test_each_preset_reads_every_page_of_its_vendor_through_a_throttle(
    request: pytest.FixtureRequest, run_cli: Callable[..., Any], tmp_path: Path, case: Case
) -> None:
    # Salesforce's limit answer (403 REQUEST_LIMIT_EXCEEDED) sends no Retry-After: the
    # preset waits 10 s, hence slow.
    served = serve(request, case, Faults(rate_limit_on_page=2))
    out = tmp_path / "plan.json"
    result = plan_from(run_cli, served, case.preset, out)
    assert result.exit_code == 0, result.stdout + result.stderr
    fake: FakeCRM = served.fake
    pages = [entry.page for entry in fake.data_requests()]
    assert max(p for p in pages if p is not None) >= 3, pages
    assert pages.count(2) == 2  # the throttled page was asked for again, once
    check_every_record(out, fake.expected())
    text = result.stdout + result.stderr + out.read_text(encoding="utf-8")
    for secret in secrets_of(served):
        assert secret not in text


@pytest.mark.parametrize("preset", ["zoho", "dynamics"])
def test_an_expired_oauth_token_is_renewed_mid_read(
    request: pytest.FixtureRequest, run_cli: Callable[..., Any], tmp_path: Path, preset: str
) -> None:
    case = next(c for c in CASES if c.preset == preset)
    served = serve(request, case, Faults(token_expires_after=1))
    out = tmp_path / "plan.json"
    result = plan_from(run_cli, served, preset, out)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert served.fake.tokens_issued >= 3
    check_every_record(out, served.fake.expected())


FAILURES = [
    ("html_on_page", "HTML"),
    ("truncated_on_page", ""),
    ("repeat_cursor_on_page", "repeat"),
]


@pytest.mark.parametrize("preset", ["hubspot", "pipedrive", "zoho", "dynamics"])
@pytest.mark.parametrize(("fault", "says"), FAILURES)
def test_a_bad_answer_mid_read_is_one_line_and_no_plan(
    request: pytest.FixtureRequest,
    run_cli: Callable[..., Any],
    tmp_path: Path,
    preset: str,
    fault: str,
    says: str,
) -> None:
    case = next(c for c in CASES if c.preset == preset)
    served = serve(request, case, Faults(**{fault: 2}))
    out = tmp_path / "plan.json"
    result = plan_from(run_cli, served, preset, out)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert not out.exists()
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "page 2" in line, line
    assert says.casefold() in line.casefold(), line
    for secret in secrets_of(served):
        assert secret not in result.stdout + result.stderr


def test_the_error_type_of_a_failed_read_is_a_source_error() -> None:
    from connector.errors import IncompleteRead

    assert issubclass(IncompleteRead, SourceError)


@pytest.mark.parametrize(
    ("preset", "variable"), [("hubspot", "HUBSPOT_TOKEN"), ("pipedrive", "PIPEDRIVE_API_TOKEN")]
)
def test_a_token_refused_mid_read_names_the_variable_to_check(
    request: pytest.FixtureRequest,
    run_cli: Callable[..., Any],
    tmp_path: Path,
    preset: str,
    variable: str,
) -> None:
    # A static token revoked while the pages are read: the 401 on page 2 is not retried.
    case = next(c for c in CASES if c.preset == preset)
    served = serve(request, case, Faults(token_expires_after=1))
    out = tmp_path / "plan.json"
    result = plan_from(run_cli, served, preset, out)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert not out.exists()
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "page 2" in line and "401" in line and variable in line, line
    assert served.settings["token"] not in result.stdout + result.stderr
