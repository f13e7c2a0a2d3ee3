"""The fast paths of reading a table give the very records the rules give.

Most rows of a large file are plain: printable cells, a key, a name and phone values that
are each one number as written. ``RecordMaker.plain`` makes their records in one step,
and ``build_record`` skips its field-by-field rules for plain fields (``_is_plain``); both
must agree with the rules on every row, odd ones above all: control and invisible
characters, spreadsheet formulas, Excel's ``="..."`` text, fax labels, several numbers in
a cell, scientific notation, numbers that went through a float, overlong cells.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from adapters.base import MAX_FIELD_CHARS, _checked_record, build_record, is_plain_phone
from adapters.csvfile import CsvSource
from adapters.mapping import Mapping, PhoneColumn
from adapters.tabular import Layout, RecordMaker
from connector.model import KEY_SOURCE_ID, RawPhone

ODD_CELLS = [
    "07700 900123", "+44 7700 900123", "(01491) 833000", "+44 (0)1491 833000", "0161-496-0000",
    "020.7946.0123", "07700900123", "7700900123.0", "+7700900123.00", "7.7009E+09", "7,7E+09",
    "07700 900123 / 0161 496 0000", "07700 900123, 07700 900124", "07700 900123; 0161",
    "01491 833000 or 07852 902011", "07700 900123 & 07700 900124", "07700 900123 ::: 0161 4",
    "07700 900123\n07700 900124", "tel:+447700900123", "TEL:+44 7700", "0161 496 0000 ext 4",
    "07700 900123 (mobile)", "030/1234567", "+1 212 555 1234,,204", "£25.00", "12.5", "1e5",
    "=HYPERLINK(\"http://x\")", "+SUM(1)", "-cmd|' /C calc'!A0", "@SUM(1)", " =1", "+44",
    "-", "(", ")", "+(", "0", "٠١٢٣٤٥٦٧", "07700\x00900123", "0770\x7f0", "a\u200bb", "\ufeffBob",
    "Bob\u00adby", "Jane\u00a0Smith", "  Jane   Smith  ", "Zoë Ó'Brien", "Smith, John", "(Leeds)",
    "", " ", "\t", "\r\n", "fax", "x", "CRM-000001", "row:7", "0" * 1001, "J" * 1001,
]  # fmt: skip
CELLS = st.one_of(
    st.sampled_from(ODD_CELLS),
    st.text(max_size=12),
    st.lists(st.sampled_from(ODD_CELLS), min_size=2, max_size=3).map(" ".join),
)
LABELS = st.sampled_from(["Phone", "Mobile", "Work Fax", "pager", "HomeFAX", ""])


@given(
    key=CELLS,
    name=CELLS,
    phones=st.lists(st.builds(RawPhone, CELLS, LABELS, st.booleans()), max_size=4),
    notes=st.lists(st.sampled_from(["a note"]), max_size=1),
    problems=st.lists(st.sampled_from(["a problem"]), max_size=1),
    formulas_are_text=st.booleans(),
)
def test_build_record_gives_what_the_rules_give(
    key: str,
    name: str,
    phones: list[RawPhone],
    notes: list[str],
    problems: list[str],
    formulas_are_text: bool,
) -> None:
    fields = dict(key=key, location="c.csv:2", name=name, key_kind=KEY_SOURCE_ID)
    fields |= dict(notes=notes, problems=problems, formulas_are_text=formulas_are_text)
    assert build_record(phones=phones, **fields) == _checked_record(phones=phones, **fields)


@given(value=CELLS)
def test_a_plain_phone_value_is_kept_as_it_is_by_the_rules(value: str) -> None:
    if not is_plain_phone(value):
        return
    record = _checked_record(
        key="k", location="c.csv:2", name="Bob", phones=[RawPhone(value, "Phone")],
        notes=(), problems=(), formulas_are_text=False, key_kind=KEY_SOURCE_ID,
    )  # fmt: skip
    assert (record.phones, record.problems, record.notes) == ((RawPhone(value, "Phone"),), (), ())


HEADERS = ("ID", "Name", "Company", "Phone 1", "Mobile", "Fax", "Notes")
MAPPINGS = [
    Mapping("keyed", ("{Name}", "{Company}"), (PhoneColumn("Phone 1"), PhoneColumn("Mobile")),
            key="{ID}", key_is=KEY_SOURCE_ID),
    Mapping("unkeyed", ("{Name}",), (PhoneColumn("Phone 1", label="work"),
            PhoneColumn("Mobile", preferred=True))),
    Mapping("with a fax", ("{Name}",), (PhoneColumn("Phone 1"), PhoneColumn("Fax"))),
    Mapping("a template", ("{Name} ({Company})",), (PhoneColumn("Phone 1"),), key="{ID}"),
    Mapping("escaped", ("{Name}",), (PhoneColumn("Phone 1"),), key="{ID}",
            unescape_formulas=True),
]  # fmt: skip


def _maker(mapping: Mapping, plain: bool) -> RecordMaker:
    bound = mapping.bind(HEADERS, path="c.csv", line=1)
    maker = RecordMaker(Layout(1, HEADERS, bound, ()), location=lambda line: f"c.csv:{line}")
    if not plain:
        maker._plain = None  # the rules alone, as before the fast path
    return maker


@given(
    mapping=st.sampled_from(MAPPINGS),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=len(HEADERS) + 1), max_size=6),
    keys=st.lists(st.sampled_from(["CRM-1", "CRM-2", " CRM-1 ", ""]), min_size=6, max_size=6),
)
def test_a_table_row_is_the_record_the_rules_make(
    mapping: Mapping, rows: list[list[str]], keys: list[str]
) -> None:
    fast, ruled = _maker(mapping, plain=True), _maker(mapping, plain=False)
    for line, (cells, key) in enumerate(zip(rows, keys, strict=False), start=2):
        if cells and not cells[0].strip():
            cells = [key, *cells[1:]]  # keys that repeat, to be reported as duplicates
        assert fast.record(line, cells) == ruled.record(line, cells)
        plain = fast.plain(line + 1000, cells)
        assert plain is None or plain == ruled.record(line + 1000, cells)


def test_the_usual_row_takes_the_fast_path() -> None:
    maker = _maker(MAPPINGS[0], plain=True)
    cells = ["CRM-7", "  Jane   Smith ", "", "01491 833000", "+44 7700 900123 (mobile)", "", ""]
    record = maker.plain(7, cells)
    assert record is not None
    assert (record.key, record.location, record.name) == ("CRM-7", "c.csv:7", "Jane Smith")
    assert record.phones == (
        RawPhone("01491 833000", "Phone 1"),
        RawPhone("+44 7700 900123 (mobile)", "Mobile"),
    )
    assert maker.plain(8, [*cells[:3], "07700 900123 / 0161 496 0000", *cells[4:]]) is None
    assert maker.plain(9, cells) is None  # the same key again: a problem for the rules


def test_an_overlong_cell_is_left_to_the_rules() -> None:
    maker = _maker(MAPPINGS[1], plain=True)
    assert maker.plain(2, ["", "Bob", "", "0" * MAX_FIELD_CHARS, "", "", ""]) is None


def test_a_csv_of_odd_rows_reads_as_the_rules_read_it(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    lines = [
        "ID,Name,Company,Phone 1,Mobile,Fax,Notes",
        'C1,Amelia Hartley,,="07700900101",,,',  # Excel's text: a leading zero kept
        "C2,Bob\x07Smith,,0161 496 0000,,,",  # a control character: the file is damaged
        "C3,=HYPERLINK(1),,0161 496 0001,,,",  # a formula
        "C4,Carol Jones,,7.7009E+09,07700 900102,,",  # scientific notation: digits lost
        "C5,Dan Evans,,07700 900103 / 0161 496 0002,,0161 496 0999,",  # two numbers, a fax
        "C6,Zoë  Price,Acme,+44 7700 900104,,,",  # a plain row
        "C1,Fay Lee,,07700 900105,,,",  # a key used before
        ",,,,,,",  # blank
        "C8,Gus Hale,,07700 900106",  # ragged
    ]
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes(
        text.encode("utf-8") + "C9,Renée Fontaine,,020 7946 0241,,,\r\n".encode("cp1252")
    )
    mapping = MAPPINGS[0]
    source = CsvSource(path, mapping=mapping)
    records = list(source.records())
    assert [r.location for r in records] == [f"odd.csv:{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 11)]
    assert records[0].phones == (RawPhone("07700900101", "Phone 1"),)
    assert records[1].problems == ("name holds the control character \\x07: is the file damaged?",)
    assert records[2].problems == ("name '=HYPERLINK(1)' is a spreadsheet formula",)
    assert records[3].phones == (RawPhone("07700 900102", "Mobile"),)
    assert records[4].phones == (
        RawPhone("07700 900103", "Phone 1"),
        RawPhone("0161 496 0002", "Phone 1"),
    )
    assert records[5].name == "Zoë Price"
    assert records[6].problems == ("duplicate key 'C1' (first used at odd.csv:2)",)
    assert records[7].problems == ("row has 4 fields, header has 7",)
    assert records[8].name == "Renée Fontaine"
    assert records[8].notes == ("some text was not valid UTF-8 and was read as Windows-1252",)
