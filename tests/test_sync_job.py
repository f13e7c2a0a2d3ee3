"""The job file of a scheduled sync: every key, every mistake as one line, variables,
paths relative to the file, credentials from the environment, and no password anywhere."""

from __future__ import annotations

import json
import re
import traceback
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from adapters.registry import format_names
from connector.config import ConnectionSettings
from connector.errors import ConfigError
from connector.reconcile import plan as plan_module
from connector.reconcile.workflow import SourceOptions
from connector.sync.job import (
    DEFAULT_KEEP_REPORTS,
    DEFAULT_MAX_DELETES,
    DELETE_POLICIES,
    EDIT_POLICIES,
    Job,
    JobSource,
    MaxDeletes,
    Policy,
    expand_variables,
    load_job,
)
from connector.sync.state import default_state_path

MINIMAL = "job: crm-nightly\nsource:\n  path: contacts.csv\n"

EVERY_KEY = """\
job: crm-nightly
source:
  path: exports/contacts.xlsx
  mapping: maps/crm.yaml
  format: xlsx
  encoding: cp1252
  sheet: Contacts
  header_row: 3
sipalto:
  base_url: http://127.0.0.1:8000
  username: sync-bot
  password: ${CRM_SYNC_PASSWORD}
state: state/crm.db
policy:
  delete: owned
  phones: replace
  names: source
  on_phonebook_edit: overwrite
  max_deletes: 25
  region: ie
  adopt: true
  readd_deleted: true
report: reports/
keep_reports: 7
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SIPALTO_SYNC_HOME", str(home))
    return home


def write(folder: Path, text: str, name: str = "job.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def mistake(path: Path, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_job(path, {} if environ is None else environ)
    assert "\n" not in str(caught.value)
    return caught.value


# -- every key, and the defaults -------------------------------------------------------------


def test_every_key_of_a_job_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "jobs", EVERY_KEY)
    job = load_job(path, {"CRM_SYNC_PASSWORD": "s3cret", "SIPALTO_TIMEOUT": "12"})
    folder = tmp_path / "jobs"
    assert job == Job(
        name="crm-nightly",
        path=path,
        source=JobSource(
            folder / "exports" / "contacts.xlsx",
            SourceOptions(
                format="xlsx",
                mapping=folder / "maps" / "crm.yaml",
                encoding="cp1252",
                sheet="Contacts",
                header_row=3,
            ),
        ),
        connection=ConnectionSettings(
            base_url="http://127.0.0.1:8000", username="sync-bot", password="s3cret", timeout=12.0
        ),
        state=folder / "state" / "crm.db",
        policy=Policy(
            delete="owned",
            phones="replace",
            names="source",
            on_phonebook_edit="overwrite",
            max_deletes=MaxDeletes(count=25),
            region="IE",
            adopt=True,
            readd_deleted=True,
        ),
        report=folder / "reports",
        keep_reports=7,
    )


def test_a_minimal_job_file_gets_the_documented_defaults(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path, MINIMAL)
    job = load_job(path, {})
    assert job == Job(
        name="crm-nightly",
        path=path,
        source=JobSource(tmp_path / "contacts.csv"),
        connection=ConnectionSettings(),
        state=home / "jobs" / "crm-nightly.db",
        policy=Policy(),
        report=None,
        keep_reports=30,
    )
    assert job.state == default_state_path("crm-nightly")
    policy = job.policy
    assert (policy.delete, policy.phones, policy.names, policy.on_phonebook_edit) == (
        "never",
        "merge",
        "phonebook",
        "review",
    )
    assert (policy.region, policy.adopt, policy.readd_deleted) == ("GB", False, False)
    assert policy.max_deletes == DEFAULT_MAX_DELETES == MaxDeletes(count=10, percent=Decimal(5))
    assert str(policy.max_deletes) == "10 or 5%, whichever is lower"
    assert DEFAULT_KEEP_REPORTS == 30


def test_empty_sections_and_keys_mean_their_defaults(tmp_path: Path, home: Path) -> None:
    text = MINIMAL + "  mapping:\nsipalto:\npolicy:\nstate:\nreport:\n"
    empty = load_job(write(tmp_path, text), {})
    assert empty == replace(load_job(write(tmp_path, MINIMAL, "m.yaml"), {}), path=empty.path)


def test_a_sheet_given_as_a_number_is_its_text(tmp_path: Path) -> None:
    job = load_job(write(tmp_path, MINIMAL + "  sheet: 2\n"), {})
    assert job.source.options.sheet == "2"  # the adapter tries a sheet named "2", then the 2nd


@pytest.mark.parametrize(("written", "share"), [("5%", "5"), ("2.5 %", "2.5"), ("0%", "0")])
def test_max_deletes_may_be_a_share(tmp_path: Path, written: str, share: str) -> None:
    job = load_job(write(tmp_path, MINIMAL + f"policy:\n  max_deletes: '{written}'\n"), {})
    assert job.policy.max_deletes == MaxDeletes(percent=Decimal(share))


def test_the_policies_are_those_the_planner_and_the_issue_name() -> None:
    fields = Policy.model_fields
    assert get_args(fields["phones"].annotation) == plan_module.PHONE_POLICIES
    assert get_args(fields["names"].annotation) == plan_module.NAME_POLICIES
    assert get_args(fields["delete"].annotation) == DELETE_POLICIES == ("never", "owned", "mirror")
    assert set(plan_module.DELETE_POLICIES) <= set(DELETE_POLICIES)
    assert get_args(fields["on_phonebook_edit"].annotation) == EDIT_POLICIES


# -- mistakes: one line each, at the right line ----------------------------------------------

HEAD = MINIMAL  # three lines: the mistakes below start on line 4

BAD_FILES = [
    # (file text, line, message after "job.yaml:LINE: ")
    ("job: crm\nsource: {path: a.csv\n", 3, "not valid YAML: expected ',' or '}', but got "
     "'<stream end>' (while parsing a flow mapping begun on line 2)"),
    ("job: crm\njob: other\nsource: {path: a.csv}\n", 2,
     "not valid YAML: 'job' is given twice (first on line 1)"),
    ("- job\n", 1, "the file must be a mapping, not a list (allowed: a mapping with the keys "
     "job, keep_reports, policy, report, sipalto, source, state)"),
    ("", 1, "the file must be a mapping, not empty (allowed: a mapping with the keys job, "
     "keep_reports, policy, report, sipalto, source, state)"),
    ("job: crm\nsource: {path: a.csv}\nreports: out/\n", 3, "reports: unknown setting; did you "
     "mean 'report'? (allowed: job, keep_reports, policy, report, sipalto, source, state)"),
    ("source: {path: a.csv}\n", 1, "job: missing (allowed: 1 to 64 letters, digits, '.', '_' "
     "or '-', starting with a letter or digit)"),
    ("job: ../etc\nsource: {path: a.csv}\n", 1, "job: '../etc' is not usable as a job name "
     "(allowed: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit)"),
    ("job: crm\n", 1, "source: missing (allowed: a mapping with path and the reading options)"),
    ("job: crm\nsource: a.csv\n", 2, "source: must be a mapping, not the text 'a.csv' "
     "(allowed: a mapping with path and the reading options)"),
    ("job: crm\nsource: {}\n", 2, "source.path: missing (allowed: a source file (csv, xlsx, "
     "vcf), relative to the job file, or an http(s) URL)"),
    ("job: crm\nsource: {path: ' '}\n", 2, "source.path: must not be empty (allowed: a source "
     "file (csv, xlsx, vcf), relative to the job file, or an http(s) URL)"),
    (HEAD + "  mapping: outlok\n", 4, "source.mapping: no preset named 'outlok'; did you mean "
     "'outlook'? (presets: google-contacts, outlook, sipalto; CRM presets: dynamics, hubspot, "
     "pipedrive, salesforce, zoho); a mapping file is named with a / or .yaml (allowed: "
     "a mapping preset name (see `sipalto-sync mappings list`) or a mapping file relative to "
     "the job file)"),
    (HEAD + "  format: xls\n", 4, "source.format: unknown format 'xls' (allowed: one of csv, "
     "vcard, xlsx; default: from the file)"),
    (HEAD + "  encoding: klingon\n", 4, "source.encoding: unknown encoding 'klingon' (allowed: "
     "a CSV's text encoding, such as cp1252; default: detected)"),
    (HEAD + "  sheet: ''\n", 4, "source.sheet: must not be empty (allowed: a spreadsheet's "
     "sheet name, or its number from 1)"),
    (HEAD + "  header_row: 0\n", 4, "source.header_row: must be 1 or more, not 0 (allowed: the "
     "row number of the header, from 1; default: detected)"),
    (HEAD + "  header_row: '2'\n", 4, "source.header_row: must be a whole number, not the text "
     "'2' (allowed: the row number of the header, from 1; default: detected)"),
    (HEAD + "  sheets: 2\n", 4, "source.sheets: unknown setting; did you mean 'sheet'? "
     "(allowed: encoding, format, header_row, mapping, path, sheet)"),
    (HEAD + "sipalto: demo\n", 4, "sipalto: must be a mapping, not the text 'demo' (allowed: "
     "a mapping with base_url, username and password)"),
    (HEAD + "sipalto:\n  user: demo\n", 5, "sipalto.user: unknown setting; did you mean "
     "'username'? (allowed: base_url, password, username)"),
    (HEAD + "sipalto:\n  base_url: ftp://pbx.example\n", 5, "sipalto.base_url: is not an "
     "http(s) base URL (allowed: an http(s) URL such as https://app-api.sipalto.com; "
     "default: SIPALTO_BASE_URL)"),
    (HEAD + "sipalto:\n  username: [a, b]\n", 5, "sipalto.username: must be text, not a list "
     "(allowed: text; default: SIPALTO_USERNAME)"),
    (HEAD + "state: ''\n", 4, "state: must not be empty (allowed: the state file, relative "
     "to the job file; default: per job)"),
    (HEAD + "report: 5.5\n", 4, "report: must be text, not the number 5.5 (allowed: a folder "
     "for each run's plan and report, relative to the job file)"),
    (HEAD + "keep_reports: 0\n", 4, "keep_reports: must be 1 or more, not 0 (allowed: how many "
     "runs' reports to keep, 1 or more)"),
    (HEAD + "keep_reports: all\n", 4, "keep_reports: must be a whole number, not the text "
     "'all' (allowed: how many runs' reports to keep, 1 or more)"),
    (HEAD + "policy: owned\n", 4, "policy: must be a mapping, not the text 'owned' (allowed: "
     "a mapping of the job's policies)"),
    (HEAD + "policy:\n  delete: all\n", 5, "policy.delete: must be one of 'never', 'owned' or "
     "'mirror', not the text 'all' (allowed: never (nothing), owned (what this job added and "
     "the source dropped), mirror (everything the source does not match; needs --yes))"),
    (HEAD + "policy:\n  phones: keep\n", 5, "policy.phones: must be one of 'merge' or "
     "'replace', not the text 'keep' (allowed: merge (keep phonebook numbers the source "
     "lacks) or replace)"),
    (HEAD + "policy:\n  names: crm\n", 5, "policy.names: must be one of 'phonebook' or "
     "'source', not the text 'crm' (allowed: phonebook (keep a name that differs only in "
     "form) or source)"),
    (HEAD + "policy:\n  on_phonebook_edit: ask\n", 5, "policy.on_phonebook_edit: must be one "
     "of 'review', 'overwrite' or 'keep', not the text 'ask' (allowed: review (hold it back "
     "until someone decides), overwrite (the source wins) or keep (the edit becomes the "
     "baseline))"),
    (HEAD + "policy:\n  max_delete: 5\n", 5, "policy.max_delete: unknown setting; did you "
     "mean 'max_deletes'? (allowed: adopt, delete, max_deletes, names, on_phonebook_edit, "
     "phones, readd_deleted, region)"),
    *[
        (HEAD + f"policy:\n  max_deletes: {value}\n", 5, f"policy.max_deletes: {problem} "
         "(allowed: a whole number of contacts, or a share of the phonebook such as '5%'; "
         "default: 10 or 5%, whichever is lower)")
        for value, problem in [
            ("-1", "must not be negative, not -1"),
            ("2.5", "must be a whole number or a share such as '5%', not the number 2.5"),
            ("'5'", "must be a whole number or a share such as '5%', not the text '5'"),
            ("150%", "a share must be from 0% to 100%, not '150%'"),
            ("five", "must be a whole number or a share such as '5%', not the text 'five'"),
            ("true", "must be a whole number or a share such as '5%', not true"),
            ("[5]", "must be a whole number or a share such as '5%', not a list"),
        ]
    ],
    (HEAD + "policy:\n  region: XX\n", 5, "policy.region: unknown region 'XX' (allowed: a "
     "country code such as GB or IE: the country of numbers written without one)"),
    (HEAD + "policy:\n  adopt: 'yes'\n", 5, "policy.adopt: must be true or false, not the "
     "text 'yes' (allowed: true or false: whether contacts the job matched become its own)"),
    (HEAD + "policy:\n  readd_deleted: 1\n", 5, "policy.readd_deleted: must be true or "
     "false, not the number 1 (allowed: true or false: whether contacts deleted in Sipalto "
     "by hand are re-added)"),
    (HEAD + "state: ${STATE_DIR}/crm.db\n", 4, "state: environment variable STATE_DIR is not "
     "set (or write ${STATE_DIR:-default})"),
    (HEAD + "report: ${REPORTS\n", 4, "report: '${' begins no variable reference: write "
     "${NAME} or ${NAME:-default} (a name is letters, digits and _), or $${ for a literal ${"),
    (HEAD + "report: ${2DIR}\n", 4, "report: '${' begins no variable reference: write ${NAME} "
     "or ${NAME:-default} (a name is letters, digits and _), or $${ for a literal ${"),
    (HEAD + "report: ${A:-${B}}\n", 4, "report: a default cannot hold another ${...}"),
    (HEAD + "policy:\n  max_deletes: ${LIMIT}\n", 5, "policy.max_deletes: must be a whole "
     "number or a share such as '5%', not the text '7' (allowed: a whole number of contacts, "
     "or a share of the phonebook such as '5%'; default: 10 or 5%, whichever is lower)"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES)
def test_each_mistake_is_one_line_naming_file_line_and_key(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    error = mistake(path, {"LIMIT": "7"})
    assert str(error) == f"{path}:{line}: {message}"
    assert (error.path, error.line) == (str(path), line)


def test_several_mistakes_report_the_first_and_count_the_rest(tmp_path: Path) -> None:
    error = mistake(write(tmp_path, "jobs: crm\nsource: {path: a.csv, sheets: 2}\n"))
    assert str(error).startswith(f"{tmp_path / 'job.yaml'}:1: jobs: unknown setting")
    assert str(error).endswith("; and 2 more problems")


def test_every_unset_variable_is_named_at_the_first(tmp_path: Path) -> None:
    text = HEAD + "state: ${A}\nreport: ${B}/${A}/${C:-c}/${D}\n"
    error = mistake(write(tmp_path, text))
    assert str(error) == (
        f"{tmp_path / 'job.yaml'}:4: state: environment variable A is not set "
        "(or write ${A:-default}); also not set: B, D"
    )
    assert error.key == "state"


def test_a_file_that_is_not_there_or_not_text_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert str(mistake(missing)) == f"{missing}: job file not found"
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"job: \xff\xfe\n")
    assert str(mistake(binary)).startswith(f"{binary}: cannot read job file: ")


def test_messages_name_the_job_file_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "jobs", "job: crm\n")
    monkeypatch.chdir(tmp_path)
    assert str(mistake(Path("jobs/job.yaml"))).startswith("jobs/job.yaml:1: source: missing")


# -- ${VARIABLES} ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "environ", "expanded"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("${A}", {"A": ""}, ""),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A:-d}", {"A": "x"}, "x"),
        ("${A:-}", {}, ""),
        ("${A:-a b:-c $x}", {}, "a b:-c $x"),
        ("${A}/${B_2}.db", {"A": "/var", "B_2": "crm"}, "/var/crm.db"),
        ("$${A}", {"A": "x"}, "${A}"),
        ("pa$$word", {}, "pa$$word"),
        ("$A and $ and $$", {"A": "x"}, "$A and $ and $$"),
        ("${A}", {"A": "${B}"}, "${B}"),  # a value is not read again
        ("${A}", {"A": "$${B}"}, "$${B}"),
        ("no variables", {}, "no variables"),
    ],
)
def test_variables_are_replaced(text: str, environ: dict[str, str], expanded: str) -> None:
    assert expand_variables(text, environ, origin="job.yaml") == expanded


def test_only_text_values_are_expanded_at_any_depth() -> None:
    data = {"${A}": "${A}", "n": 5, "b": True, "none": None, "l": ["${A}", {"k": "${A}"}]}
    assert expand_variables(data, {"A": "x"}, origin="job.yaml") == {
        "${A}": "x",
        "n": 5,
        "b": True,
        "none": None,
        "l": ["x", {"k": "x"}],
    }


def test_an_unset_variable_in_a_list_is_placed_by_its_index() -> None:
    with pytest.raises(ConfigError) as caught:
        expand_variables({"l": ["ok", "${NOPE}"]}, {}, origin="j.yaml")
    assert str(caught.value) == (
        "j.yaml: l[1]: environment variable NOPE is not set (or write ${NOPE:-default})"
    )


def test_variables_fill_paths_and_credentials(tmp_path: Path) -> None:
    text = (
        "job: ${JOB:-crm}\nsource:\n  path: ${EXPORTS}/contacts.csv\n"
        "sipalto:\n  base_url: ${PBX}\n  username: ${USER_NAME:-sync}\n"
        "state: $${literal}/state.db\n"
    )
    environ = {"EXPORTS": "/srv/exports", "PBX": "http://127.0.0.1:9", "USER_NAME": ""}
    job = load_job(write(tmp_path, text), environ)
    assert job.name == "crm"
    assert job.source.location == Path("/srv/exports/contacts.csv")
    assert (job.connection.base_url, job.connection.username) == ("http://127.0.0.1:9", "sync")
    assert job.state == tmp_path / "${literal}" / "state.db"


# -- paths -----------------------------------------------------------------------------------


def test_relative_paths_are_relative_to_the_job_file_not_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        "job: crm\nsource:\n  path: ../exports/c.csv\n  mapping: crm.yml\n"
        "state: state.db\nreport: out/reports/\n"
    )
    write(tmp_path / "etc" / "jobs", text)
    monkeypatch.chdir(tmp_path)
    job = load_job(Path("etc/jobs/job.yaml"), {})
    folder = tmp_path / "etc" / "jobs"
    assert job.path == folder / "job.yaml"
    assert job.source.location == folder / ".." / "exports" / "c.csv"
    assert job.source.options.mapping == folder / "crm.yml"
    assert job.state == folder / "state.db"
    assert job.report == folder / "out" / "reports"
    assert all(p.is_absolute() for p in (job.path, job.state, job.report))


def test_absolute_and_home_paths_stay_where_they_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    text = "job: crm\nsource:\n  path: /data/c.csv\n  mapping: ~/maps/crm.yaml\nstate: ~/s.db\n"
    job = load_job(write(tmp_path, text), {})
    assert job.source.location == Path("/data/c.csv")
    assert job.source.options.mapping == tmp_path / "me" / "maps" / "crm.yaml"
    assert job.state == tmp_path / "me" / "s.db"


@pytest.mark.parametrize(
    ("written", "preset"),
    [
        ("outlook", True),
        ("google-contacts", True),
        ("crm.yaml", False),
        ("CRM.YML", False),
        ("maps/crm", False),
        ("./outlook", False),
    ],
)
def test_a_mapping_is_a_preset_unless_it_has_a_folder_or_a_yaml_suffix(
    tmp_path: Path, written: str, preset: bool
) -> None:
    job = load_job(write(tmp_path, MINIMAL + f"  mapping: {written}\n"), {})
    expected = written if preset else tmp_path / written
    assert job.source.options.mapping == expected


@pytest.mark.parametrize(
    "url", ["http://crm.example/api", "https://crm.example/api?page=1", "HTTPS://crm.example"]
)
def test_a_source_url_is_kept_as_written(tmp_path: Path, url: str) -> None:
    text = f"job: crm\nsource:\n  path: '{url}'\n  mapping: hubspot\n"
    job = load_job(write(tmp_path, text), {})
    assert job.source.location == url
    assert job.source.is_url


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("  path: https://crm.example\n", "a CRM source (an http(s) URL) needs a mapping"),
        (
            "  path: https://crm.example\n  mapping: hubspot\n  sheet: Contacts\n",
            "sheet is for files; a CRM source (an http(s) URL) has none",
        ),
    ],
)
def test_a_crm_source_needs_a_mapping_and_no_file_options(
    tmp_path: Path, source: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"job.yaml:2: source: {problem}")):
        load_job(write(tmp_path, f"job: crm\nsource:\n{source}"), {})


def test_a_source_file_is_not_a_url(tmp_path: Path) -> None:
    job = load_job(write(tmp_path, "job: crm\nsource:\n  path: http.csv\n"), {})
    assert job.source.location == tmp_path / "http.csv"
    assert not job.source.is_url


# -- credentials -----------------------------------------------------------------------------

ENVIRONMENT = {
    "SIPALTO_BASE_URL": "http://127.0.0.1:8001",
    "SIPALTO_USERNAME": "env-user",
    "SIPALTO_PASSWORD": "env-pass",
    "SIPALTO_TIMEOUT": "9",
    "SIPALTO_TIMEZONE": "Europe/Dublin",
}


def test_without_a_sipalto_section_the_environment_gives_the_connection(tmp_path: Path) -> None:
    job = load_job(write(tmp_path, MINIMAL), ENVIRONMENT)
    assert job.connection == ConnectionSettings(
        "http://127.0.0.1:8001", "env-user", "env-pass", 9.0, "Europe/Dublin"
    )


def test_each_sipalto_key_overrides_its_variable_alone(tmp_path: Path) -> None:
    text = MINIMAL + "sipalto:\n  username: file-user\n"
    job = load_job(write(tmp_path, text), ENVIRONMENT)
    assert job.connection == ConnectionSettings(
        "http://127.0.0.1:8001", "file-user", "env-pass", 9.0, "Europe/Dublin"
    )
    text = MINIMAL + "sipalto:\n  base_url: http://127.0.0.1:9\n  password: ''\n"
    job = load_job(write(tmp_path, text), ENVIRONMENT)
    assert (job.connection.base_url, job.connection.password) == ("http://127.0.0.1:9", "")


def test_with_nothing_set_the_connection_is_the_default_one(tmp_path: Path) -> None:
    assert load_job(write(tmp_path, MINIMAL), {}).connection == ConnectionSettings()


def test_a_bad_variable_of_the_connection_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SIPALTO_TIMEOUT must be a number of seconds"):
        load_job(write(tmp_path, MINIMAL), {"SIPALTO_TIMEOUT": "soon"})


# -- secrets ---------------------------------------------------------------------------------

PASSWORD = "Zq7!job&Secret-4711"


def everything_shown(error: BaseException) -> str:
    """All a user could see of an error: its text, repr, and traceback with its chain."""
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def test_the_password_is_in_the_connection_and_nowhere_else(tmp_path: Path) -> None:
    text = EVERY_KEY.replace("http://127.0.0.1:8000", f"http://bob:{PASSWORD}@127.0.0.1:8000")
    job = load_job(write(tmp_path, text), {"CRM_SYNC_PASSWORD": PASSWORD})
    assert job.connection.password == PASSWORD
    described = json.dumps(job.to_json())
    for shown in (repr(job), str(job), described):
        assert PASSWORD not in shown
    assert "sync-bot" not in described  # no username either
    assert job.to_json()["sipalto"] == {"base_url": "http://127.0.0.1:8000"}


def test_the_description_for_reports(tmp_path: Path) -> None:
    text = EVERY_KEY.replace("exports/contacts.xlsx", "https://u:p@crm.example/api?key=k#x")
    text = re.sub(r"  (format|encoding|sheet|header_row): .*\n", "", text)
    path = write(tmp_path, text)
    assert load_job(path, {"CRM_SYNC_PASSWORD": PASSWORD}).to_json() == {
        "job": "crm-nightly",
        "file": str(path),
        "source": {
            "path": "https://crm.example/api",
            "mapping": str(tmp_path / "maps" / "crm.yaml"),
            "format": None,
            "encoding": None,
            "sheet": None,
            "header_row": None,
        },
        "sipalto": {"base_url": "http://127.0.0.1:8000"},
        "state": str(tmp_path / "state" / "crm.db"),
        "policy": {
            "delete": "owned",
            "phones": "replace",
            "names": "source",
            "on_phonebook_edit": "overwrite",
            "max_deletes": "25",
            "region": "IE",
            "adopt": True,
            "readd_deleted": True,
        },
        "report": str(tmp_path / "reports"),
        "keep_reports": 7,
    }


@pytest.mark.parametrize(
    "value",
    [
        "1.5",
        "[Zq7secret]",
        "{Zq7secret: 1}",
        "2024-01-31",
        "true",
        "*Zq7secret",
        "!Zq7secret text",
        "&Zq7secret [1]",
        "{x: *Zq7secret}",
        '"Zq7secret\\q"',
    ],
)
def test_a_bad_password_value_is_named_by_its_place_only(tmp_path: Path, value: str) -> None:
    error = mistake(write(tmp_path, MINIMAL + f"sipalto:\n  password: {value}\n"))
    assert error.line == 5
    shown = everything_shown(error)
    for part in ("Zq7secret", "2024", "1.5"):
        assert part not in shown


def test_a_bad_password_in_a_flow_mapping_is_not_quoted(tmp_path: Path) -> None:
    error = mistake(write(tmp_path, MINIMAL + "sipalto: {password: *Zq7secret}\n"))
    assert "Zq7secret" not in everything_shown(error)
    assert str(error).endswith(":4: not valid YAML on the password's line (not shown): put "
                               "the password in single quotes")  # fmt: skip


def test_a_url_with_credentials_is_not_quoted(tmp_path: Path) -> None:
    text = MINIMAL + "sipalto:\n  base_url: ${PBX}\n"
    error = mistake(write(tmp_path, text), {"PBX": f"ftp://bob:{PASSWORD}@pbx"})
    assert str(error).endswith("sipalto.base_url: is not an http(s) base URL (allowed: an "
                               "http(s) URL such as https://app-api.sipalto.com; default: "
                               "SIPALTO_BASE_URL)")  # fmt: skip
    assert PASSWORD not in everything_shown(error)


def test_an_error_does_not_carry_the_validation_error_that_holds_the_values(
    tmp_path: Path,
) -> None:
    text = MINIMAL + f"sipalto:\n  password: '{PASSWORD}'\npolicy:\n  delete: all\n"
    error = mistake(write(tmp_path, text))
    assert error.__cause__ is None and error.__context__ is None
    assert PASSWORD not in everything_shown(error)


def yaml_quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar: printable ASCII as is, the rest escaped."""
    out = []
    for char in text:
        if char in '"\\' or not (" " <= char <= "~"):
            out.append(f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def written_password(password: str) -> str:
    """A password as a job file holds it literally: ``${`` escaped, then YAML-quoted."""
    return yaml_quoted(password.replace("${", "$${"))


# Files with one mistake each (not about the password); {password} is the sipalto
# password line, given in the file or as a variable.
SECRET_BAD_FILES = [
    HEAD + "sipalto:\n  password: {password}\nreports: out/\n",
    HEAD + "sipalto:\n  password: {password}\npolicy:\n  delete: all\n",
    HEAD + "sipalto:\n  password: {password}\npolicy:\n  max_deletes: lots\n",
    HEAD + "sipalto:\n  password: {password}\n  base_url: ${{PBX}}\n",
    HEAD + "sipalto:\n  password: {password}\nstate: ${{NOT_SET}}\n",
    HEAD + "sipalto:\n  password: {password}\n  password: again\n",
    HEAD + "sipalto:\n  password: {password}\nreport: [\n",
    "job: ../x\nsource: {{path: a.csv}}\nsipalto:\n  password: {password}\n",
    "job: crm\nsipalto:\n  password: {password}\n  username: [{password}]\n",
    "job: crm\nsource: {{path: a.csv}}\nkeep_reports: 0\n",  # the password from SIPALTO_PASSWORD
]

passwords = st.text(st.characters(exclude_categories=("Cs",)), min_size=6, max_size=40)


def error_for(path: Path, template: str, password_line: str, password: str) -> str:
    path.write_text(template.format(password=password_line), encoding="utf-8")
    environ = {
        "SECRET": password,
        "SIPALTO_PASSWORD": password,
        "PBX": f"ftp://bob:{password}@pbx.example",
    }
    with pytest.raises(ConfigError) as caught:
        load_job(path, environ)
    return everything_shown(caught.value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    template=st.sampled_from(SECRET_BAD_FILES),
    password=passwords,
    from_variable=st.booleans(),
)
def test_no_password_is_ever_shown_by_a_mistake_in_the_file(
    tmp_path: Path, template: str, password: str, from_variable: bool
) -> None:
    path = tmp_path / "job.yaml"

    def line(secret: str) -> str:
        return "${SECRET}" if from_variable else written_password(secret)

    shown = error_for(path, template, line(password), password)
    # What is shown does not depend on the password at all: it never quotes it.
    placeholder = "placeholder-password"
    expected = error_for(path, template, line(placeholder), placeholder)
    assert shown.replace(placeholder, "") == expected.replace(placeholder, "")
    assume(password not in expected)
    assert password not in shown


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=passwords)
def test_a_password_written_in_the_file_is_read_exactly_and_never_shown(
    tmp_path: Path, password: str
) -> None:
    path = write(tmp_path, MINIMAL + f"sipalto:\n  password: {written_password(password)}\n")
    job = load_job(path, {})
    assert job.connection.password == password
    placeholder = load_job(write(tmp_path, MINIMAL, "other.yaml"), {})
    for shown, reference in [
        (repr(job), repr(placeholder)),
        (json.dumps(job.to_json()), json.dumps(placeholder.to_json())),
    ]:
        assert shown.replace("other.yaml", "job.yaml") == reference.replace(
            "other.yaml", "job.yaml"
        )


# -- max_deletes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "total", "allowed"),
    [
        (MaxDeletes(count=10), 0, 10),
        (MaxDeletes(count=0), 1000, 0),
        (MaxDeletes(percent=Decimal(5)), 0, 0),  # 5% of nothing
        (MaxDeletes(percent=Decimal(5)), 19, 0),  # 0.95 rounds down
        (MaxDeletes(percent=Decimal(5)), 20, 1),
        (MaxDeletes(percent=Decimal(5)), 39, 1),  # 1.95
        (MaxDeletes(percent=Decimal(5)), 100, 5),
        (MaxDeletes(percent=Decimal(7)), 100, 7),  # 0.07 * 100 is 7.000000000000001
        (MaxDeletes(percent=Decimal(29)), 100, 29),  # 0.29 * 100 is 28.999999999999996
        (MaxDeletes(percent=Decimal("2.5")), 1000, 25),
        (MaxDeletes(percent=Decimal(100)), 37, 37),
        (MaxDeletes(percent=Decimal(0)), 1000, 0),
        (DEFAULT_MAX_DELETES, 0, 0),
        (DEFAULT_MAX_DELETES, 100, 5),
        (DEFAULT_MAX_DELETES, 200, 10),
        (DEFAULT_MAX_DELETES, 219, 10),
        (DEFAULT_MAX_DELETES, 100_000, 10),
    ],
)
def test_a_limit_allows_at_most_its_count_and_its_share_rounded_down(
    limit: MaxDeletes, total: int, allowed: int
) -> None:
    assert limit.limit(total) == allowed


@pytest.mark.parametrize(
    ("limit", "text"),
    [
        (MaxDeletes(count=5), "5"),
        (MaxDeletes(percent=Decimal("2.50")), "2.5%"),
        (MaxDeletes(percent=Decimal(100)), "100%"),
        (DEFAULT_MAX_DELETES, "10 or 5%, whichever is lower"),
    ],
)
def test_a_limit_reads_as_written(limit: MaxDeletes, text: str) -> None:
    assert str(limit) == text


@pytest.mark.parametrize(
    "arguments", [{}, {"count": -1}, {"percent": Decimal(101)}, {"percent": Decimal(-1)}]
)
def test_an_impossible_limit_cannot_be_made(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MaxDeletes(**arguments)  # type: ignore[arg-type]


def test_the_source_formats_are_the_adapters() -> None:
    assert format_names() == ["csv", "vcard", "xlsx"]  # as the messages above list them
