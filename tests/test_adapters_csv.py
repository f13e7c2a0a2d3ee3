"""CSV adapter: encodings, delimiters, quoting, ragged rows, header detection, streaming."""

from __future__ import annotations

import csv
import io
import tempfile
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

import pytest
from adapter_contract import AdapterContract, Person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import open_source
from adapters.base import clean_name
from connector.delimited import sniff_delimiter
from connector.errors import ConfigError, SourceError, UnsupportedFormat
from connector.phonetext import not_a_phone_reason


def write_csv(
    path: Path,
    rows: Sequence[Sequence[str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    bom: bytes = b"",
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(bom + buffer.getvalue().encode(encoding))
    return path


def read(path: Path, **options: object) -> list:
    return list(open_source(path, **options).records())  # type: ignore[arg-type]


class TestCsvContract(AdapterContract):
    format_name = "csv"
    suffix = ".csv"

    def write(self, path: Path, people: Sequence[Person]) -> None:
        rows = [["ID", "Name", "Mobile", "Work", "Home"]]
        rows += [[p.key, p.name, *p.phones, *[""] * (3 - len(p.phones))] for p in people]
        write_csv(path, rows)


# --- encodings ---------------------------------------------------------------------------

PEOPLE_ROWS = [["Name", "Phone"], ["Zoë Ní Bhriain", "07700 900123"], ["Renée Müller", "0161 4960"]]


@pytest.mark.parametrize(
    ("encoding", "bom", "described"),
    [
        ("utf-8", b"", "UTF-8"),
        ("utf-8", b"\xef\xbb\xbf", "UTF-8 with BOM"),
        ("utf-16-le", b"\xff\xfe", "UTF-16"),
        ("utf-16-be", b"\xfe\xff", "UTF-16"),
        ("cp1252", b"", "Windows-1252"),
    ],
)
def test_encoding_is_detected(tmp_path: Path, encoding: str, bom: bytes, described: str) -> None:
    path = write_csv(tmp_path / "c.csv", PEOPLE_ROWS, encoding=encoding, bom=bom)
    source = open_source(path)
    assert [r.name for r in source.records()] == ["Zoë Ní Bhriain", "Renée Müller"]
    assert f"read as {described}," in source.messages[0]


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path: Path) -> None:
    rows = [["Full Name", "Phone 1", "Phone 2"], ["Łukasz Nowak", "07700 900251", "0161 496 0251"]]
    path = write_csv(tmp_path / "export.txt", rows, encoding="utf-16-le", delimiter="\t")
    path.write_bytes(b"\xff\xfe" + path.read_bytes())
    (record,) = read(path)
    assert record.name == "Łukasz Nowak"
    assert [p.value for p in record.phones] == ["07700 900251", "0161 496 0251"]


def test_utf16_without_a_bom_is_recognised(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", PEOPLE_ROWS, encoding="utf-16-le")
    assert [r.name for r in read(path)] == ["Zoë Ní Bhriain", "Renée Müller"]


def test_an_encoding_can_be_forced(tmp_path: Path) -> None:
    # "Ã©" in Windows-1252 is also valid UTF-8; only the user can say which was meant.
    path = write_csv(
        tmp_path / "c.csv", [["Name", "Phone"], ["CafÃ© Owner", "0161 496 0000"]], encoding="cp1252"
    )
    assert read(path)[0].name == "Café Owner"
    assert read(path, encoding="cp1252")[0].name == "CafÃ© Owner"


def test_an_unknown_encoding_is_a_config_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", PEOPLE_ROWS)
    with pytest.raises(ConfigError, match="unknown text encoding 'klingon'"):
        open_source(path, encoding="klingon")


def test_stray_windows_1252_bytes_deep_in_a_utf8_file_are_repaired(tmp_path: Path) -> None:
    rows = [["Name", "Phone"]] + [[f"Person {i}", f"07700 9{i:05d}"] for i in range(4000)]
    path = write_csv(tmp_path / "c.csv", rows)
    path.write_bytes(path.read_bytes() + "Renée Fontaine,020 7946 0241\r\n".encode("cp1252"))
    last = read(path)[-1]
    assert last.name == "Renée Fontaine"
    assert "read as Windows-1252" in " ".join(last.notes)


def test_a_forced_encoding_that_does_not_fit_is_an_error_with_a_line(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "c.csv", [["Name", "Phone"], ["Renée", "0161 496 0000"]], encoding="cp1252"
    )
    with pytest.raises(SourceError, match=r"c\.csv:\d+: not valid utf-8"):
        read(path, encoding="utf-8")


# --- delimiters and quoting -----------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [["Name", "Mobile", "Work"], ["Smith, John; Jr | Esq", "07700 900001", "0161 496 0001"]]
    path = write_csv(tmp_path / "c.csv", rows, delimiter=delimiter)
    (record,) = read(path)
    assert record.name == "Smith, John; Jr | Esq"
    assert [p.value for p in record.phones] == ["07700 900001", "0161 496 0001"]


def test_semicolons_win_over_commas_inside_names() -> None:
    sample = "Name;Phone\nMüller, Hans;030 1234567\nSmith, Jo;0161 496 0000\n"
    assert sniff_delimiter(sample) == (False, ";")


def test_excel_sep_line_settles_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("sep=;\nName;Phone\nAmelia Hartley;07700 900101\n", encoding="utf-8")
    (record,) = read(path)
    assert record.name == "Amelia Hartley"
    assert record.location == "c.csv:3"


def test_quoted_fields_may_hold_newlines_and_lines_stay_counted(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        'Name,Phone,Notes\nAmelia Hartley,07700 900101,"line one\nline two\nline three"\n'
        "Ben Carter,07700 900102,\n",
        encoding="utf-8",
    )
    records = read(path)
    assert [r.location for r in records] == ["c.csv:2", "c.csv:5"]
    assert all(r.ok for r in records)


def test_excel_text_formula_cells_keep_their_leading_zero(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('Name,Phone\nAmelia Hartley,="07700900101"\n', encoding="utf-8")
    assert read(path)[0].phones[0].value == "07700900101"


def test_numbers_in_scientific_notation_are_refused_with_a_reason(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["Name", "Phone"], ["Amelia", "7.7009E+09"]])
    (record,) = read(path)
    assert record.problems == ("no phone number",)
    assert "scientific notation" in record.notes[0]


def test_numbers_that_passed_through_a_float_lose_their_dot_zero(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["Name", "Phone"], ["Amelia", "7852902011.0"]])
    (record,) = read(path)
    assert record.phones[0].value == "7852902011"
    assert "read 7852902011.0 as 7852902011" in record.notes[0]


# --- rows ---------------------------------------------------------------------------------------


def test_ragged_rows_are_rejected_with_their_line_and_the_rest_go_on(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "Name,Mobile,Work\n"
        "Amelia Hartley,07700 900101,0113 496 0101\n"
        "Hartley, Amelia,07700 900101,0113 496 0101\n"
        "Ben Carter,07700 900102\n"
        "Chloe Bennett,07700 900103,\n",
        encoding="utf-8",
    )
    records = read(path)
    assert [(r.location, r.problems) for r in records] == [
        ("c.csv:2", ()),
        ("c.csv:3", ("row has 4 fields, header has 3",)),
        ("c.csv:4", ("row has 2 fields, header has 3",)),
        ("c.csv:5", ()),
    ]


def test_trailing_empty_fields_are_not_ragged(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("Name,Phone,,\nAmelia Hartley,07700 900101,,,,\nBen,07700 900102\n")
    assert [r.problems for r in read(path)] == [(), ()]


def test_an_unclosed_quote_is_reported_where_it_starts(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        'Name,Phone\nAmelia Hartley,07700 900101\n"Ben Carter,07700 900102\nChloe,07700 900103\n'
    )
    records = read(path)
    assert records[0].ok
    assert records[1].location == "c.csv:3"
    assert "the row runs from line 3 to 4: is a quote left open?" in records[1].problems[0]


@pytest.mark.parametrize(
    ("text", "cut_short"),
    [
        # cut in the middle of the last row: the export stopped part way
        ("ID,Name,Phone\n1,Amelia,07700 900101\n2,Ben", "c.csv:3: the last row has 2 of 3"),
        # cut inside a quoted field, which runs to the end of the file
        ('ID,Name,Phone\n1,Amelia,07700 900101\n2,"Ben\n', "c.csv:3: the last row has 2 of 3"),
        # a short last row that ends its line: a row somebody left short, not a cut
        ("ID,Name,Phone\n1,Amelia,07700 900101\n2,Ben\n", None),
        # a whole last row without a line break, as many programs write
        ("ID,Name,Phone\n1,Amelia,07700 900101\n2,Ben,07700 900102", None),
        # a short row in the middle is a rejection, not a cut
        ("ID,Name,Phone\n1,Amelia\n2,Ben,07700 900102", None),
    ],
)
def test_a_file_cut_off_part_way_through_a_row_says_so(
    tmp_path: Path, text: str, cut_short: str | None
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    source = open_source(path)
    records = list(source.records())
    assert len(records) == 2
    if cut_short is None:
        assert source.cut_short is None
    else:
        assert source.cut_short is not None and source.cut_short.startswith(cut_short)
        assert not records[-1].ok


def test_a_utf16_file_cut_off_in_a_row_says_so(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("ID\tName\tPhone\r\n1\tAmelia\t07700 900101\r\n2\tBen".encode("utf-16"))
    source = open_source(path)
    list(source.records())
    assert source.cut_short is not None
    whole = tmp_path / "w.csv"
    whole.write_bytes("ID\tName\tPhone\r\n1\tAmelia\r\n".encode("utf-16"))
    source = open_source(whole)
    list(source.records())
    assert source.cut_short is None


def test_blank_lines_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("\n\nName,Phone\n\nAmelia Hartley,07700 900101\n,\n  ,  \n\nBen,07700 900102\n")
    assert [r.location for r in read(path)] == ["c.csv:5", "c.csv:9"]


def test_duplicate_keys_are_rejected_after_the_first(tmp_path: Path) -> None:
    rows = [["ID", "Name", "Phone"], ["7", "Amelia", "07700 900101"], ["7", "Ben", "07700 900102"]]
    records = read(write_csv(tmp_path / "c.csv", rows))
    assert records[0].ok
    assert records[1].problems == ("duplicate key '7' (first used at c.csv:2)",)


def test_rows_without_a_key_value_are_keyed_by_row(tmp_path: Path) -> None:
    rows = [["ID", "Name", "Phone"], ["", "Amelia", "07700 900101"]]
    (record,) = read(write_csv(tmp_path / "c.csv", rows))
    assert record.key == "row:2"
    assert record.ok


# --- header --------------------------------------------------------------------------------------


def test_a_title_above_the_header_is_skipped(tmp_path: Path) -> None:
    rows = [
        ["Staff phone list"],
        ["March 2024"],
        [],
        ["Name", "Mobile"],
        ["Amelia", "07700 900101"],
    ]
    source = open_source(write_csv(tmp_path / "c.csv", rows))
    assert "header on line 4" in source.messages[0]
    assert [r.location for r in source.records()] == ["c.csv:5"]


def test_the_header_row_can_be_given(tmp_path: Path) -> None:
    rows = [["Name", "Phone"], ["Contact", "Tel"], ["Amelia", "07700 900101"]]
    records = read(write_csv(tmp_path / "c.csv", rows), header_row=2)
    assert [r.name for r in records] == ["Amelia"]


def test_a_header_row_that_is_blank_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["Name", "Phone"], [], ["Amelia", "07700 900101"]])
    with pytest.raises(SourceError, match="row 2 is empty"):
        open_source(path, header_row=2)


def test_unrecognisable_columns_are_an_error_with_file_and_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["Foo", "Bar"], ["a", "b"]])
    with pytest.raises(SourceError) as caught:
        open_source(path)
    assert str(caught.value).startswith(f"{path}:1: cannot tell which columns")
    assert "--mapping" in str(caught.value)


def test_the_choice_of_columns_is_reported(tmp_path: Path) -> None:
    rows = [["Name", "Mobile", "Work", "Fax"], ["Amelia", "07700 900101", "", "0161 496 0999"]]
    messages = open_source(write_csv(tmp_path / "c.csv", rows)).messages
    assert messages[1:] == [
        "c.csv: no mapping given; using columns Name -> name; Mobile, Work -> phones",
        "c.csv: not importing fax/pager columns: Fax",
    ]


def test_a_header_only_file_has_no_records(tmp_path: Path) -> None:
    assert read(write_csv(tmp_path / "c.csv", [["Name", "Phone"]])) == []


# --- bad input ----------------------------------------------------------------------------------


def test_whitespace_only_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbf  \r\n\r\n")
    with pytest.raises(SourceError, match=r"c\.csv: the file is empty"):
        open_source(path)


def test_binary_junk_with_a_csv_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(200)))
    with pytest.raises(UnsupportedFormat, match="binary data"):
        open_source(path)


def test_sheet_option_is_refused_for_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", PEOPLE_ROWS)
    with pytest.raises(ConfigError, match="--sheet applies to Excel"):
        open_source(path, sheet=1)


# --- streaming -------------------------------------------------------------------------------


def test_a_large_file_is_streamed_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Mobile", "Notes"])
        for i in range(10_000):
            writer.writerow([f"Person {i}", f"07700 9{i:05d}", "x" * 300])
    assert path.stat().st_size > 3_000_000
    source = open_source(path)
    tracemalloc.start()
    count = sum(1 for _ in source.records())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 10_000
    assert peak < 1_000_000, f"peak {peak} bytes while reading a {path.stat().st_size} byte file"


# --- property: what csv.writer writes comes back unchanged ---------------------------------

NAME_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn"), blacklist_characters="\x00"),
    max_size=30,
)
# Windows-1252 cannot be told from UTF-8 by every byte sequence ("Ã©" is both, and so is
# "ÉŒ": a letter from À to ß then one of Œ œ Š š Ž ž), so the cp1252 case draws names from
# letters that never pair up like that.
CP1252_NAME_TEXT = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ÀÉÎÕÜàçéèëïñöøüÿß'-"),
    max_size=30,
)
# Written like a phone number, and not like a date or an amount (``01-1-00``), which the
# reader rightly refuses (a guessed column of those is left out).
PHONE_TEXT = st.from_regex(r"\+?[0-9][0-9 ()\-]{5,16}[0-9]", fullmatch=True).filter(
    lambda text: not_a_phone_reason(text) is None
)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, str, list[tuple[str, list[str]]]]:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    names = CP1252_NAME_TEXT if encoding == "cp1252" else NAME_TEXT
    rows = draw(
        st.lists(st.tuples(names, st.lists(PHONE_TEXT, min_size=1, max_size=3)), min_size=1)
    )
    return encoding, draw(st.sampled_from([",", ";", "\t", "|"])), rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files())
def test_what_csv_writer_writes_reads_back_unchanged(
    case: tuple[str, str, list[tuple[str, list[str]]]],
) -> None:
    encoding, delimiter, rows = case
    table = [["Name", "Phone 1", "Phone 2", "Phone 3"]]
    table += [[name, *phones, *[""] * (3 - len(phones))] for name, phones in rows]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "contacts.csv"
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter).writerows(table)
        path.write_bytes(buffer.getvalue().encode(encoding))
        records = list(open_source(path).records())
    assert [r.name for r in records] == [clean_name(name) for name, _ in rows]
    assert [[p.value for p in r.phones] for r in records] == [phones for _, phones in rows]
