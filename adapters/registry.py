"""Which adapter reads which file: by ``--source-format``, by content, then by extension.

Content wins over the extension where it is unmistakable, because files are often
misnamed: a ``.csv`` that is really a workbook, an "Excel export" that is really an
HTML page or tab-separated text. Adding a format is one new module with a class
following :class:`~adapters.base.Source`, plus its line in :data:`ADAPTERS` and its
extensions in :data:`EXTENSIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.base import ReadProgress, Source
from adapters.csvfile import CsvSource
from adapters.excel import ExcelSource
from adapters.locations import is_url
from adapters.mapping import (
    CRM_KIND,
    FILE_KIND,
    Mapping,
    crm_preset_names,
    list_presets,
    load_mapping,
)
from adapters.textfile import bom_encoding, looks_binary, read_prefix, utf16_without_bom
from adapters.vcard import VCardSource
from connector.errors import ConfigError, UnsupportedFormat

if TYPE_CHECKING:
    from adapters.crm.source import CrmSource

#: Format name -> adapter class.
ADAPTERS: dict[str, type[Source]] = {
    CsvSource.format_name: CsvSource,
    ExcelSource.format_name: ExcelSource,
    VCardSource.format_name: VCardSource,
}

#: File extension -> format name.
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".vcf": "vcard",
    ".vcard": "vcard",
}

#: Other names accepted for ``--source-format``.
ALIASES: dict[str, str] = {"excel": "xlsx", "xlsm": "xlsx", "vcf": "vcard", "tsv": "csv"}

_SAVE_AS = "open it in Excel (or LibreOffice) and save it as .xlsx or CSV"
#: Extensions of formats that are not read, with what to do instead.
UNSUPPORTED: dict[str, str] = {
    ".xls": f"an old Excel 97-2003 .xls workbook, which is not supported; {_SAVE_AS}",
    ".xlsb": f"an Excel binary .xlsb workbook, which is not supported; {_SAVE_AS}",
    ".ods": "an OpenDocument spreadsheet, which is not supported; "
    "save it as .xlsx or CSV from LibreOffice",
    ".numbers": "a Numbers spreadsheet, which is not supported; "
    "export it from Numbers as Excel (.xlsx) or CSV",
}

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_VCARD = re.compile(r"\A(?:\s|#[^\n]*\n)*BEGIN\s*:\s*VCARD", re.IGNORECASE)
_HTML = re.compile(r"\A\s*<(?:!doctype html|html|table|\?xml[^>]*>\s*<html)", re.IGNORECASE)


def format_names() -> list[str]:
    """The formats ``--source-format`` accepts."""
    return sorted(ADAPTERS)


def open_source(
    path: str | Path,
    *,
    format: str | None = None,
    mapping: str | Path | Mapping | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    progress: Callable[[ReadProgress], None] | None = None,
) -> Source:
    """Open ``path`` with the adapter its extension or content calls for.

    ``format`` (``csv``, ``xlsx``, ``vcard``) overrides the choice. ``mapping`` is a
    preset name, a YAML file or a :class:`~adapters.mapping.Mapping` (tabular sources
    only); ``encoding`` forces a text encoding; ``sheet`` (name, or 1-based number) and
    ``header_row`` (1-based) pick where a table starts.

    A ``path`` that is an ``http(s)://`` URL (as text) is a CRM, read by
    :class:`~adapters.crm.CrmSource` with ``mapping`` a CRM preset or mapping file;
    ``progress`` is called as its pages are read.

    Raises :class:`~connector.errors.SourceError` (or its subclass
    :class:`~connector.errors.UnsupportedFormat`) when the file cannot be read at all,
    and :class:`~connector.errors.ConfigError` for a bad option or mapping file.
    """
    if isinstance(path, str) and is_url(path):
        return _open_crm(path, format, mapping, encoding, sheet, header_row, progress)
    path = Path(path)
    # A mistake in the mapping file is reported before the source is read.
    mapping = load_mapping(mapping) if mapping is not None else None
    prefix = read_prefix(path)
    if format is not None:
        name, message = _forced_format(format, path, prefix), None
    else:
        name, message = detect_format(path, prefix)
    source = ADAPTERS[name](
        path, mapping=mapping, encoding=encoding, sheet=sheet, header_row=header_row
    )
    if message:
        source.messages.insert(0, f"{path.name}: {message}")
    return source


def _open_crm(
    url: str,
    format: str | None,
    mapping: str | Path | Mapping | None,
    encoding: str | None,
    sheet: str | int | None,
    header_row: int | None,
    progress: Callable[[ReadProgress], None] | None,
) -> CrmSource:
    if format is not None:
        raise ConfigError("--source-format is for files; a URL is read as a CRM")
    if isinstance(mapping, Mapping):
        raise ConfigError(
            f"mapping {mapping.name} is a file mapping; a URL needs a CRM mapping "
            f"(CRM presets: {', '.join(crm_preset_names())})"
        )
    # The CRM reader is loaded only for a CRM: a file's plan has no need of it.
    from adapters.crm.source import CrmSource

    return CrmSource(url, mapping=mapping, encoding=encoding, sheet=sheet,
                     header_row=header_row, progress=progress)  # fmt: skip


def list_all_presets() -> list[tuple[str, str, str]]:
    """``(name, kind, description)`` of every shipped preset, sorted by name; ``kind`` is
    ``file`` (columns of a CSV, Excel or vCard file) or ``crm`` (a CRM's web API)."""
    from adapters.crm.schema import list_crm_presets  # see _open_crm

    described = {name: (FILE_KIND, text) for name, text in list_presets()}
    described.update({name: (CRM_KIND, text) for name, text in list_crm_presets()})
    return [(name, *described[name]) for name in sorted(described)]


def detect_format(path: Path, prefix: bytes) -> tuple[str, str | None]:
    """``(format name, message)`` for a file; the message says when content beat the name.

    Raises :class:`UnsupportedFormat` for formats that cannot be read (``.xls``, an
    HTML page) with advice on how to convert them.
    """
    suffix = path.suffix.lower()
    by_name = EXTENSIONS.get(suffix)
    by_content = _content_format(path, prefix)
    if by_content is None:
        if suffix in UNSUPPORTED and prefix:
            by_content = "csv"  # an "Excel export" that is really delimited text
        elif by_name == "xlsx" and prefix.strip() and not looks_binary(prefix):
            by_content = "csv"  # a CSV renamed .xlsx: text cannot be a workbook
        else:
            return by_name or "csv", None
    if by_name in (None, by_content):
        message = None
        if suffix in UNSUPPORTED:
            message = f"the file is not really {suffix}; reading it as {by_content}"
        return by_content, message
    return by_content, f"the content is {by_content}, not {by_name}; reading it as {by_content}"


def _forced_format(format: str, path: Path, prefix: bytes) -> str:
    name = ALIASES.get(format.lower(), format.lower())
    if name not in ADAPTERS:
        raise ConfigError(f"unknown format {format!r}; choose one of {', '.join(format_names())}")
    if prefix.startswith(_OLE2_MAGIC):
        raise UnsupportedFormat(UNSUPPORTED[".xls"], path=path)
    return name


def _content_format(path: Path, prefix: bytes) -> str | None:
    if prefix.startswith(_OLE2_MAGIC):
        # Also what a password-protected .xlsx looks like from outside.
        raise UnsupportedFormat(
            "an old Excel 97-2003 .xls workbook (or a password-protected one), which is "
            f"not supported; remove any password, then {_SAVE_AS}",
            path=path,
        )
    if prefix.startswith(_ZIP_MAGIC):
        # Other zip-based spreadsheets; a zip named .xls is an .xlsx misnamed, and fine.
        if path.suffix.lower() in (".ods", ".numbers", ".xlsb"):
            raise UnsupportedFormat(UNSUPPORTED[path.suffix.lower()], path=path)
        return "xlsx"
    encoding = bom_encoding(prefix) or utf16_without_bom(prefix)
    text = prefix[:4096].decode(encoding.codec if encoding else "latin-1", "replace")
    text = text.lstrip("\ufeff")
    if _VCARD.match(text):
        return "vcard"
    if _HTML.match(text):
        raise UnsupportedFormat(f"an HTML page, not a spreadsheet; {_SAVE_AS}", path=path)
    return None
