"""``inspect``, ``mappings`` and bad input through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.mark.parametrize(
    ("sample", "records", "rejected"),
    [
        ("contacts.csv", 26, 2),
        ("contacts-windows1252.csv", 5, 0),
        ("contacts-unicode.txt", 5, 1),
        ("contacts.xlsx", 9, 1),
        ("google-contacts.csv", 10, 1),
        ("outlook-contacts.csv", 6, 1),
        ("sipalto-export.csv", 5, 0),
        ("android-contacts.vcf", 6, 1),
        ("iphone-contacts.vcf", 4, 0),
    ],
)
def test_every_sample_reads_through_the_cli(run_cli, sample, records, rejected) -> None:
    result = run_cli("inspect", str(SAMPLES / sample), "--format", "json")
    rows = json.loads(result.stdout)
    assert len(rows) == records
    assert sum(1 for r in rows if r["problems"]) == rejected
    assert result.exit_code == (1 if rejected else 0)


def test_presets_are_recognised_and_said(run_cli) -> None:
    result = run_cli("inspect", str(SAMPLES / "google-contacts.csv"))
    assert "recognised preset google-contacts" in result.stderr


def test_excel_numbers_come_back_as_exact_digit_strings(run_cli) -> None:
    rows = json.loads(run_cli("inspect", str(SAMPLES / "contacts.xlsx"), "--format", "json").stdout)
    values = [p["value"] for r in rows for p in r["phones"]]
    assert not any(v.endswith(".0") for v in values)
    assert "1134960121" in values  # the lost leading zero is the reconciler's to restore


def test_custom_mapping_file_reads_the_crm_export(run_cli) -> None:
    result = run_cli(
        "inspect", str(SAMPLES / "crm-export.csv"),
        "--mapping", str(SAMPLES / "crm-mapping.yaml"), "--format", "json",
    )  # fmt: skip
    rows = json.loads(result.stdout)
    assert rows and all(r["key"] for r in rows)


def test_no_mapping_for_unknown_headers_is_one_clear_line(run_cli) -> None:
    result = run_cli("inspect", str(SAMPLES / "crm-export.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {SAMPLES / 'crm-export.csv'}:1: cannot tell which")
    assert "Traceback" not in result.output


def test_mapping_naming_a_missing_column_names_it(run_cli, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: Full Name\nphones: [Mobile, Fax Line]\n", encoding="utf-8")
    source = tmp_path / "c.csv"
    source.write_text("Full Name,Mobile\nAnn,07700900001\n", encoding="utf-8")
    result = run_cli("inspect", str(source), "--mapping", str(mapping))
    assert result.exit_code == 1
    assert "Fax Line" in result.stderr and "c.csv:1" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("junk.csv", bytes(range(256)) * 8, "binary"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, ".xlsx"),
    ],
)
def test_unreadable_files_give_one_line_and_exit_1(run_cli, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    result = run_cli("inspect", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {path}")
    assert message in result.stderr.lower() or message in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_is_one_line(run_cli, tmp_path: Path) -> None:
    result = run_cli("inspect", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "nope.csv" in result.stderr


def test_mappings_list_and_show(run_cli) -> None:
    listed = run_cli("mappings", "list").stdout
    for name in ("google-contacts", "outlook", "sipalto"):
        assert name in listed
    shown = run_cli("mappings", "show", "sipalto")
    assert shown.exit_code == 0 and "phone1" in shown.stdout


def test_mappings_show_unknown_is_an_error(run_cli) -> None:
    result = run_cli("mappings", "show", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")


def _ann(tmp_path: Path, name: str = "ann.vcf") -> Path:
    """A CSV of one contact under a name that says otherwise."""
    source = tmp_path / name
    source.write_text("Name,Mobile\nAnn Lee,07700 900001\n", encoding="utf-8")
    return source


def test_source_format_overrides_the_extension(run_cli, tmp_path: Path) -> None:
    source = _ann(tmp_path)
    misread = run_cli("inspect", str(source))
    assert misread.exit_code == 1
    assert (
        misread.stderr
        == f"Error: {source}: not a vCard file: no BEGIN:VCARD in the first 33 bytes\n"
    )
    result = run_cli("inspect", str(source), "--source-format", "csv")
    assert result.exit_code == 0
    assert [line.rstrip() for line in result.stdout.splitlines()] == [
        " location  | key   | name    | phones",
        "-----------+-------+---------+-----------------------",
        " ann.vcf:2 | row:2 | Ann Lee | 07700 900001 (Mobile)",
        "1 record, 1 usable, 0 rejected.",
    ]


def test_format_is_what_inspect_writes_and_output_where(run_cli, tmp_path: Path) -> None:
    source = _ann(tmp_path, "ann.csv")
    out = tmp_path / "records.json"
    result = run_cli("inspect", str(source), "--format", "json", "-o", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert [row["name"] for row in json.loads(out.read_text(encoding="utf-8"))] == ["Ann Lee"]
    dash = run_cli("inspect", str(source), "--format", "json", "--output", "-")
    assert dash.stdout == out.read_text(encoding="utf-8")


def test_the_old_meaning_of_inspect_format_is_refused(run_cli, tmp_path: Path) -> None:
    result = run_cli("inspect", str(_ann(tmp_path)), "--format", "vcard")
    assert result.exit_code == 1
    assert "Invalid value for '--format': 'vcard' is not one of 'table', 'json'." in result.stderr


def test_mappings_show_writes_a_preset_to_a_file_to_edit(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "my-mapping.yaml"
    result = run_cli("mappings", "show", "sipalto", "-o", str(out))
    assert (result.exit_code, result.stdout) == (0, "")
    assert out.read_text(encoding="utf-8") == run_cli("mappings", "show", "sipalto").stdout


def test_plan_warns_when_the_file_looks_cut_short(run_cli, tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    source.write_text("ID,Name,Phone\n1,Amelia,07700 900101\n2,Ben", encoding="utf-8")
    result = run_cli("plan", str(source))
    assert result.exit_code == 0, result.output
    assert (
        "Warning: c.csv:3: the last row has 2 of 3 fields and the file ends there: is the "
        "file cut short?"
    ) in result.stderr.splitlines()
    whole = tmp_path / "w.csv"
    whole.write_text("ID,Name,Phone\n1,Amelia,07700 900101\n", encoding="utf-8")
    assert "cut short" not in run_cli("plan", str(whole)).stderr
