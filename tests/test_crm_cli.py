"""End to end: ``sipalto-sync plan/inspect URL --mapping FILE.yaml`` against a loopback CRM
(tests/crm_server.py) and the sandbox, for each paginator type, throttling and failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from crm_server import CrmServer

TOKEN = "crm-Token-5a4b3c2d1e"

#: Contacts as a CRM holds them: none of them is in the sandbox's two-contact phonebook.
PEOPLE: list[dict[str, Any]] = [
    {"id": 101, "first": "Amelia", "last": "Hartley", "phone": "0113 496 0101"},
    {"id": 102, "first": "Chidi", "last": "Okafor",
     "phones": [{"value": "07700 900102", "label": "mobile", "primary": False},
                {"value": "020 7946 0102", "label": "work", "primary": True}]},
    {"id": 103, "first": None, "last": None, "company": "Harrow & Pike", "phone": 1614960103},
    {"id": 104, "first": "Emily", "last": "Dawson", "phone": "0117 496 0104"},
    {"id": 105, "first": "Rajesh", "last": "Patel", "phone": "+44 121 496 0105"},
]  # fmt: skip
NAMES = ["Amelia Hartley", "Chidi Okafor", "Harrow & Pike", "Emily Dawson", "Rajesh Patel"]

PAGINATORS = {
    "cursor": "{type: cursor, cursor_path: next.cursor, cursor_param: cursor}",
    "json_link": "{type: json_link, next_url_path: next_url}",
    "header_link": "{type: header_link}",
    "page_number": "{type: page_number, more_path: info.more_records}",
    "offset": "{type: offset, limit: 2, total_path: total}",
}


def mapping_file(tmp_path: Path, style: str = "cursor", auth: str | None = None) -> Path:
    auth = auth or '{type: bearer, token: "${CRM_TOKEN}"}'
    path = tmp_path / "testcrm.yaml"
    path.write_text(
        f"""\
description: the test CRM (token in CRM_TOKEN)
client:
  auth: {auth}
endpoint:
  path: /contacts
  data_selector: data
paginator: {PAGINATORS[style]}
fields:
  key: id
  name: ["{{first}} {{last}}", "{{company}}"]
  phones:
    - {{path: phone, label: work}}
    - {{path: "phones[*]", value: value, label_path: label, preferred_path: primary}}
limits: {{retries: 3}}
""",
        encoding="utf-8",
    )
    return path


def plan_items(plan_file: Path) -> list[dict[str, Any]]:
    return list(json.loads(plan_file.read_text(encoding="utf-8"))["items"])


@pytest.mark.parametrize("style", sorted(PAGINATORS))
def test_plan_reads_every_page_of_each_paginator_type(run_cli, tmp_path, style) -> None:
    with CrmServer(PEOPLE, style=style, auth=("bearer", TOKEN)) as crm:
        plan_file = tmp_path / "plan.json"
        result = run_cli("plan", crm.url, "--mapping", str(mapping_file(tmp_path, style)),
                         "--out", str(plan_file), env={"CRM_TOKEN": TOKEN})  # fmt: skip
        assert result.exit_code == 0, result.output
        assert len(crm.page_requests) == 3
    items = plan_items(plan_file)
    assert [(i["action"], i["after"]["name"]) for i in items] == [("add", n) for n in NAMES]
    assert [i["source"]["key"] for i in items] == ["101", "102", "103", "104", "105"]
    # Chidi's primary number first, the JSON number read as digits, +44 in Sipalto's form.
    assert items[1]["after"]["phone1"] == "02079460102"
    assert items[1]["after"]["phone2"] == "07700900102"
    assert items[2]["after"]["phone1"] == "01614960103"
    assert items[4]["after"]["phone1"] == "01214960105"
    assert "Plan: 5 to add, 0 to update, 0 to delete, 0 to review, 0 rejected." in result.stdout


def test_a_plan_from_a_crm_applies_and_then_has_nothing_to_do(run_cli, sandbox, tmp_path) -> None:
    home = {"SIPALTO_SYNC_HOME": str(tmp_path / "home"), "CRM_TOKEN": TOKEN}
    mapping = str(mapping_file(tmp_path))
    with CrmServer(PEOPLE, auth=("bearer", TOKEN)) as crm:
        plan_file = tmp_path / "plan.json"
        planned = run_cli("plan", crm.url, "-m", mapping, "--out", str(plan_file), env=home)
        assert planned.exit_code == 0, planned.output
        applied = run_cli("apply", str(plan_file), "--yes", env=home)
        assert applied.exit_code == 0, applied.output
        names = {c["name"] for c in sandbox.state.snapshot()}
        assert set(NAMES) <= names
        again = run_cli("plan", crm.url, "-m", mapping, "--detailed-exitcode", env=home)
        assert again.exit_code == 0, again.output
        assert "No changes. The phonebook already matches the source." in again.stdout


def test_a_429_and_a_5xx_mid_way_are_waited_out(run_cli, tmp_path) -> None:
    faults = {2: ["429", "500"], 3: ["500"]}
    with CrmServer(PEOPLE, auth=("bearer", TOKEN), faults=faults) as crm:
        plan_file = tmp_path / "plan.json"
        result = run_cli("plan", crm.url, "-m", str(mapping_file(tmp_path)),
                         "--out", str(plan_file), env={"CRM_TOKEN": TOKEN})  # fmt: skip
        assert result.exit_code == 0, result.output
        assert len(crm.page_requests) == 3 + 3
    assert len(plan_items(plan_file)) == 5


def test_inspect_with_limit_reads_only_the_pages_it_needs(run_cli, tmp_path) -> None:
    with CrmServer(PEOPLE, auth=("bearer", TOKEN)) as crm:
        result = run_cli("inspect", crm.url, "-m", str(mapping_file(tmp_path)), "--limit", "3",
                         "--format", "json", env={"CRM_TOKEN": TOKEN})  # fmt: skip
        assert result.exit_code == 0, result.output
        assert len(crm.page_requests) == 2
    assert [r["name"] for r in json.loads(result.stdout)] == NAMES[:3]
    assert f"testcrm: reading GET {crm.url}/contacts" in result.stderr
    assert "--limit 3: only the first 3 records were read" in result.stderr


@pytest.mark.parametrize(
    ("faults", "style", "problem"),
    [
        ({2: ["html"]}, "cursor", "the answer is an HTML page, not JSON"),
        ({2: ["truncated"]}, "cursor", "part-way through its JSON"),
        ({2: ["401"]}, "cursor", "401 Unauthorized: the credentials were refused; check CRM_TOKEN"),
        ({2: ["repeat"]}, "cursor", "the cursor at next.cursor 'c2' repeats"),
        ({3: ["500"] * 4}, "page_number", "500 Internal Server Error (gave up after 4 tries)"),
    ],
)
def test_a_failed_read_is_one_line_exit_1_and_no_plan(
    run_cli, sandbox, tmp_path, faults, style, problem
) -> None:
    plan_file = tmp_path / "plan.json"
    with CrmServer(PEOPLE, style=style, auth=("bearer", TOKEN), faults=faults) as crm:
        result = run_cli("plan", crm.url, "-m", str(mapping_file(tmp_path, style)),
                         "--out", str(plan_file), env={"CRM_TOKEN": TOKEN})  # fmt: skip
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()[-1:]
    assert line.startswith(f"Error: testcrm: page {min(faults)}: GET {crm.url}/contacts")
    assert problem in line
    assert "records read before it are not used" in line
    assert "Traceback" not in result.output
    assert not plan_file.exists()
    assert result.stdout == ""
    assert sandbox.state.requests == [] or all("contacts" not in r for r in sandbox.state.requests)


def test_a_url_without_a_crm_mapping_is_one_clear_error(run_cli) -> None:
    result = run_cli("plan", "https://api.hubapi.com")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: api.hubapi.com is a web address: reading a CRM needs --mapping with a CRM preset ("
    )
    assert "hubspot" in result.stderr
    result = run_cli("inspect", "https://api.hubapi.com", "--mapping", "outlook")
    assert result.exit_code == 1
    assert "Error: preset outlook is a file mapping" in result.stderr


def test_a_missing_variable_is_reported_before_any_request(run_cli, tmp_path) -> None:
    with CrmServer(PEOPLE, auth=("bearer", TOKEN)) as crm:
        result = run_cli("plan", crm.url, "-m", str(mapping_file(tmp_path)))
        assert crm.seen == []
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'testcrm.yaml'}:3: client.auth.token: environment variable "
        "CRM_TOKEN is not set (or write ${CRM_TOKEN:-default})\n"
    )


def test_mappings_list_shows_the_kind_of_each_preset(run_cli) -> None:
    result = run_cli("mappings", "list")
    assert result.exit_code == 0
    kinds = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()}
    assert kinds["outlook"] == "file" and kinds["hubspot"] == "crm"


# -- secrets ---------------------------------------------------------------------------------

OAUTH_SECRETS = {
    "CRM_CLIENT_ID": "client-77",
    "CRM_CLIENT_SECRET": "cs-Secret-Q1w2E3r4",
    "CRM_REFRESH": "rt-Secret-Z9x8C7v6",
}


def every_text(folder: Path) -> str:
    return "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in folder.rglob("*")
        if path.is_file()
    )


@pytest.mark.parametrize("faults", [{}, {2: ["401", "401"]}, {2: ["html"]}])
def test_no_secret_in_any_output_log_or_file(sandbox, tmp_path, faults) -> None:
    """The real command in a process at -vv (httpx logs every URL), with the api key in the
    query string and an OAuth refresh-token grant in turn."""
    work = tmp_path / "work"
    work.mkdir()
    query_auth = '{type: api_key, name: api_token, api_key: "${CRM_TOKEN}", location: query}'
    oauth = (
        '{type: oauth2_refresh_token, token_url: "${CRM_URL}/token", '
        'client_id: "${CRM_CLIENT_ID}", client_secret: "${CRM_CLIENT_SECRET}", '
        'refresh_token: "${CRM_REFRESH}", send_as: query}'
    )
    for auth, server_auth in (
        (query_auth, ("query", "api_token", TOKEN)),
        (oauth, ("oauth", *OAUTH_SECRETS.values())),
    ):
        mapping = mapping_file(work, auth=auth)
        with CrmServer(PEOPLE, auth=server_auth, faults=dict(faults)) as crm:
            env = {**os.environ, "SIPALTO_BASE_URL": sandbox.url, "SIPALTO_USERNAME": "demo",
                   "SIPALTO_PASSWORD": "demo", "SIPALTO_SYNC_HOME": str(work / "home"),
                   "NO_COLOR": "1", "CRM_TOKEN": TOKEN, "CRM_URL": crm.url,
                   **OAUTH_SECRETS}  # fmt: skip
            outputs = []
            for command in (["-vv", "plan", crm.url, "-m", str(mapping), "--out",
                             str(work / "plan.json"), "--force", "--format", "json"],
                            ["-vv", "inspect", crm.url, "-m", str(mapping), "--format", "json",
                             "-o", str(work / "records.json"), "--force"]):  # fmt: skip
                done = subprocess.run([sys.executable, "-m", "connector", *command], env=env,
                                      capture_output=True, text=True, timeout=60)  # fmt: skip
                outputs.append(done.stdout + done.stderr)
                assert done.returncode in (0, 1), done.stderr
                assert "Traceback" not in done.stderr or faults  # -v shows one for errors
            if not faults:
                assert "HTTP Request: GET" in outputs[0]  # -vv did log the requests
        everything = "\n".join(outputs) + every_text(work)
        for secret in (TOKEN, *OAUTH_SECRETS.values()):
            if secret != OAUTH_SECRETS["CRM_CLIENT_ID"]:
                assert secret not in everything
        for token in crm.tokens_issued:
            assert token not in everything


def test_limit_reads_only_the_first_records_of_a_file_too(run_cli) -> None:
    sample = Path(__file__).resolve().parent.parent / "sample_data" / "contacts.csv"
    result = run_cli("inspect", str(sample), "--limit", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 2
