"""Spreadsheet formulas in the CSVs the tool writes: defused on the way out, and the
``sipalto`` preset reads its own export back exactly."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.base import clean_name
from adapters.csvfile import CsvSource
from connector.formulas import FORMULA_PREFIXES, escape_formula, unescape_formula
from connector.model import Contact
from connector.ui.contacts_view import write_contacts

HOSTILE = [
    {"id": "40001", "name": '=HYPERLINK("http://evil.test","click")', "phone1": "01632960001",
     "phone2": "", "phone3": ""},
    {"id": "40002", "name": "+SUM(1,2)", "phone1": "+44 1632 960002", "phone2": "07700900002",
     "phone3": ""},
    {"id": "40003", "name": "-2+3+cmd|' /C calc'!A0", "phone1": "07700900003", "phone2": "",
     "phone3": ""},
    {"id": "40004", "name": "@SUM(1)", "phone1": "07700900004", "phone2": "", "phone3": ""},
    {"id": "40005", "name": "'=already quoted", "phone1": "07700900005", "phone2": "",
     "phone3": ""},
    {"id": "40006", "name": "'t Hooft", "phone1": "07700900006", "phone2": "", "phone3": ""},
    {"id": "40007", "name": "Ordinary Person", "phone1": "+44 (0)20 7946 0007", "phone2": "",
     "phone3": ""},
]  # fmt: skip


# -- the rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(1,2)", "'+SUM(1,2)"),
        ("-Bob", "'-Bob"),
        ("@home", "'@home"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"),
        ("\uff1dSUM(1)", "'\uff1dSUM(1)"),  # full-width equals sign
        ("'=x", "''=x"),
        ("''@x", "'''@x"),
        ("'+44 1632 960001", "''+44 1632 960001"),
        ("+44 1632 960001", "+44 1632 960001"),
        ("+447700900001", "+447700900001"),
        ("+1 (555) 010-9999", "+1 (555) 010-9999"),
        ("+44 1632 CALL", "'+44 1632 CALL"),  # letters: not a phone number
        ("+", "'+"),
        ("'t Hooft", "'t Hooft"),
        ("Bob = Alice", "Bob = Alice"),
        ("07700 900001", "07700 900001"),
        ("", ""),
    ],
)
def test_formula_like_cells_get_one_apostrophe_and_phone_numbers_none(
    value: str, written: str
) -> None:
    assert escape_formula(value) == written
    assert unescape_formula(written) == value


def test_a_number_protected_by_hand_in_a_spreadsheet_reads_as_the_number() -> None:
    assert unescape_formula("'+44 1632 960001") == "+44 1632 960001"


@given(st.text())
@example("'")
@example("'+1")
@example("''=")
def test_unescape_undoes_escape_for_any_text(value: str) -> None:
    assert unescape_formula(escape_formula(value)) == value


@given(st.text())
def test_nothing_written_starts_a_formula_but_a_phone_number(value: str) -> None:
    written = escape_formula(value)
    if written.startswith(FORMULA_PREFIXES):
        assert written.startswith("+") and not any(c.isalpha() for c in written)
        assert set(written) <= set("+0123456789 ()./-")


# -- the writers -------------------------------------------------------------------------------


def contacts_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    write_contacts([Contact.from_dict(row) for row in rows], "csv", out)
    return out.getvalue()


def test_contacts_csv_defuses_names_but_keeps_phone_numbers_readable() -> None:
    rows = list(csv.DictReader(io.StringIO(contacts_csv(HOSTILE))))
    assert [row["name"] for row in rows] == [
        '\'=HYPERLINK("http://evil.test","click")',
        "'+SUM(1,2)",
        "'-2+3+cmd|' /C calc'!A0",
        "'@SUM(1)",
        "''=already quoted",
        "'t Hooft",
        "Ordinary Person",
    ]
    assert rows[1]["phone1"] == "+44 1632 960002"
    assert rows[6]["phone1"] == "+44 (0)20 7946 0007"


def read_back(text: str, tmp_path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8", newline="")
    source = CsvSource(path)
    assert "recognised preset sipalto" in " ".join(source.messages)
    return [(r.key, r.name, tuple(p.value for p in r.phones)) for r in source.records()]


def test_the_sipalto_preset_reads_the_export_back_exactly(tmp_path: Path) -> None:
    assert read_back(contacts_csv(HOSTILE), tmp_path) == [
        (c["id"], c["name"], tuple(c[k] for k in ("phone1", "phone2", "phone3") if c[k]))
        for c in HOSTILE
    ]


def test_other_sources_keep_their_apostrophes(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("Name,Phone\n'=not ours,07700900001\n", encoding="utf-8")
    assert [r.name for r in CsvSource(path).records()] == ["'=not ours"]


# Names as the phonebook holds them after any import: trimmed, single-spaced, no
# invisible characters (every source tidies names this way, so other names change on
# import whatever the CSV does), and no control characters (a file holding those is
# refused as binary by every text reader).
tidy_names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1).filter(
    lambda name: clean_name(name) == name
)


@settings(max_examples=300, deadline=None)
@given(name=tidy_names)
@example(name='=HYPERLINK("x")')
@example(name="'=x")
@example(name="''+1")
@example(name="+44 1632 960001")
@example(name='"; =1')
def test_any_name_survives_export_then_import_unchanged(name: str, tmp_path_factory) -> None:
    tmp_path = tmp_path_factory.mktemp("roundtrip")
    row = {"id": "30001", "name": name, "phone1": "07700900001", "phone2": "", "phone3": ""}
    assert read_back(contacts_csv([row]), tmp_path) == [("30001", name, ("07700900001",))]


# -- end to end against the sandbox -----------------------------------------------------------


def test_export_then_plan_against_the_same_phonebook_changes_nothing(
    run_cli, sandbox_factory, tmp_path: Path
) -> None:
    server = sandbox_factory(HOSTILE)
    export = tmp_path / "book.csv"
    listed = run_cli("contacts", "list", "--format", "csv", "-o", str(export), server=server)
    assert listed.exit_code == 0, listed.output
    text = export.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and '\n40002,"\'+SUM(1,2)",+44 1632 960002,' in text
    planned = run_cli("plan", str(export), "--detailed-exitcode", server=server)
    assert planned.exit_code == 0, planned.output
    assert "No changes. The phonebook already matches the source." in planned.stdout
    assert "Also: 7 unchanged" in planned.stdout


def test_calls_csv_defuses_a_callers_name(run_cli, sandbox_factory) -> None:
    book = [{"id": "30001", "name": "=HYPERLINK(\"http://evil.test\")", "phone1": "07086202666",
             "phone2": "", "phone3": ""}]  # fmt: skip
    server = sandbox_factory(book)
    result = run_cli(
        "calls", "list", "-n", "1009", "--start", "2025-10-08 13:30", "--end",
        "2025-10-08 13:50", "--format", "csv", server=server,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["caller_name"] == '\'=HYPERLINK("http://evil.test")'
    assert rows[0]["caller"] == "07086202666"


def test_plan_csv_preview_defuses_names_and_leaves_numbers(run_cli, tmp_path: Path) -> None:
    source = tmp_path / "source.csv"
    source.write_text("Name,Phone\n@Reception,+353 1 234 5678\n", encoding="utf-8")
    result = run_cli("plan", str(source), "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    added = [row for row in rows if row["action"] == "add"]
    assert added[0]["name_after"] == "'@Reception"
    assert added[0]["phone1_after"] == "+35312345678"
