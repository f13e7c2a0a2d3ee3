"""vCard adapter: the shapes real exports take (see tests/fixtures/*.vcf), and broken cards."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from adapter_contract import AdapterContract, Person
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import open_source
from adapters.vcard import _split_lines
from connector.errors import ConfigError, SourceError, UnsupportedFormat
from connector.model import KEY_POSITION, KEY_SOURCE_ID, Contact, RawPhone, SourceRecord
from connector.ui.contacts_view import write_contacts

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def read(name: str) -> list[SourceRecord]:
    return list(open_source(FIXTURES / name).records())


def phones(record: SourceRecord) -> list[tuple[str, str, bool]]:
    return [(p.value, p.label, p.preferred) for p in record.phones]


def write_cards(path: Path, text: str, *, eol: str = "\r\n", encoding: str = "utf-8") -> Path:
    path.write_bytes(text.strip("\n").replace("\n", eol).encode(encoding) + eol.encode(encoding))
    return path


class TestVCardContract(AdapterContract):
    format_name = "vcard"
    suffix = ".vcf"

    def write(self, path: Path, people: Sequence[Person]) -> None:
        cards = []
        for person in people:
            lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{person.key}"]
            if person.name:
                lines.append(f"FN:{person.name}")
            types = ["CELL", "WORK", "HOME"]
            lines += [f"TEL;TYPE={t}:{v}" for t, v in zip(types, person.phones, strict=False)]
            cards.append("\r\n".join([*lines, "END:VCARD"]))
        path.write_text("\r\n".join(cards) + "\r\n", encoding="utf-8", newline="")


# --- real export shapes -------------------------------------------------------------------


def test_android_quoted_printable_with_soft_line_breaks() -> None:
    first, email_only, custom = read("android-21.vcf")
    assert first.name == "Zoë Łukasiewicz-Nié Bhriain Hartley-Winstanley"
    assert phones(first) == [("07700 900401", "mobile", True), ("0113 496 0401", "home", False)]
    assert first.notes == ("skipped work fax number 0113 496 0999",)
    assert email_only.problems == ("no name", "no phone number")
    assert email_only.location == "android-21.vcf card 2"
    assert phones(custom) == [("0161 496 0402", "Studio", False)]
    assert custom.notes == ()  # the "#" line continues a QP note; it is not an unreadable line


def test_ios_cr_cr_lf_line_ends_and_apple_labels() -> None:
    person, company = read("ios-30.vcf")
    assert person.name == "Daniel Osei"
    assert phones(person) == [
        ("07700 900409", "mobile", True),
        ("0117 496 0409", "work", False),
        ("0117 496 0709", "Assistant", False),
    ]
    assert person.notes == ("skipped HomeFAX number 0117 496 0710",)
    assert company.name == "Kestrel Logistics"
    assert company.ok


def test_outlook_windows_1252_text_and_x_ms_lines() -> None:
    person, template = read("outlook-21.vcf")
    assert person.name == "Renée Fontaine"
    assert phones(person) == [("020 7946 0410", "work", False), ("(07700) 900410", "mobile", False)]
    assert template.problems == ("no phone number",)
    assert "ignored phone value 'BusinessPhone': it has no digits" in template.notes


def test_gmail_custom_labels_and_no_final_newline() -> None:
    grace, callum = read("gmail-30.vcf")
    assert phones(grace) == [("07700 900411", "mobile", False), ("028 9649 6411", "Studio", False)]
    assert grace.notes == ("skipped pager number 07623 900411",)
    assert callum.name == "Callum Fraser"
    assert phones(callum) == [("0141 496 0412", "work", False)]


def test_evolution_folded_values_and_parameter_lists() -> None:
    (record,) = read("evolution-30.vcf")
    assert record.key == "sipalto-fixture-evolution-0421"
    assert record.name == "Mr. Mohammed Rahman"
    assert phones(record) == [("07700 900421", "mobile", False), ("0161 496 0421", "work", False)]


def test_blackberry_long_unfolded_photo() -> None:
    (record,) = read("blackberry-21.vcf")
    assert record.name == "Wei Zhang"
    assert phones(record) == [("+447700900422", "mobile", False)]
    assert record.notes == ()


def test_vcard_40_tel_uris_and_pref_order() -> None:
    isla, noah = read("v40.vcf")
    assert phones(isla) == [
        ("+44-141-496-0419 ext. 214", "work", True),
        ("+44-7700-900418", "mobile", True),
        ("+44-141-496-0418", "home", False),
    ]
    assert isla.key == "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"
    assert noah.name == "Noah Evans"
    assert noah.key == "card:2"  # the same UID again cannot identify a second contact
    assert (isla.key_kind, noah.key_kind) == (KEY_SOURCE_ID, KEY_POSITION)
    assert "already used" in noah.notes[0]


def test_a_broken_card_is_reported_with_its_number_and_the_rest_import() -> None:
    records = read("broken.vcf")
    assert [(r.location, r.name, r.problems) for r in records] == [
        ("broken.vcf card 1", "Amelia Hartley", ()),
        (
            "broken.vcf card 2",
            "Truncated Card",
            ("card has no END:VCARD (the next card begins on line 12)",),
        ),
        ("broken.vcf card 3", "Ben Carter", ()),
        ("broken.vcf card 4", "Lost Begin", ("no BEGIN:VCARD before line 17",)),
        ("broken.vcf card 5", "Chloe Bennett", ()),
    ]


def test_a_file_cut_off_inside_a_card(tmp_path: Path) -> None:
    path = write_cards(tmp_path / "c.vcf", "BEGIN:VCARD\nVERSION:3.0\nFN:Amelia\nTEL:07700 900101")
    source = open_source(path)
    (record,) = source.records()
    assert record.problems == ("card has no END:VCARD (it begins on line 1 and the file ends)",)
    assert source.cut_short == (
        "c.vcf:1: the last card has no END:VCARD and the file ends there: is the file cut short?"
    )


def test_an_end_without_any_card(tmp_path: Path) -> None:
    text = "BEGIN:VCARD\nFN:A\nTEL:07700 900101\nEND:VCARD\nEND:VCARD\n"
    records = list(open_source(write_cards(tmp_path / "c.vcf", text)).records())
    assert records[1].location == "c.vcf card 2"
    assert records[1].problems[0] == "END:VCARD on line 5 without BEGIN:VCARD"


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "name"),
    [
        ("FN:Dr. Amelia Hartley\nN:Hartley;Amelia;;Dr.;", "Dr. Amelia Hartley"),
        ("N:Hartley;Amelia;Jane;Dr.;PhD", "Dr. Amelia Jane Hartley PhD"),
        ("FN:\nN:Hartley;Amelia;;;", "Amelia Hartley"),
        ("ORG:Penrose Print Ltd;Sales", "Penrose Print Ltd"),
        ("FN:Harrow\\, Pike \\& Co\\;", "Harrow, Pike \\& Co;"),
        ("N:O\\;Brien;Sean;;;", "Sean O;Brien"),
        ("FN:  Amelia \n  Hartley  ", "Amelia Hartley"),
    ],
)
def test_the_name_comes_from_fn_then_n_then_org(tmp_path: Path, lines: str, name: str) -> None:
    text = f"BEGIN:VCARD\nVERSION:3.0\n{lines}\nTEL:07700 900101\nEND:VCARD"
    (record,) = open_source(write_cards(tmp_path / "c.vcf", text)).records()
    assert record.name == name


# --- files as a whole ------------------------------------------------------------------------


def test_a_utf16_file_is_read(tmp_path: Path) -> None:
    text = "BEGIN:VCARD\nVERSION:3.0\nFN:Łukasz Nowak\nTEL:07700 900101\nEND:VCARD"
    path = tmp_path / "c.vcf"
    path.write_bytes(b"\xff\xfe" + (text.replace("\n", "\r\n") + "\r\n").encode("utf-16-le"))
    (record,) = open_source(path).records()
    assert record.name == "Łukasz Nowak"


def test_a_classic_mac_file_with_cr_line_ends(tmp_path: Path) -> None:
    text = "BEGIN:VCARD\nVERSION:2.1\nFN:Amelia\nTEL;CELL:07700 900101\nEND:VCARD"
    (record,) = open_source(write_cards(tmp_path / "c.vcf", text, eol="\r")).records()
    assert phones(record) == [("07700 900101", "mobile", False)]


def test_an_agent_card_inside_a_card_is_not_a_contact(tmp_path: Path) -> None:
    text = (
        "BEGIN:VCARD\nVERSION:2.1\nFN:Amelia\nAGENT:\nBEGIN:VCARD\nVERSION:2.1\nFN:Assistant\n"
        "TEL:07700 900999\nEND:VCARD\nTEL:07700 900101\nEND:VCARD"
    )
    (record,) = open_source(write_cards(tmp_path / "c.vcf", text)).records()
    assert record.name == "Amelia"
    assert record.phones == (RawPhone("07700 900101"),)


def test_the_encoding_option_decodes_text_without_a_charset(tmp_path: Path) -> None:
    text = "BEGIN:VCARD\nVERSION:2.1\nFN:Ŝtefan Ĉapek\nTEL:07700 900101\nEND:VCARD"
    path = write_cards(tmp_path / "c.vcf", text, encoding="iso-8859-3")
    (record,) = open_source(path, encoding="iso-8859-3").records()
    assert record.name == "Ŝtefan Ĉapek"


def test_a_vcf_that_is_not_a_vcard_says_so(tmp_path: Path) -> None:
    path = tmp_path / "c.vcf"
    path.write_text("Name,Phone\nAmelia,07700 900101\n")
    with pytest.raises(UnsupportedFormat, match=r"c\.vcf: not a vCard file: no BEGIN:VCARD"):
        open_source(path)


def test_a_whitespace_only_vcf_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "c.vcf"
    path.write_text("\r\n\r\n")
    with pytest.raises(SourceError, match=r"c\.vcf: the file is empty"):
        open_source(path)


@pytest.mark.parametrize("option", [{"mapping": "sipalto"}, {"sheet": 1}, {"header_row": 2}])
def test_table_options_are_refused(tmp_path: Path, option: dict[str, object]) -> None:
    path = write_cards(tmp_path / "c.vcf", "BEGIN:VCARD\nFN:A\nTEL:1\nEND:VCARD")
    with pytest.raises(ConfigError, match="applies to tables"):
        open_source(path, **option)  # type: ignore[arg-type]


@settings(max_examples=300)
@given(st.text("ab\r\n", max_size=40).map(str.encode), st.integers(1, 8))
def test_line_splitting_does_not_depend_on_where_chunks_end(data: bytes, chunk: int) -> None:
    expected = re.split(rb"\r*\n|\r", data)
    if expected[-1] == b"":
        expected.pop()  # a final terminator ends the last line; it does not start another
    lines = [line for _, line in _split_lines(io.BytesIO(data), chunk)]
    assert lines == expected


def test_the_tools_own_vcard_export_reads_back_with_its_ids(tmp_path: Path) -> None:
    contacts = [Contact("30002", "Okafor, Chidi", "07700900102"), Contact("30011", "Desk", "1009")]
    buffer = io.StringIO()
    write_contacts(contacts, "vcf", buffer)
    path = tmp_path / "export.vcf"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    records = list(open_source(path).records())
    assert [(r.key, r.name, [p.value for p in r.phones]) for r in records] == [
        ("30002", "Okafor, Chidi", ["07700900102"]),
        ("30011", "Desk", ["1009"]),
    ]
