"""``sipalto-sync plan`` end to end against the sandbox: previews, plan files, decisions."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from connector.sandbox import default_seed

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
SOURCE = str(SAMPLES / "contacts.csv")


def test_text_preview_of_the_sample_shows_each_kind_and_the_summary(run_cli, sandbox_factory):
    server = sandbox_factory(default_seed())
    result = run_cli("plan", SOURCE, server=server)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "  ~ update 30003 Rajesh Patel  (contacts.csv:4)" in out
    assert '      + phone3: "01614960803"' in out
    assert "  + add Megan Price  (contacts.csv:12)" in out
    assert "  ? review Siobhan Murphy" in out
    assert "  ! rejected contacts.csv:17 Emily Dawson: no phone number" in out
    assert "Plan: 14 to add, 4 to update, 0 to delete, 1 to review, 2 rejected." in out
    assert "Chidi Okafor" not in out  # "Okafor, Chidi" in the phonebook: the same name
    assert "\x1b[" not in out  # no colour when piped
    assert "no mapping given; using columns" in result.stderr
    assert server.state.snapshot() == default_seed()  # a dry run writes nothing


def test_detailed_exitcode_is_2_with_changes_and_0_without(run_cli, sandbox_factory, tmp_path):
    server = sandbox_factory(default_seed())
    home = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    plan_file = tmp_path / "plan.json"
    first = run_cli("plan", SOURCE, "--detailed-exitcode", "--out", str(plan_file), server=server)
    assert first.exit_code == 2
    assert run_cli("apply", str(plan_file), "--yes", server=server, env=home).exit_code == 0
    again = run_cli("plan", SOURCE, "--detailed-exitcode", server=server)
    assert again.exit_code == 0, again.stdout
    assert "Nothing to apply; 1 record needs review, 2 rejected." in again.stdout.splitlines()


def test_reviews_pending_are_not_changes_and_not_no_changes(run_cli, sandbox_factory, tmp_path):
    book = [{"id": "30001", "name": "John Smith", "phone1": "01491833000", "phone2": "",
             "phone3": ""}]  # fmt: skip
    server = sandbox_factory(book)
    source = tmp_path / "c.csv"
    source.write_text("Name,Phone\nJane Smith,01491 833000\nJohn Smith,07700 900001\n",
                      encoding="utf-8")  # fmt: skip
    result = run_cli("plan", str(source), "--detailed-exitcode", server=server)
    assert result.exit_code == 0, result.output  # 2 means changes to apply; reviews are not
    lines = result.stdout.splitlines()
    assert "Nothing to apply; 2 records need review." in lines
    assert "Plan: 0 to add, 0 to update, 0 to delete, 2 to review, 0 rejected." in lines
    assert not any("No changes" in line for line in lines)


def test_plan_file_is_the_documented_json(run_cli, sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(default_seed())
    plan_file = tmp_path / "plan.json"
    run_cli("plan", SOURCE, "--out", str(plan_file), server=server)
    data = json.loads(plan_file.read_text(encoding="utf-8"))
    assert data["version"] == 1 and data["server"] == server.url
    assert data["base"].startswith("sha256:")
    assert data["summary"]["add"] == 14
    assert data["settings"]["phones"] == "merge"
    review = next(i for i in data["items"] if i["action"] == "review")
    assert review["candidates"][0]["id"] == "30004"
    for item in data["items"]:
        assert set(item) >= {"action", "id", "before", "after", "source", "reason", "score",
                             "warnings"}  # fmt: skip


def test_json_format_prints_the_plan(run_cli, sandbox_factory) -> None:
    server = sandbox_factory(default_seed())
    data = json.loads(run_cli("plan", SOURCE, "--format", "json", server=server).stdout)
    assert data["summary"]["update"] == 4
    assert data["settings"]["names"] == "phonebook"


def test_a_name_in_another_form_is_not_written_unless_names_source(
    run_cli, sandbox_factory, tmp_path
):
    book = [{"id": "30001", "name": "Amelia Hartley", "phone1": "07700900001",
             "phone2": "01632960002", "phone3": ""}]  # fmt: skip
    server = sandbox_factory(book)
    source = tmp_path / "c.csv"
    source.write_text('Name,Mobile,Work\n"Hartley, Amelia",01632 960002,07700 900001\n',
                      encoding="utf-8")  # fmt: skip
    home = {"SIPALTO_SYNC_HOME": str(tmp_path / "home")}
    kept = run_cli("plan", str(source), "--detailed-exitcode", server=server)
    assert kept.exit_code == 0, kept.output
    assert "Plan: 0 to add, 0 to update, 0 to delete, 0 to review, 0 rejected." in kept.stdout
    plan_file = tmp_path / "plan.json"
    renamed = run_cli("plan", str(source), "--names", "source", "--detailed-exitcode", "--out",
                      str(plan_file), server=server)  # fmt: skip
    assert renamed.exit_code == 2, renamed.output
    lines = renamed.stdout.splitlines()
    assert '      ~ name:   "Amelia Hartley" -> "Hartley, Amelia"' in lines
    assert not any("phone" in line for line in lines)  # the numbers stay in their slots
    assert json.loads(plan_file.read_text(encoding="utf-8"))["settings"]["names"] == "source"
    assert run_cli("apply", str(plan_file), "--yes", server=server, env=home).exit_code == 0
    assert server.state.snapshot() == [{**book[0], "name": "Hartley, Amelia"}]


def test_csv_review_round_trip_resolves_a_review(run_cli, sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(default_seed())
    preview = run_cli("plan", SOURCE, "--format", "csv", server=server).stdout
    rows = list(csv.DictReader(io.StringIO(preview)))
    assert rows[0].keys() >= {"action", "source_key", "decision"}
    for row in rows:
        if row["action"] == "review":
            row["decision"] = "match 30004"
    filled = tmp_path / "review.csv"
    with filled.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = run_cli("plan", SOURCE, "--decisions", str(filled), "--format", "json", server=server)
    data = json.loads(result.stdout)
    assert data["summary"]["review"] == 0
    siobhan = next(i for i in data["items"] if i["id"] == "30004")
    assert siobhan["action"] == "update"
    assert "07700900904" in siobhan["after"].values()


def test_yaml_decisions_add_and_skip(run_cli, sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(default_seed())
    data = json.loads(run_cli("plan", SOURCE, "--format", "json", server=server).stdout)
    review_key = next(i["source"]["key"] for i in data["items"] if i["action"] == "review")
    add_key = next(i["source"]["key"] for i in data["items"] if i["action"] == "add")
    decisions = tmp_path / "decisions.yaml"
    decisions.write_text(f'"{review_key}": add\n"{add_key}": skip\n', encoding="utf-8")
    result = run_cli("plan", SOURCE, "--decisions", str(decisions), "--format", "json",
                     server=server)  # fmt: skip
    summary = json.loads(result.stdout)["summary"]
    assert (summary["review"], summary["skip"], summary["add"]) == (0, 1, 14)


def test_replace_policy_drops_numbers_the_source_lacks(run_cli, sandbox_factory, tmp_path):
    book = [{"id": "30001", "name": "Ann Lee", "phone1": "07700900001",
             "phone2": "01632960001", "phone3": ""}]  # fmt: skip
    server = sandbox_factory(book)
    source = tmp_path / "c.csv"
    source.write_text("Name,Mobile\nAnn Lee,07700 900001\n", encoding="utf-8")
    merged = json.loads(run_cli("plan", str(source), "--format", "json", server=server).stdout)
    assert merged["items"][0]["action"] == "unchanged"
    replaced = json.loads(
        run_cli(
            "plan", str(source), "--format", "json", "--phones", "replace", server=server
        ).stdout
    )
    item = replaced["items"][0]
    assert item["action"] == "update"
    assert item["after"] == {"name": "Ann Lee", "phone1": "07700900001", "phone2": "",
                             "phone3": ""}  # fmt: skip


def test_unknown_region_is_one_line(run_cli, sandbox_factory) -> None:
    result = run_cli("plan", SOURCE, "--region", "XX")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown region 'XX'")


def test_a_bad_source_fails_before_the_network(run_cli, sandbox, tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    result = run_cli("plan", str(empty))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {empty}")
    assert sandbox.state.requests == []


def test_every_sample_plans_without_error(run_cli, sandbox_factory) -> None:
    server = sandbox_factory(default_seed())
    for sample in ("contacts.xlsx", "google-contacts.csv", "outlook-contacts.csv",
                   "android-contacts.vcf", "iphone-contacts.vcf", "contacts-unicode.txt",
                   "contacts-windows1252.csv", "sipalto-export.csv"):  # fmt: skip
        result = run_cli("plan", str(SAMPLES / sample), server=server)
        assert result.exit_code == 0, (sample, result.output)
        assert "Plan: " in result.stdout


def test_source_format_reads_a_misnamed_source(run_cli, tmp_path) -> None:
    source = tmp_path / "ann.vcf"
    source.write_text("Name,Mobile\nAnn Lee,07700 900001\n", encoding="utf-8")
    result = run_cli("plan", str(source), "--source-format", "csv")
    assert result.exit_code == 0, result.output
    assert "  + add Ann Lee  (ann.vcf:2)" in result.stdout.splitlines()


def test_output_is_where_the_preview_goes_and_out_the_plan_file(run_cli, sandbox_factory, tmp_path):
    server = sandbox_factory(default_seed())
    preview, plan_file = tmp_path / "review.csv", tmp_path / "plan.json"
    result = run_cli("plan", SOURCE, "--format", "csv", "-o", str(preview), "--out",
                     str(plan_file), server=server)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    rows = list(csv.DictReader(preview.open(encoding="utf-8", newline="")))
    assert sum(1 for row in rows if row["action"] == "add") == 14
    assert json.loads(plan_file.read_text(encoding="utf-8"))["summary"]["add"] == 14
    dash = run_cli("plan", SOURCE, "--format", "csv", "-o", "-", server=server)
    assert dash.stdout == preview.read_text(encoding="utf-8")


def test_merge_names_the_dropped_number_on_the_items_line(run_cli, sandbox_factory, tmp_path):
    book = [{"id": "30001", "name": "Ann Lee", "phone1": "07700900001",
             "phone2": "01632960001", "phone3": ""}]  # fmt: skip
    server = sandbox_factory(book)
    source = tmp_path / "c.csv"
    source.write_text("Name,Mobile,Work,Home\nAnn Lee,07700 900001,0161 496 0000,0113 496 0000\n",
                      encoding="utf-8")  # fmt: skip
    result = run_cli("plan", str(source), server=server)
    assert result.exit_code == 0, result.output
    assert (
        "  ~ update 30001 Ann Lee  (c.csv:2)"
        "  drops phonebook number 01632960001: no free slot (Sipalto holds 3)"
    ) in result.stdout.splitlines()


STAGES = ("read source", "read phonebook", "normalise source", "find repeats",
          "normalise phonebook", "match", "build plan", "preview", "write plan file")  # fmt: skip


def _plan_process(server, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``sipalto-sync -q plan SAMPLE --out plan.json`` in a process of its own (the stage
    timings are logged, and a process's logging is set up once)."""
    environment = {**os.environ, "SIPALTO_BASE_URL": server.url, "SIPALTO_USERNAME": "demo",
                   "SIPALTO_PASSWORD": "demo", "NO_COLOR": "1", **env}  # fmt: skip
    command = [sys.executable, "-m", "connector", "-q", "plan", SOURCE,
               "--out", str(tmp_path / "plan.json")]  # fmt: skip
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)


def test_timings_variable_prints_each_stage_on_stderr(sandbox_factory, tmp_path) -> None:
    server = sandbox_factory(default_seed())
    timed = _plan_process(server, tmp_path, SIPALTO_SYNC_TIMINGS="1")
    assert timed.returncode == 0, timed.stderr
    found = re.findall(r"^DEBUG sipalto_sync\.timings: stage (.+): [\d.]+ s, peak RSS \d+ MB$",
                       timed.stderr, re.MULTILINE)  # fmt: skip
    assert found == list(STAGES)
    plain = _plan_process(server, tmp_path)
    assert plain.returncode == 0 and plain.stderr == ""  # -q: nothing but errors
