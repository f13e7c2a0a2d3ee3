"""The bad-input corpus: files broken the way real files break, through the real command line.

Every case is a file (or a source with its mapping or decisions file, or a plan file edited
by hand) run through the command a user would run on it: ``inspect`` and ``plan`` (against
the sandbox) for sources and mappings, ``plan --decisions`` for decisions files, ``apply``
for plan files. Each must end with its exit code and one line that names the file and the
place (line, record, card, key or plan item) with the reason, and never with a traceback or
an "Internal error". Where a file also holds good records, those are still read
(``inspect`` lists them as usable) and planned (``plan`` adds them).

``plan`` exits 0 when the only trouble is a rejected record: the plan is made and shows the
record as rejected. Every other case exits 1.

Small cases live in ``tests/bad_inputs/``; large, binary and workbook cases are made here.
"""

from __future__ import annotations

import copy
import io
import json
import random
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result
from conftest import SMALL_BOOK

from connector.errors import ConfigError
from connector.yamlfile import load_yaml

CORPUS = Path(__file__).resolve().parent / "bad_inputs"

Maker = Callable[[Path, dict[str, Any]], list[str]]


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it, where the message must point, and what it says.

    ``make`` writes the files into a folder (given the good plan, for plan-file cases) and
    returns the command's arguments. ``where`` names the file and the place; ``message`` is
    a fragment of the reason; both must be on one line of the output. ``rejected`` cases are
    one bad record among good ones, named in ``good``.
    """

    id: str
    make: Maker
    where: str
    message: str
    commands: tuple[str, ...] = ("inspect", "plan")
    rejected: bool = False
    good: tuple[str, ...] = ()
    seconds: float = 20  # the longest it may take, on a busy machine
    slow: bool = False

    def exit_code(self, command: str) -> int:
        """1, except for ``plan`` of a file whose only trouble is a rejected record."""
        return 0 if self.rejected and command == "plan" else 1


# -- makers ----------------------------------------------------------------------------------


def corpus(name: str, *extra: str) -> Maker:
    """A file of ``tests/bad_inputs/`` (with more arguments, also corpus files or options)."""

    def make(_folder: Path, _plan: dict[str, Any]) -> list[str]:
        return [
            str(CORPUS / name),
            *(str(CORPUS / e) if (CORPUS / e).is_file() else e for e in extra),
        ]

    return make


def data(name: str, content: bytes | Callable[[], bytes], *options: str) -> Maker:
    """A file made here from bytes (or a function giving them), with options after it."""

    def make(folder: Path, _plan: dict[str, Any]) -> list[str]:
        path = folder / name
        path.write_bytes(content() if callable(content) else content)
        return [str(path), *options]

    return make


def rows(*lines: str, eol: str = "\n") -> str:
    return eol.join(lines) + eol


def seeded_bytes(size: int, seed: int = 10) -> bytes:
    return random.Random(seed).randbytes(size)


GOOD_ROWS = ("Ann Able,07700 900101", "Ben Bold,07700 900102")


# -- CSV and other text --------------------------------------------------------------------

TEXT_CASES = [
    Case("csv-ragged-rows", corpus("ragged.csv"), "ragged.csv:3",
         "row has 4 fields, header has 2", rejected=True, good=("Ann Able", "Dev Dunn")),
    Case("csv-unclosed-quote", corpus("unclosed-quote.csv"), "unclosed-quote.csv:3",
         "is a quote left open?", rejected=True, good=("Ann Able",)),
    Case("csv-duplicate-keys", corpus("duplicate-keys.csv"), "duplicate-keys.csv:4",
         "duplicate key 'C1'", rejected=True, good=("Ann Able", "Ben Bold", "Dev Dunn")),
    Case("csv-scientific-notation", corpus("scientific.csv"), "scientific.csv:3",
         "no phone number", rejected=True, good=("Ann Able", "Cara Clay")),
    Case("csv-formula-in-a-name", corpus("formulas.csv"), "formulas.csv:3",
         "name '=HYPERLINK(\"http://example.com/x\",\"Click me\")' is a spreadsheet formula",
         rejected=True, good=("Ann Able", "Ben Bold", "Dev Dunn", "@Home Cleaning")),
    Case("csv-formula-in-a-number", corpus("formulas.csv"), "formulas.csv:5",
         "phone value '=1+2' is a spreadsheet formula", rejected=True,
         good=("Ann Able", "Ben Bold", "Dev Dunn")),
    Case("csv-dde-command-in-a-name", corpus("formulas.csv"), "formulas.csv:6",
         "is a spreadsheet formula", rejected=True, good=("Ann Able", "Dev Dunn")),
    Case("csv-no-name-or-phone-columns", corpus("no-columns.csv"), "no-columns.csv:2",
         "cannot tell which columns hold names and phone numbers"),
    Case("csv-header-cells-with-line-breaks",
         data("notes.csv", rows('Customer,"Notes\r\nmore",Ref\x01', "Acme Ltd,x,1").encode()),
         "notes.csv:1", "(the header row has: Customer, Notes more, 'Ref\\x01'); give --mapping"),
    Case("csv-empty-file", data("empty.csv", b""), "empty.csv", "the file is empty"),
    Case("csv-only-blank-lines", data("blank.csv", b"\r\n\r\n  \r\n"), "blank.csv",
         "the file is empty"),
    Case("csv-random-binary", data("junk.csv", seeded_bytes(4096)), "junk.csv",
         "binary data, not a text file"),
    Case("csv-png-named-csv", data("photo.csv", b"\x89PNG\r\n\x1a\n" + seeded_bytes(3000)),
         "photo.csv", "binary data"),
    Case("csv-nul-byte-in-a-name",
         data("nul.csv", rows("Name,Mobile", *(f"Person {n},07700 9001{n:02d}" for n in range(12)),
                              "Bad\x00Name,07700 900199", "Ann Able,07700 900101").encode()),
         "nul.csv:14", r"name holds the control character \x00", rejected=True,
         good=("Person 0", "Person 11", "Ann Able")),
    Case("csv-all-nul-bytes", data("zeros.csv", b"\x00" * 2048), "zeros.csv", "binary data"),
    Case("csv-utf16-le-without-bom",
         data("utf16le.csv", rows("Name,Mobile", "Zoë Ünal,07700 900101", "Ōta Ren,",
                                  "Ben Bold,07700 900102").encode("utf-16-le")),
         "utf16le.csv:3", "no phone number", rejected=True, good=("Zoë Ünal", "Ben Bold")),
    Case("csv-utf16-be-without-bom",
         data("utf16be.csv", rows("Name,Mobile", "Zoë Ünal,07700 900101", "Ōta Ren,",
                                  "Ben Bold,07700 900102").encode("utf-16-be")),
         "utf16be.csv:3", "no phone number", rejected=True, good=("Zoë Ünal", "Ben Bold")),
    Case("csv-latin1-read-as-utf8",
         data("latin1.csv", rows("Name,Mobile", "Ann Able,07700 900101",
                                 "José Müller,07700 900102").encode("latin-1"),
              "--encoding", "utf-8"),
         "latin1.csv:3", "not valid utf-8 (as given) text"),
    Case("csv-utf16-given-for-a-file-without-bom",
         data("nobom.csv", rows("Name,Mobile", *GOOD_ROWS).encode(), "--encoding", "utf-16"),
         "nobom.csv", "not valid utf-16 (as given) text"),
    Case("csv-latin1-detected",
         data("latin1-auto.csv", rows("Name,Mobile", "José Müller,07700 900101", "Søren,",
                                      "Ann Able,07700 900102").encode("latin-1")),
         "latin1-auto.csv:3", "no phone number", rejected=True,
         good=("José Müller", "Ann Able")),
    Case("csv-utf8-with-a-windows-1252-row",
         data("mixed.csv", rows("Name,Mobile", "Zoë Ünal,07700 900101").encode()
              + rows("Chloë Brontë,07700 900102", "Søren Sand,", "JOSÉ’S CAFÉ,07700 900103")
              .encode("cp1252")),
         "mixed.csv:4", "no phone number", rejected=True,
         good=("Zoë Ünal", "Chloë Brontë", "JOSÉ’S CAFÉ")),
    Case("csv-unknown-encoding-option", data("enc.csv", rows("Name,Mobile", *GOOD_ROWS).encode(),
                                                "--encoding", "klingon"),
         "klingon", "unknown text encoding"),
    Case("csv-xls-that-is-text",
         data("export.xls", rows("Name\tMobile", "Ann Able\t07700 900101", "Cara Clay\t",
                                 "Ben Bold\t07700 900102").encode()),
         "export.xls:3", "no phone number", rejected=True, good=("Ann Able", "Ben Bold")),
    Case("csv-10mb-cell",
         data("huge-cell.csv", lambda: rows("Name,Mobile", GOOD_ROWS[0]).encode()
              + b"X" * 10 * 2**20 + b",07700 900109\n" + rows(GOOD_ROWS[1]).encode()),
         "huge-cell.csv:3", "a field holds more than 131072 characters", rejected=True,
         good=("Ann Able", "Ben Bold")),
    Case("csv-100k-character-name",
         data("long-name.csv", lambda: rows("Name,Mobile", GOOD_ROWS[0], "N" * 100_000
                                            + ",07700 900109", GOOD_ROWS[1]).encode()),
         "long-name.csv:3", "name is 100,000 characters long", rejected=True,
         good=("Ann Able", "Ben Bold")),
    Case("csv-50k-digit-phone",
         data("long-phone.csv", lambda: rows("Name,Mobile", GOOD_ROWS[0], "Cara Clay,"
                                             + "0" * 50_000, GOOD_ROWS[1]).encode()),
         "long-phone.csv:3", "phone value is 50,000 characters long", rejected=True,
         good=("Ann Able", "Ben Bold")),
    Case("csv-phone-cell-of-many-short-groups",
         data("groups.csv", rows("Name,Mobile", GOOD_ROWS[0], "Cara Clay," + "0770 " * 24,
                                 GOOD_ROWS[1]).encode()),
         "groups.csv:3", "not a possible phone number (too long)", commands=("plan",),
         rejected=True, good=("Ann Able", "Ben Bold")),
    Case("csv-50k-rows-with-one-bad-row",
         data("huge.csv", lambda: rows("Name,Mobile", *(f"Person {n},07700 9{n:05d}"
                                                       for n in range(50_000)), "Nobody,")
              .encode()),
         "huge.csv:50002", "no phone number", rejected=True,
         good=("Person 0", "Person 49999"), seconds=120, slow=True),
    Case("csv-huge-file-with-one-bad-row",
         data("big.csv", lambda: rows("Name,Mobile", *(f"Person {n},0161 496 {n:04d}"
                                                      for n in range(3000)), "Nobody,")
              .encode()),
         "big.csv:3002", "no phone number", rejected=True, good=("Person 0", "Person 2999")),
]  # fmt: skip


# -- Excel ---------------------------------------------------------------------------------


def workbook(*table: list[Any]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    for row in table:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD_TABLE = (["Name", "Mobile"], ["Ann Able", "07700 900101"], ["Ben Bold", "07700 900102"])


def rezipped(original: bytes, change: Callable[[str, bytes], bytes | None]) -> bytes:
    """The workbook with each part passed through ``change`` (None leaves a part out)."""
    source = zipfile.ZipFile(io.BytesIO(original))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = change(info.filename, source.read(info))
            if content is not None:
                target.writestr(info, content)
    return out.getvalue()


FILLER = [[f"Person {n}", f"0161 496 {n:04d}"] for n in range(200)]


def cut_part(name: str) -> Callable[[str, bytes], bytes | None]:
    return lambda part, content: content[: len(content) // 2] if part == name else content


def drop_part(name: str) -> Callable[[str, bytes], bytes | None]:
    return lambda part, content: None if part == name else content


def replace_in(name: str, old: bytes, new: bytes) -> Callable[[str, bytes], bytes | None]:
    return lambda part, content: content.replace(old, new) if part == name else content


def corrupt_member(original: bytes, name: str) -> bytes:
    """The workbook with the middle of one part's compressed bytes overwritten."""
    info = zipfile.ZipFile(io.BytesIO(original)).getinfo(name)
    header = 30 + len(info.filename.encode()) + len(info.extra)
    start = info.header_offset + header + info.compress_size // 3
    damaged = bytearray(original)
    damaged[start : start + 64] = b"\xff" * 64
    return bytes(damaged)


def zip_of(**files: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


EXCEL_CASES = [
    Case("xlsx-truncated", data("cut.xlsx", lambda: workbook(*GOOD_TABLE)[:1500]), "cut.xlsx",
         "not a valid Excel .xlsx workbook"),
    Case("xlsx-zip-of-something-else",
         data("photos.xlsx", zip_of(**{"holiday.txt": "not a workbook"})), "photos.xlsx",
         "a zip archive without a workbook inside"),
    Case("xlsx-that-is-a-renamed-csv",
         data("renamed.xlsx", rows("Name,Mobile", *GOOD_ROWS, "Cara Clay,").encode()),
         "renamed.xlsx:4", "no phone number", rejected=True, good=("Ann Able", "Ben Bold")),
    Case("xlsx-empty-file", data("nothing.xlsx", b""), "nothing.xlsx", "the file is empty"),
    Case("xlsx-password-protected",
         data("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + seeded_bytes(4000)),
         "locked.xlsx", "password-protected"),
    Case("xlsx-empty-workbook", data("blank.xlsx", lambda: workbook()), "blank.xlsx",
         "no data: every sheet is empty"),
    Case("xlsx-sheet-xml-cut-short",
         data("cut-sheet.xlsx", lambda: rezipped(workbook(*GOOD_TABLE, *FILLER),
                                                 cut_part("xl/worksheets/sheet1.xml"))),
         "cut-sheet.xlsx", "the workbook is damaged: sheet Contacts cannot be read after row"),
    Case("xlsx-sheet-data-corrupt",
         data("corrupt.xlsx", lambda: corrupt_member(workbook(*GOOD_TABLE, *FILLER),
                                                     "xl/worksheets/sheet1.xml")),
         "corrupt.xlsx", "the workbook is damaged and cannot be opened (Bad CRC-32"),
    Case("xlsx-bad-cell-reference",
         data("badref.xlsx", lambda: rezipped(workbook(*GOOD_TABLE), replace_in(
             "xl/worksheets/sheet1.xml", b'r="A2"', b'r="/2"'))),
         "badref.xlsx", "the workbook is damaged: sheet Contacts cannot be read after row 1"),
    Case("xlsx-workbook-part-missing",
         data("noparts.xlsx", lambda: rezipped(workbook(*GOOD_TABLE), drop_part(
             "xl/workbook.xml"))),
         "noparts.xlsx", "the workbook is damaged and cannot be opened"),
    Case("xlsx-30k-character-cell",
         data("long.xlsx", lambda: workbook(*GOOD_TABLE, ["Cara Clay", "07700" * 6000])),
         "long.xlsx Contacts!row 4", "phone value is 30,000 characters long", rejected=True,
         good=("Ann Able", "Ben Bold")),
    Case("xlsx-formula-text-in-a-name",
         data("formula.xlsx", lambda: workbook(*GOOD_TABLE, ["@SUM(A1:A9)", "07700 900103"],
                                               ["Cara Clay", "=B2"])),
         "formula.xlsx Contacts!row 4", "name '@SUM(A1:A9)' is a spreadsheet formula",
         rejected=True, good=("Ann Able", "Ben Bold")),
    Case("xlsx-row-without-a-phone",
         data("book.xlsx", lambda: workbook(*GOOD_TABLE, ["Cara Clay", None],
                                            ["Dev Dunn", 7700900104])),
         "book.xlsx Contacts!row 4", "no phone number", rejected=True,
         good=("Ann Able", "Ben Bold", "Dev Dunn")),
]  # fmt: skip


# -- vCards --------------------------------------------------------------------------------

CARD_ANN = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Able\r\nTEL:07700 900101\r\nEND:VCARD\r\n"

VCARD_CASES = [
    Case("vcf-no-end", corpus("no-end.vcf"), "no-end.vcf card 2",
         "card has no END:VCARD", rejected=True, good=("Ann Able",)),
    Case("vcf-nested-begin", corpus("nested-begin.vcf"), "nested-begin.vcf card 1",
         "card has no END:VCARD (the next card begins on line 5)", rejected=True,
         good=("Ben Bold", "Cara Clay")),
    Case("vcf-end-without-begin", corpus("end-without-begin.vcf"),
         "end-without-begin.vcf card 2", "no BEGIN:VCARD before line 6", rejected=True,
         good=("Ann Able", "Cara Clay")),
    Case("vcf-quoted-printable-runs-on", corpus("bad-qp.vcf"), "bad-qp.vcf card 2",
         "no phone number", rejected=True, good=("Ann Able", "Cara Clay")),
    Case("vcf-base64-garbage", corpus("base64-garbage.vcf"), "base64-garbage.vcf card 2",
         "no phone number", rejected=True, good=("Ann Able", "Cara Clay")),
    Case("vcf-folded-begin", corpus("bad-folding.vcf"), "bad-folding.vcf card 1",
         "no BEGIN:VCARD before line 1", rejected=True, good=("Ben Bold",)),
    Case("vcf-10mb-name",
         data("long-name.vcf", lambda: b"BEGIN:VCARD\r\nFN:" + b"N" * 10 * 2**20
              + b"\r\nTEL:07700 900109\r\nEND:VCARD\r\n" + CARD_ANN),
         "long-name.vcf card 1", "name is 10,485,760 characters long", rejected=True,
         good=("Ann Able",)),
    Case("vcf-number-folded-over-a-million-lines",
         data("folded.vcf", lambda: b"BEGIN:VCARD\r\nFN:Ben Bold\r\nTEL:0" + b"\r\n 7" * 2**20
              + b"\r\nEND:VCARD\r\n" + CARD_ANN),
         "folded.vcf card 1", "phone value is 1,048,577 characters long", rejected=True,
         good=("Ann Able",)),
    Case("vcf-quoted-printable-soft-breaks-over-a-million-lines",
         data("soft.vcf", lambda: b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;ENCODING=QUOTED-PRINTABLE:B"
              + b"=\r\nb" * 2**20 + b"\r\nTEL:07700 900102\r\nEND:VCARD\r\n" + CARD_ANN),
         "soft.vcf card 1", "name is 1,048,577 characters long", rejected=True,
         good=("Ann Able",)),
    Case("vcf-utf16-without-bom",
         data("utf16.vcf", ("BEGIN:VCARD\r\nFN:Zoë Ünal\r\nTEL:07700 900101\r\nEND:VCARD\r\n"
                            "BEGIN:VCARD\r\nFN:Ōta Ren\r\nEND:VCARD\r\n").encode("utf-16-le")),
         "utf16.vcf card 2", "no phone number", rejected=True, good=("Zoë Ünal",)),
    Case("vcf-utf16-without-bom-named-txt",
         data("phones.txt", ("BEGIN:VCARD\r\nFN:Zoë Ünal\r\nTEL:07700 900101\r\nEND:VCARD\r\n"
                             "BEGIN:VCARD\r\nFN:Ōta Ren\r\n").encode("utf-16-be")),
         "phones.txt card 2", "card has no END:VCARD", rejected=True, good=("Zoë Ünal",)),
    Case("vcf-that-is-csv", corpus("not-a-vcard.vcf"), "not-a-vcard.vcf",
         "no BEGIN:VCARD"),
    Case("vcf-nul-byte-in-a-number",
         data("nul.vcf", b"".join(b"BEGIN:VCARD\r\nFN:Person %d\r\nTEL:07700 9001%02d\r\n"
                                  b"END:VCARD\r\n" % (n, n) for n in range(8))
              + b"BEGIN:VCARD\r\nFN:Ann Able\r\nTEL:07700\x00900101\r\nEND:VCARD\r\n"),
         "nul.vcf card 9", r"phone value holds the control character \x00", rejected=True,
         good=("Person 0", "Person 7")),
    Case("vcf-empty", data("empty.vcf", b"  \r\n"), "empty.vcf", "the file is empty"),
    Case("vcf-binary", data("junk.vcf", b"BEGIN:VCARD\r\n" + seeded_bytes(3000)), "junk.vcf",
         "binary data, not a vCard file"),
    Case("vcf-cut-mid-line",
         data("cut.vcf", b"BEGIN:VCARD\r\nFN:Ann Able\r\nTEL:07700 900101\r\nEND:VCARD\r\n"
              b"BEGIN:VCARD\r\nFN:Ben Bold\r\nTEL:077"),
         "cut.vcf card 2", "card has no END:VCARD", rejected=True, good=("Ann Able",)),
]  # fmt: skip


# -- mappings ------------------------------------------------------------------------------


def beside(source: str, option: str, name: str, content: bytes) -> Maker:
    """A corpus source with ``option`` naming a file made here."""

    def make(folder: Path, _plan: dict[str, Any]) -> list[str]:
        path = folder / name
        path.write_bytes(content)
        return [str(CORPUS / source), option, str(path)]

    return make


def mapped(mapping: str) -> Maker:
    return corpus("mapped.csv", "--mapping", mapping)


MAPPING_CASES = [
    Case("mapping-misspelled-setting", mapped("typo-setting.yaml"), "typo-setting.yaml:3",
         "phone: unknown setting; did you mean 'phones'?"),
    Case("mapping-misspelled-column", mapped("misspelled-column.yaml"), "mapped.csv:1",
         "names column 'Ful Name' not in the header"),
    Case("mapping-yaml-syntax-error", mapped("syntax-error.yaml"), "syntax-error.yaml:3",
         "not valid YAML"),
    Case("mapping-setting-given-twice", mapped("duplicate-setting.yaml"),
         "duplicate-setting.yaml:4", "'phones' is given twice (first on line 2)"),
    Case("mapping-nested-too-deeply",
         beside("mapped.csv", "--mapping", "deep.yaml", b"name: " + b"[" * 50_000 + b"]" * 50_000),
         "deep.yaml", "not valid YAML: nested too deeply"),
    Case("mapping-bad-unicode-escape",
         beside("mapped.csv", "--mapping", "escape.yaml",
                b'phones: [Mobile]\nname: "Full Name\\U00110000"\n'),
         "escape.yaml:2", "not valid YAML: a bad escape in a quoted string"),
    Case("mapping-list-where-a-dict-belongs", mapped("list-not-dict.yaml"),
         "list-not-dict.yaml:1", "the file must be a mapping, not a list"),
    Case("mapping-tab-indentation", mapped("tab-indent.yaml"), "tab-indent.yaml:3",
         "not valid YAML"),
    Case("mapping-phones-nested-list", mapped("phones-nested-list.yaml"),
         "phones-nested-list.yaml:2", "phones[0]: must be a column name or a mapping, not a list"),
    Case("mapping-label-not-text", mapped("label-not-text.yaml"), "label-not-text.yaml:3",
         "phones[0].label: must be text, not a mapping"),
    Case("mapping-preferred-maybe", mapped("preferred-maybe.yaml"), "preferred-maybe.yaml:3",
         "phones[0].preferred: must be true or false, not the text 'maybe'"),
    Case("mapping-flag-as-text", mapped("allow-missing-as-text.yaml"),
         "allow-missing-as-text.yaml:3",
         "allow_missing_columns: must be true or false, not the text 'no'"),
    Case("mapping-template-naming-no-column", mapped("template-no-column.yaml"),
         "template-no-column.yaml:1", "name: '{Full Name' opens a '{' at character 1 that is "
         "never closed"),
    Case("mapping-detect-not-a-list-of-lists", mapped("detect-not-nested.yaml"),
         "detect-not-nested.yaml:3", "detect[0]: must be a list, not the text 'Full Name'"),
    Case("mapping-file-missing", mapped("no-such-mapping.yaml"), "no-such-mapping.yaml",
         "mapping file not found"),
    Case("mapping-for-a-vcard", corpus("no-end.vcf", "--mapping", "sipalto"),
         "--mapping", "applies to tables"),
]  # fmt: skip


# -- decisions -----------------------------------------------------------------------------


def decided(decisions: str) -> Maker:
    return corpus("decided.csv", "--decisions", decisions)


def decided_data(name: str, content: bytes) -> Maker:
    return beside("decided.csv", "--decisions", name, content)


DECISION_CASES = [
    Case("decisions-unknown-action", decided("decision-unknown-action.yaml"),
         "decision-unknown-action.yaml:2",
         "C2: expected add, skip or match <contact id>, got 'nuke' (allowed: add, skip,",
         commands=("plan",)),
    Case("decisions-match-without-id", decided("decision-match-without-id.yaml"),
         "decision-match-without-id.yaml:1", "C1: expected add, skip or match <contact id>, "
         "got 'match'", commands=("plan",)),
    Case("decisions-yaml-syntax-error", decided("decision-syntax-error.yaml"),
         "decision-syntax-error.yaml:2", "not valid YAML", commands=("plan",)),
    Case("decisions-key-given-twice", decided("decision-duplicate-key.yaml"),
         "decision-duplicate-key.yaml:3", "'C1' is given twice (first on line 1)",
         commands=("plan",)),
    Case("decisions-match-id-a-list", decided("decision-match-id-a-list.yaml"),
         "decision-match-id-a-list.yaml:1",
         "C1.match: must be text, not a list (allowed: a contact id, such as '30001')",
         commands=("plan",)),
    Case("decisions-nested-too-deeply",
         decided_data("deep.yaml", b"C1: " + b"[" * 50_000 + b"]" * 50_000),
         "deep.yaml", "not valid YAML: nested too deeply", commands=("plan",)),
    Case("decisions-csv-quote-left-open",
         decided_data("open.csv", rows("source_key,decision", "C1,add", '"C2,skip').encode()),
         "open.csv:3", "cannot read CSV: unexpected end of data", commands=("plan",)),
    Case("decisions-csv-shifted-row",
         decided_data("shifted.csv", rows("action,source_key,name,decision", "add,C1,Ann,add",
                                          "add,C2,Bold, Ben,skip").encode()),
         "shifted.csv:3", "row has 5 fields, the header has 4", commands=("plan",)),
    Case("decisions-csv-10mb-field",
         decided_data("huge.csv", rows("source_key,decision", "C1,add").encode()
                      + b"C2," + b"s" * 10 * 2**20 + b"\n"),
         "huge.csv:3", "cannot read CSV: field larger than field limit", commands=("plan",)),
    Case("decisions-key-with-a-line-break",
         decided_data("break.yaml", b'"C\\n1": merge\n'), "break.yaml:1",
         "'C\\n1': expected add, skip or match <contact id>, got 'merge'", commands=("plan",)),
    Case("decisions-control-character",
         decided_data("bell.yaml", b"C1: add\nC2: skip\x07\n"), "bell.yaml:2",
         "not valid YAML: unacceptable character #x0007", commands=("plan",)),
    Case("decisions-list-where-a-dict-belongs", decided("decision-list.yaml"),
         "decision-list.yaml:1", "the file must be a mapping, not a list (allowed: a mapping, "
         "each value add, skip, match <contact id>", commands=("plan",)),
    Case("decisions-csv-bad-action", decided("decision-bad-action.csv"),
         "decision-bad-action.csv:3", "decision: expected add, skip or match <contact id>, got "
         "'merge'", commands=("plan",)),
    Case("decisions-csv-missing-columns", decided("decision-missing-columns.csv"),
         "decision-missing-columns.csv:1", "needs a source_key column and a decision column",
         commands=("plan",)),
]  # fmt: skip


# -- plan files edited by hand ---------------------------------------------------------------

PLAN_SOURCE = rows(
    "Name,Mobile,Work", *(f"{row}," for row in GOOD_ROWS), "McDonald's,01491835522,07700 900103"
)


def edited(change: Callable[[dict[str, Any]], Any]) -> Maker:
    """The good plan, changed by ``change`` (which edits it in place or returns the text)."""

    def make(folder: Path, plan: dict[str, Any]) -> list[str]:
        document = copy.deepcopy(plan)
        text = change(document)
        if text is None:
            text = json.dumps(document, indent=2)
        path = folder / "plan.json"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return [str(path)]

    return make


def setting(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(plan: dict[str, Any]) -> None:
        target = plan
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def removing(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(plan: dict[str, Any]) -> None:
        target = plan
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def twice(index: int) -> Callable[[dict[str, Any]], None]:
    """The item at ``index`` once more at the end, the summary counting it."""

    def change(plan: dict[str, Any]) -> None:
        item = plan["items"][index]
        plan["items"].append(copy.deepcopy(item))
        plan["summary"][item["action"]] += 1

    return change


def plan_case(
    id: str,
    change: Callable[[dict[str, Any]], Any],
    where: str,
    message: str,
    *,
    apply_only: bool = False,
) -> Case:
    """A plan file edited by hand: ``apply`` refuses it, and ``report`` too unless only
    applying it is wrong (``apply_only``: what the file asks cannot be carried out)."""
    commands = ("apply",) if apply_only else ("apply", "report")
    return Case(id, edited(change), where, message, commands=commands)


PLAN_CASES = [
    plan_case("plan-truncated-json", lambda p: json.dumps(p)[:300], "plan.json",
              "not a plan file (invalid JSON"),
    plan_case("plan-empty", lambda p: "", "plan.json", "invalid JSON"),
    plan_case("plan-utf16", lambda p: json.dumps(p).encode("utf-16"), "plan.json",
              "cannot read plan file"),
    plan_case("plan-a-list", lambda p: "[]", "plan.json", "plan must be an object"),
    plan_case("plan-wrong-version", setting(("version",), 2), "plan.json",
              "version 2 is not supported"),
    plan_case("plan-version-as-text", setting(("version",), "1"), "plan.json",
              "version '1' is not supported"),
    plan_case("plan-summary-mismatch", setting(("summary", "add"), 7), "plan.json",
              "summary does not match the items (add: 7 in the summary, 2 in the items"),
    plan_case("plan-version-missing", removing(("version",)), "plan.json", "no version"),
    plan_case("plan-huge-integer",
              lambda p: json.dumps(p).replace('"version": 1', '"version": 1' + "0" * 5000),
              "plan.json", "not a plan file (Exceeds the limit"),
    plan_case("plan-nested-too-deeply", lambda p: "[" * 100_000 + "]" * 100_000, "plan.json",
              "not a plan file (nested too deeply)"),
    plan_case("plan-id-on-an-add", setting(("items", 0, "id"), "11111"), "plan.json",
              "plan item 1 is an add with id '11111'"),
    plan_case("plan-unknown-contact-field", setting(("items", 1, "after", "phone4"), "1009"),
              "plan.json", "plan item 2 after has unknown field 'phone4'"),
    plan_case("plan-two-writes-to-one-contact", twice(2), "plan.json",
              "plan item 4 writes contact 22222 again (plan item 3 already does)"),
    plan_case("plan-items-missing", removing(("items",)), "plan.json", "items must be a list"),
    plan_case("plan-item-not-an-object", setting(("items", 1), "add"), "plan.json",
              "plan item 2 must be an object"),
    plan_case("plan-unknown-action", setting(("items", 0, "action"), "upsert"), "plan.json",
              "plan item 1 has unknown action 'upsert'"),
    plan_case("plan-add-without-after", removing(("items", 1, "after")), "plan.json",
              "plan item 2: an add needs a name and phone1", apply_only=True),
    plan_case("plan-update-without-before", removing(("items", 2, "before")), "plan.json",
              "plan item 3: an update needs an id, 'before' and 'after'", apply_only=True),
    plan_case("plan-id-as-a-number", setting(("items", 2, "id"), 22222), "plan.json",
              "plan item 3 id must be a string"),
    plan_case("plan-name-as-a-number", setting(("items", 0, "after", "name"), 5), "plan.json",
              "plan item 1 after"),
    plan_case("plan-score-as-text", setting(("items", 0, "score"), "high"), "plan.json",
              "plan item 1 score must be a number"),
    plan_case("plan-bad-created-at", setting(("created_at",), "yesterday"), "plan.json",
              "created_at is not an ISO date"),
    plan_case("plan-server-missing", removing(("server",)), "plan.json",
              "server must be a string"),
    plan_case("plan-bad-region", setting(("settings", "region"), "XX"), "plan.json",
              "unknown region 'XX'"),
    plan_case("plan-bad-decision", setting(("settings", "decisions"), {"C1": "nuke"}),
              "plan.json", "bad settings"),
    plan_case("plan-infinite-match-setting",
              lambda p: json.dumps(p).replace('"max_candidates": 5', '"max_candidates": Infinity'),
              "plan.json", "match setting max_candidates must be a finite number"),
    plan_case("plan-for-another-server", setting(("server",), "http://127.0.0.1:9"),
              "plan.json", "was made against http://127.0.0.1:9", apply_only=True),
]  # fmt: skip


CASES = [*TEXT_CASES, *EXCEL_CASES, *VCARD_CASES, *MAPPING_CASES, *DECISION_CASES, *PLAN_CASES]


def test_the_corpus_is_large_and_named_uniquely() -> None:
    assert len(CASES) >= 50
    assert len({case.id for case in CASES}) == len(CASES)


# -- running a case --------------------------------------------------------------------------


@pytest.fixture
def good_plan(run_cli, tmp_path: Path) -> Callable[[], dict[str, Any]]:
    """The plan file ``plan`` writes for :data:`PLAN_SOURCE` against the sandbox."""

    def make() -> dict[str, Any]:
        source = tmp_path / "plan-source.csv"
        source.write_text(PLAN_SOURCE, encoding="utf-8")
        out = tmp_path / "good-plan.json"
        result = run_cli("plan", str(source), "--out", str(out), "-q")
        assert result.exit_code == 0, result.output
        plan: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        assert [item["action"] for item in plan["items"]] == ["add", "add", "update"]
        return plan

    return make


def run(run_cli, command: str, args: list[str], folder: Path) -> tuple[Result, list[str], set[str]]:
    """Run ``command``; give the result, the lines that report problems, and the names
    of the records read as good (``inspect``) or planned (``plan``)."""
    out = folder / "out.json"
    if command == "apply":
        home = {"SIPALTO_SYNC_HOME": str(folder / "home")}
        result = run_cli("apply", *args, "--yes", "-q", env=home)
        return result, result.stderr.splitlines(), set()
    if command == "report":
        result = run_cli("report", *args, "-o", str(folder / "plan.html"), "-q")
        assert not (folder / "plan.html").exists()
        return result, result.stderr.splitlines(), set()
    result = run_cli(command, *args, "--format", "json", "-o", str(out), "-q")
    lines = result.stderr.splitlines()
    if not out.is_file() or not out.read_text(encoding="utf-8").strip():
        return result, lines, set()
    document = json.loads(out.read_text(encoding="utf-8"))
    if command == "inspect":
        return result, lines, {r["name"] for r in document if not r["problems"]}
    for item in document["items"]:
        if item["action"] == "rejected":
            lines.append(f"{item['source']['location']}: rejected: {item['reason']}")
    planned = {item["after"]["name"] for item in document["items"] if item["after"]}
    return result, lines, planned


PARAMS = [
    pytest.param(
        case, command, id=f"{case.id}-{command}", marks=[pytest.mark.slow] if case.slow else []
    )
    for case in CASES
    for command in case.commands
]


@pytest.mark.parametrize(("case", "command"), PARAMS)
def test_bad_input_gives_one_line_naming_the_place(
    case: Case, command: str, run_cli, sandbox, good_plan, tmp_path: Path
) -> None:
    args = case.make(tmp_path, good_plan() if command in ("apply", "report") else {})
    start = time.monotonic()
    result, lines, good = run(run_cli, command, args, tmp_path)
    took = time.monotonic() - start
    assert "Traceback" not in result.output
    assert "Internal error" not in result.output
    assert "Warning: " not in result.output  # a library's warning is not a message
    assert result.exit_code == case.exit_code(command), result.output
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) <= 1, errors
    named = [line for line in lines if case.where in line and case.message in line]
    assert named, f"no line names {case.where!r} and says {case.message!r}: {lines}"
    assert set(case.good) <= good, f"good records lost: {set(case.good) - good}"
    if command == "apply":
        assert sandbox.state.snapshot() == SMALL_BOOK  # a refused plan writes nothing
    # The largest cases take a second or two; a reader that is quadratic in a line's
    # length or a field's takes minutes on them.
    assert took < case.seconds, f"{command} took {took:.0f}s"


# -- the one reader of hand-written YAML -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: {c: 1, c: 2}\n", r"m\.yaml:2: not valid YAML: 'c' is given twice"),
        ("- {x: 1}\n- x: 1\n  x: 2\n", r"m\.yaml:3: not valid YAML: 'x' is given twice"),
        ("a: [1\n", r"m\.yaml:2: not valid YAML: expected ',' or '\]'"),
        ("a: !!python/name:os.system\n", r"m\.yaml:1: not valid YAML: could not determine"),
        ("a: " + "{b: " * 20_000, r"m\.yaml: not valid YAML: nested too deeply"),
    ],
)
def test_yaml_mistakes_are_one_line_with_the_place(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_yaml(text, origin="m.yaml")
    assert "\n" not in str(caught.value)


def test_yaml_merge_keys_may_still_be_overridden() -> None:
    text = "base: &base {label: work, preferred: false}\nphone: {<<: *base, label: home}\n"
    assert load_yaml(text, origin="m.yaml")["phone"] == {"label": "home", "preferred": False}
