"""Mappings: the YAML format, the shipped presets, header recognition, and their errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import pytest

from adapters import open_source
from adapters.guessing import guess_mapping
from adapters.mapping import (
    Mapping,
    detect_preset,
    list_presets,
    load_mapping,
    preset_text,
)
from connector.errors import ConfigError, SourceError
from connector.model import KEY_PHONEBOOK_ID, KEY_POSITION, KEY_SOURCE_ID, Contact
from connector.ui.contacts_view import write_contacts

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = ROOT / "sample_data"

OUTLOOK_CLASSIC = [
    "Title",
    "First Name",
    "Middle Name",
    "Last Name",
    "Suffix",
    "Company",
    "Department",
    "Job Title",
    "Business Street",
    "Assistant's Phone",
    "Business Fax",
    "Business Phone",
    "Business Phone 2",
    "Callback",
    "Car Phone",
    "Company Main Phone",
    "Home Fax",
    "Home Phone",
    "Home Phone 2",
    "ISDN",
    "Mobile Phone",
    "Other Fax",
    "Other Phone",
    "Pager",
    "Primary Phone",
    "Radio Phone",
    "TTY/TDD Phone",
    "Telex",
    "E-mail Address",
    "Notes",
]
OUTLOOK_COM = [
    "First Name",
    "Middle Name",
    "Last Name",
    "Title",
    "Suffix",
    "Nickname",
    "Given Yomi",
    "Surname Yomi",
    "E-mail Address",
    "Home Phone",
    "Home Phone 2",
    "Business Phone",
    "Business Phone 2",
    "Mobile Phone",
    "Car Phone",
    "Other Phone",
    "Primary Phone",
    "Pager",
    "Business Fax",
    "Home Fax",
    "Other Fax",
    "Company Main Phone",
    "Callback",
    "Radio Phone",
    "Telex",
    "TTY/TDD Phone",
    "Job Title",
    "Company",
    "Notes",
]
GOOGLE = [
    "First Name",
    "Middle Name",
    "Last Name",
    "Phonetic First Name",
    "Nickname",
    "File As",
    "Organization Name",
    "Organization Title",
    "Birthday",
    "Notes",
    "Photo",
    "Labels",
    "E-mail 1 - Label",
    "E-mail 1 - Value",
    "Phone 1 - Label",
    "Phone 1 - Value",
    "Phone 2 - Label",
    "Phone 2 - Value",
]


def write_csv(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def write_mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "crm.yaml"
    path.write_text(text, encoding="utf-8")
    return path


CRM_ROWS = [
    ["Ref", "Forename", "Surname", "Account", "Direct", "Mobile"],
    ["A1", "Eleanor", "Vance", "Kestrel Logistics", "01632 960501", "07700 900113"],
    ["A2", "", "", "Moorside Dental", "0113 496 0121", ""],
]


# --- the mapping file -----------------------------------------------------------------------


def test_a_mapping_file_reads_key_name_templates_and_labelled_phones(tmp_path: Path) -> None:
    mapping = write_mapping(
        tmp_path,
        'key: Ref\nname: ["{Forename} {Surname} ({Account})", "{Account}"]\n'
        "phones: [{column: Mobile, label: mobile}, Direct]\n",
    )
    source = open_source(write_csv(tmp_path / "crm.csv", CRM_ROWS), mapping=mapping)
    first, second = source.records()
    assert (first.key, first.name) == ("A1", "Eleanor Vance (Kestrel Logistics)")
    assert [(p.value, p.label) for p in first.phones] == [
        ("07700 900113", "mobile"),
        ("01632 960501", "Direct"),
    ]
    assert (second.key, second.name) == ("A2", "Moorside Dental")
    assert f"using mapping {mapping}:" in source.messages[1]


def test_name_may_be_one_plain_column_and_whitespace_is_collapsed(tmp_path: Path) -> None:
    mapping = Mapping.from_dict({"name": "Account", "phones": "Direct"}, name="m", origin="m")
    rows = [["Account", "Direct"], ["  Kestrel \t  Logistics ", "01632 960501"]]
    (record,) = open_source(write_csv(tmp_path / "c.csv", rows), mapping=mapping).records()
    assert record.name == "Kestrel Logistics"


@pytest.mark.parametrize(
    ("template", "values", "name"),
    [
        ("{Last}, {First}", ["Hartley", "Amelia"], "Hartley, Amelia"),
        ("{Last}, {First}", ["Hartley", ""], "Hartley"),
        ("{Last}, {First}", ["", "Amelia"], "Amelia"),
        ("{First} {Last} ({Org})", ["Hartley", "Amelia", ""], "Amelia Hartley"),
        ("{First} {Last} ({Org})", ["", "", "Acme"], ""),
        ("{{{First}}}", ["", "Amelia"], "{Amelia}"),
        ("{Org}", ["", "", ":-)"], ":-)"),
    ],
)
def test_templates_tidy_what_empty_columns_leave(
    template: str, values: list[str], name: str
) -> None:
    mapping = Mapping.from_dict({"name": template, "phones": ["Phone"]}, name="m", origin="m")
    bound = mapping.bind(["Last", "First", "Org", "Phone"], path="x.csv", line=1)
    assert bound.name_of([*values, *[""] * (3 - len(values)), "1"]) == name


def test_a_mapping_naming_a_missing_column_is_an_error_with_file_and_line(tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path, "name: Forename\nphones: [Mobile, Landline]\n")
    path = write_csv(tmp_path / "crm.csv", CRM_ROWS)
    with pytest.raises(SourceError) as caught:
        open_source(path, mapping=mapping)
    message = str(caught.value)
    assert message.startswith(f"{path}:1: mapping {mapping} names column 'Landline' not in")
    assert "the header row has: Ref, Forename, Surname, Account, Direct, Mobile" in message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: [A\nphones: B\n", r"crm\.yaml:2: not valid YAML"),
        ("- just\n- a list\n", r"crm\.yaml:1: the file must be a mapping, not a list"),
        ("name: A\n", r"crm\.yaml:1: phones: missing"),
        (
            "name: A\nphones: B\nphone: C\n",
            r"crm\.yaml:3: phone: unknown setting; did you mean 'phones'\?",
        ),
        ("name: A\nphones: [{label: x}]\n", r"crm\.yaml:2: phones\[0\]\.column: missing"),
        (
            "name: A\nphones: [{column: B, lable: x}]\n",
            r"crm\.yaml:2: phones\[0\]\.lable: unknown setting; did you mean 'label'\?",
        ),
        ("name: []\nphones: B\n", r"crm\.yaml:1: name: must not be empty"),
        (
            "name: A\nphones: B\ndetect: x\n",
            r"crm\.yaml:3: detect: must be a list, not the text 'x'",
        ),
        (
            "key: id\nkey_is: sipalto\nname: A\nphones: B\n",
            r"crm\.yaml:2: key_is: .*source_id.*phonebook_id",
        ),
        (
            "key_is: phonebook_id\nname: A\nphones: B\n",
            r"crm\.yaml:1: key_is: 'key_is: phonebook_id' needs a 'key' column",
        ),
    ],
)
def test_errors_in_a_mapping_file_name_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = write_mapping(tmp_path, text)
    with pytest.raises(ConfigError, match=problem) as caught:
        load_mapping(path)
    assert str(path) in str(caught.value)


def test_an_unknown_mapping_name_lists_the_presets() -> None:
    with pytest.raises(ConfigError, match="presets: google-contacts, outlook, sipalto"):
        load_mapping("netsuite")


def test_a_missing_mapping_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml")


# --- presets -------------------------------------------------------------------------------


def test_presets_are_listed_with_descriptions() -> None:
    presets = dict(list_presets())
    assert set(presets) == {"google-contacts", "outlook", "sipalto"}
    assert all(presets.values())


def test_preset_text_is_the_yaml_file() -> None:
    text = preset_text("sipalto")
    assert "description:" in text
    assert load_mapping("sipalto").key == "{id}"


@pytest.mark.parametrize(
    ("headers", "preset"),
    [
        (GOOGLE, "google-contacts"),
        (OUTLOOK_CLASSIC, "outlook"),
        (OUTLOOK_COM, "outlook"),
        (["id", "name", "phone1", "phone2", "phone3"], "sipalto"),
        (["Name", "Mobile"], None),
    ],
)
def test_presets_are_recognised_from_the_header(headers: list[str], preset: str | None) -> None:
    found = detect_preset(headers)
    assert (found.name if found else None) == preset


def test_google_primary_labels_multi_values_and_fax(tmp_path: Path) -> None:
    row = dict.fromkeys(GOOGLE, "")
    row.update(
        {
            "First Name": "Rajesh",
            "Last Name": "Patel",
            "Phone 1 - Label": "Work Fax",
            "Phone 1 - Value": "0161 496 0999",
            "Phone 2 - Label": "* Mobile",
            "Phone 2 - Value": "07700 900103 ::: 07700 900203",
        }
    )
    path = write_csv(tmp_path / "google.csv", [GOOGLE, list(row.values())])
    source = open_source(path)
    (record,) = source.records()
    assert source.messages[1].startswith("google.csv: recognised preset google-contacts")
    assert [(p.value, p.label, p.preferred) for p in record.phones] == [
        ("07700 900103", "Mobile", True),
        ("07700 900203", "Mobile", True),
    ]
    assert "skipped Work Fax number 0161 496 0999" in record.notes


def test_the_google_sample_export() -> None:
    records = list(open_source(SAMPLES / "google-contacts.csv").records())
    by_name = {r.name: r for r in records}
    assert by_name["Alasdair Mackenzie"].phones[0].value == "0131 496 0734"  # "* Work" first
    assert by_name["Brightwell Plumbing"].ok  # a company card, named by Organization Name
    assert by_name["Dominic Frost"].problems == ("no phone number",)


def test_the_older_google_export() -> None:
    conor, company = open_source(FIXTURES / "google-old.csv").records()
    assert [p.value for p in conor.phones] == ["0151 496 0424", "07700 900424", "07700 900425"]
    assert company.name == "Harbour Insurance"


@pytest.mark.parametrize("name", ["outlook-com.csv", "../../sample_data/outlook-contacts.csv"])
def test_both_outlook_header_sets(name: str) -> None:
    source = open_source(FIXTURES / name)
    records = list(source.records())
    assert "recognised preset outlook" in source.messages[1]
    assert all(r.name for r in records)
    assert not any(p.label == "fax" for r in records for p in r.phones)


def test_the_sipalto_export_round_trips_its_ids() -> None:
    records = list(open_source(SAMPLES / "sipalto-export.csv").records())
    assert [r.key for r in records[:4]] == ["30011", "30012", "30017", "30028"]
    assert records[0].phones[0].value == "1009"


def test_the_sipalto_preset_says_its_key_is_the_phonebook_id(tmp_path: Path) -> None:
    assert load_mapping("sipalto").key_is == KEY_PHONEBOOK_ID
    path = write_csv(
        tmp_path / "c.csv", [["id", "name", "phone1"], ["7", "Amelia", "1009"], ["", "Ben", "1010"]]
    )
    amelia, ben = open_source(path, mapping="sipalto").records()
    assert (amelia.key, amelia.key_kind) == ("7", KEY_PHONEBOOK_ID)
    assert (ben.key, ben.key_kind) == ("row:3", KEY_POSITION)  # no id: a new contact


def test_a_key_column_is_the_sources_own_id_and_a_row_number_is_a_position(
    tmp_path: Path,
) -> None:
    rows = [
        ["Contact ID", "Name", "Mobile"],
        ["C-1", "Amelia", "07700900001"],
        ["", "Ben", "07700900002"],
    ]
    path = write_csv(tmp_path / "c.csv", rows)
    mapping = write_mapping(tmp_path, "key: Contact ID\nname: Name\nphones: Mobile\n")
    for records in (open_source(path, mapping=mapping).records(), open_source(path).records()):
        assert [(r.key, r.key_kind) for r in records] == [
            ("C-1", KEY_SOURCE_ID), ("row:3", KEY_POSITION),
        ]  # fmt: skip


def test_a_preset_can_be_named_and_tolerates_a_dropped_phone_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["id", "name", "phone1"], ["7", "Amelia", "1009"]])
    (record,) = open_source(path, mapping="sipalto").records()
    assert (record.key, record.name, record.phones[0].value) == ("7", "Amelia", "1009")


def test_a_preset_name_template_keeps_the_columns_the_file_has(tmp_path: Path) -> None:
    # An Outlook-like export without "Middle Name": people keep their own names, and the
    # company is the name only of a record without one (it was everybody's before).
    rows = [
        ["First Name", "Last Name", "Company", "Mobile Phone"],
        ["Ann", "Lee", "Acme", "07700 900001"],
        ["", "", "Beta Ltd", "07700 900002"],
    ]
    source = open_source(write_csv(tmp_path / "c.csv", rows), mapping="outlook")
    assert [r.name for r in source.records()] == ["Ann Lee", "Beta Ltd"]
    assert "First Name + Last Name, Company -> name" in " ".join(source.messages)
    # A mapping of one's own still names a missing column as an error.
    mapping = tmp_path / "m.yaml"
    mapping.write_text('name: "{First Name} {Middle Name} {Last Name}"\nphones: [Mobile Phone]\n')
    with pytest.raises(SourceError, match="Middle Name"):
        open_source(write_csv(tmp_path / "c.csv", rows), mapping=mapping)


def test_a_preset_still_needs_its_key_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["name", "phone1"], ["Amelia", "1009"]])
    with pytest.raises(SourceError, match=r"c\.csv:1: mapping preset sipalto names column 'id'"):
        open_source(path, mapping="sipalto")


# --- recognising common headers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "names", "phones", "key"),
    [
        (["Name", "Mobile", "Work"], ["{Name}"], ["Mobile", "Work"], None),
        (
            ["Contact ID", "First Name", "Last Name", "Company", "Phone 1", "Phone 2", "Phone 3"],
            ["{First Name} {Last Name}", "{Company}"],
            ["Phone 1", "Phone 2", "Phone 3"],
            "{Contact ID}",
        ),
        (
            ["full_name", "telephone_number", "fax", "mobile_no", "email"],
            ["{full_name}"],
            ["telephone_number", "mobile_no"],
            None,
        ),
        (
            ["Surname", "Forename", "Tel.", "Direct line"],
            ["{Forename} {Surname}"],
            ["Tel.", "Direct line"],
            None,
        ),
        (["Organisation", "Switchboard", "Phone Type"], ["{Organisation}"], ["Switchboard"], None),
    ],
)
def test_common_headers_are_recognised(
    headers: list[str], names: list[str], phones: list[str], key: str | None
) -> None:
    mapping = guess_mapping(headers)
    assert mapping is not None
    assert list(mapping.names) == names
    assert [p.column for p in mapping.phones] == phones
    assert mapping.key == key


@pytest.mark.parametrize(
    "headers", [["Name", "Email"], ["Mobile", "Home"], ["Address Line 1", "Notes"]]
)
def test_headers_without_a_name_and_a_phone_are_not_guessed(headers: list[str]) -> None:
    assert guess_mapping(headers) is None


def test_a_repeated_phone_header_means_several_phone_columns(tmp_path: Path) -> None:
    rows = [["Name", "Phone", "Phone"], ["Amelia", "07700 900101", "0113 496 0101"]]
    (record,) = open_source(write_csv(tmp_path / "c.csv", rows)).records()
    assert [p.value for p in record.phones] == ["07700 900101", "0113 496 0101"]


def test_the_tools_own_csv_export_reads_back_with_its_ids(tmp_path: Path) -> None:
    contacts = [
        Contact("30002", "Okafor, Chidi", "07700900102", "", ""),
        Contact("30011", "Desk", "1009"),
    ]
    buffer = io.StringIO()
    write_contacts(contacts, "csv", buffer)
    path = tmp_path / "export.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    source = open_source(path)
    assert source.messages[1].startswith("export.csv: recognised preset sipalto")
    assert [(r.key, r.name) for r in source.records()] == [
        ("30002", "Okafor, Chidi"),
        ("30011", "Desk"),
    ]
