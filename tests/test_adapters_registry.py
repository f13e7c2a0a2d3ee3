"""The registry: which adapter reads which file, and the clear errors for files none can read."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import ADAPTERS, EXTENSIONS, format_names, open_source
from adapters.base import Source
from connector.errors import ConfigError, SourceError, UnsupportedFormat

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
VCARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Amelia Hartley\r\nTEL:07700 900101\r\nEND:VCARD\r\n"


def test_every_format_has_an_adapter_and_extensions() -> None:
    assert format_names() == ["csv", "vcard", "xlsx"]
    assert set(EXTENSIONS.values()) == set(ADAPTERS)
    assert all(cls.format_name == name for name, cls in ADAPTERS.items())


@pytest.mark.parametrize(
    ("name", "format_name"),
    [
        ("contacts.csv", "csv"),
        ("contacts-unicode.txt", "csv"),
        ("contacts.xlsx", "xlsx"),
        ("android-contacts.vcf", "vcard"),
        ("iphone-contacts.vcf", "vcard"),
    ],
)
def test_the_extension_picks_the_adapter(name: str, format_name: str) -> None:
    source: Source = open_source(SAMPLES / name)
    assert source.format_name == format_name
    assert source.path == SAMPLES / name


def test_vcard_content_under_another_name_is_read_as_vcard(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text(VCARD, newline="")
    source = open_source(path)
    assert source.format_name == "vcard"
    assert source.messages[0] == "export.txt: the content is vcard, not csv; reading it as vcard"


def test_a_workbook_named_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes((SAMPLES / "contacts.xlsx").read_bytes())
    assert open_source(path).format_name == "xlsx"


@pytest.mark.parametrize(("alias", "format_name"), [("excel", "xlsx"), ("VCF", "vcard")])
def test_format_aliases(tmp_path: Path, alias: str, format_name: str) -> None:
    source = SAMPLES / ("contacts.xlsx" if format_name == "xlsx" else "iphone-contacts.vcf")
    assert open_source(source, format=alias).format_name == format_name


def test_an_unknown_format_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown format 'json'; choose one of csv, vcard, xlsx"):
        open_source(SAMPLES / "contacts.csv", format="json")


def test_forcing_a_format_does_not_make_an_xls_readable(tmp_path: Path) -> None:
    path = tmp_path / "book.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(UnsupportedFormat, match=r"save it as \.xlsx or CSV"):
        open_source(path, format="xlsx")


def test_an_html_page_posing_as_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_text("<html><body><table><tr><td>Name</td></tr></table></body></html>")
    with pytest.raises(UnsupportedFormat, match=r"export\.xls: an HTML page, not a spreadsheet"):
        open_source(path)


@pytest.mark.parametrize("suffix", [".ods", ".numbers", ".xlsb"])
def test_other_zip_spreadsheets_say_how_to_convert(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"book{suffix}"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(UnsupportedFormat, match="not supported"):
        open_source(path)


def test_binary_junk_with_an_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "contacts.bin"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UnsupportedFormat) as caught:
        open_source(path)
    assert str(caught.value) == (
        f"{path}: binary data, not a text file (expected CSV, Excel .xlsx or vCard)"
    )


def test_a_directory_is_not_a_source(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is a directory"):
        open_source(tmp_path)


@pytest.mark.parametrize(
    "name",
    [
        "contacts.csv",
        "contacts-windows1252.csv",
        "contacts-unicode.txt",
        "contacts.xlsx",
        "android-contacts.vcf",
        "iphone-contacts.vcf",
        "google-contacts.csv",
        "outlook-contacts.csv",
        "sipalto-export.csv",
    ],
)
def test_every_sample_reads_with_names_and_numbers(name: str) -> None:
    records = list(open_source(SAMPLES / name).records())
    usable = [r for r in records if r.ok]
    assert len(usable) >= len(records) - 2
    assert all(r.name and r.phones for r in usable)


def test_the_crm_sample_reads_with_its_mapping() -> None:
    source = open_source(SAMPLES / "crm-export.csv", mapping=SAMPLES / "crm-mapping.yaml")
    names = [r.name for r in source.records()]
    assert names[:3] == [
        "Eleanor Vance (Kestrel Logistics)",
        "Marcus Bell (Kestrel Logistics)",
        "Moorside Dental Practice",
    ]
