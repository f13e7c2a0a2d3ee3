"""Hypothesis fuzzing of what reads what people type: the CSV and vCard readers, the mapping
loader and the phone normaliser; and of the files people edit by hand, plan files and
decisions files.

The invariant: whatever the input, nothing escapes but the project's own errors
(:class:`~connector.errors.SipaltoSyncError` and its subclasses), each a single line the
command line can show as it is, and no example takes long. A record with problems is a
fine outcome; a ``ValueError`` from deep inside a parser is not.

Each property runs :data:`QUICK` examples in the ordinary run; its ``_long`` twin runs
:data:`LONG` and is marked ``slow``.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.mapping import Mapping, load_mapping
from connector.errors import ConfigError, PlanError, SipaltoSyncError, SourceError
from connector.model import MAX_PHONES, ContactFields, RawPhone, SourceRecord
from connector.reconcile.decisions import Decision, load_decisions
from connector.reconcile.phones import PhoneNormaliser
from connector.reconcile.plan import Candidate, Plan, PlanItem, PlanSettings, SourceRef
from connector.reconcile.workflow import SourceOptions, read_source

#: Examples per property in the ordinary run, and in the ``slow`` run.
QUICK, LONG = 100, 1_000
#: The longest one example may take (they take milliseconds): more is a blow-up that real
#: files, larger than these, would turn into minutes.
EXAMPLE_SECONDS = 5.0

Check = Callable[..., None]


def fuzz(check: Check, *strategies: st.SearchStrategy[Any]) -> tuple[Check, Check]:
    """A property test of ``check`` over ``strategies``, and its ``slow`` twin."""

    def run(examples: int) -> Check:
        chosen = settings(
            max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        )
        return chosen(given(*strategies)(check))

    return run(QUICK), pytest.mark.slow(run(LONG))


class TookTooLong(Exception):
    """An example ran past :data:`EXAMPLE_SECONDS`."""


@contextmanager
def bounded(what: str) -> Iterator[None]:
    """Fail an example that takes longer than :data:`EXAMPLE_SECONDS`, stopping it then
    where the platform allows (an exponential blow-up would otherwise never end)."""

    def stop(_signal: int, _frame: object) -> None:
        raise TookTooLong(f"{what} took more than {EXAMPLE_SECONDS:.0f}s")

    timer = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if timer:
        previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, EXAMPLE_SECONDS)
    start = time.perf_counter()
    try:
        yield
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    took = time.perf_counter() - start
    assert took < EXAMPLE_SECONDS, f"{what} took {took:.1f}s"


def assert_one_line(exc: SipaltoSyncError) -> None:
    """What the command line prints is ``str(exc)``: it must be one non-empty line."""
    text = str(exc)
    assert text.strip() and "\n" not in text and "\r" not in text, repr(text)


def read_file(name: str, data: bytes, **options: Any) -> list[SourceRecord] | None:
    """Every record of ``data`` saved as ``name``; None when a project error refused it."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(data)
        with bounded(f"reading {name}"):
            try:
                return list(read_source(path, SourceOptions(**options)).records)
            except SipaltoSyncError as exc:
                assert_one_line(exc)
                return None


def check_records(records: list[SourceRecord] | None) -> None:
    """Usable records are complete; rejected ones say why, each reason one line."""
    for record in records or ():
        assert record.location and record.key
        if not record.problems:
            assert record.name and record.phones
        for problem in record.problems:
            assert problem.strip() and "\n" not in problem, repr(problem)


# -- CSV -----------------------------------------------------------------------------------

HEADERS = st.sampled_from(
    ["Name", "Full Name", "First Name", "Last Name", "Company", "Phone", "Mobile",
     "Work", "Phone 1 - Value", "Phone 1 - Label", "ID", "Fax", "", "Notes", "E-mail",
     "Given Name", "Mobile Phone", "Business Phone", "name", "phone1"]
)  # fmt: skip
CELL = st.one_of(
    st.text(max_size=20),
    st.from_regex(r"\+?[0-9][0-9 ()\-]{4,16}[0-9]", fullmatch=True),
    st.sampled_from(['"', '""', "=", '="0770"', "\n", "\r", "\x00", "sep=;", ",", ";", "\t",
                     "7.7E+09", "07700900123.0", "n/a", ":::", "\ufeff", "ext 204", "* Mobile",
                     "=HYPERLINK(1)", "\x1b", "x" * 1_500]),
)  # fmt: skip
# Mostly text, a few bytes of anything: what a damaged or misnamed text file holds.
TEXTISH_BYTES = st.lists(
    st.sampled_from([b"Name", b"Phone", b",", b";", b"\t", b"\n", b"\r\n", b'"', b"0770", b" "])
    | st.binary(max_size=3),
    max_size=300,
).map(b"".join)


def check_csv_any_bytes(data: bytes, name: str) -> None:
    check_records(read_file(name, data))


test_csv_reader_takes_any_bytes, test_csv_reader_takes_any_bytes_long = fuzz(
    check_csv_any_bytes,
    st.binary(max_size=3_000) | TEXTISH_BYTES,
    st.sampled_from(["c.csv", "c.txt", "c.tsv", "c.xls", "c.xlsx", "c"]),
)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    """Rows of plausible and hostile cells, joined by the csv module or by hand (quotes
    left open on purpose), in an encoding people send, read with options people give."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(st.lists(HEADERS, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(CELL, max_size=8), max_size=12))
    if draw(st.booleans()):
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter).writerows([header, *rows])
        text = buffer.getvalue()
    else:
        eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        text = eol.join(delimiter.join(row) for row in [header, *rows])
    text = draw(st.sampled_from(["", "", "sep=,\n", "Contacts export\n", "\n\n"])) + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"]))
    options = {
        "encoding": draw(st.sampled_from([None, None, "utf-8", "latin-1", "cp1252", "utf-16"])),
        "mapping": draw(st.sampled_from([None, None, "google-contacts", "outlook", "sipalto"])),
        "header_row": draw(st.sampled_from([None, None, 1, 2, 5])),
    }
    return text.encode(encoding, "replace"), options


def check_csv_shapes(case: tuple[bytes, dict[str, Any]]) -> None:
    data, options = case
    check_records(read_file("contacts.csv", data, **options))


test_csv_reader_takes_any_csv_shaped_text, test_csv_reader_takes_any_csv_shaped_text_long = fuzz(
    check_csv_shapes, csv_files()
)


# -- vCard ---------------------------------------------------------------------------------

VCARD_LINE = st.one_of(
    st.sampled_from(
        ["BEGIN:VCARD", "END:VCARD", "begin:vcard", "VERSION:2.1", "VERSION:3.0", "VERSION:4.0",
         "FN:Ann Able", "N:Able;Ann;;;", "ORG:Acme;Sales", "TEL;TYPE=CELL:07700 900001",
         "TEL;CELL;PREF:+44 7700 900002", "TEL;VALUE=uri:tel:+44-20-7946-0123;ext=4",
         "item1.TEL:07700900003", "item1.X-ABLabel:_$!<Mobile>!$_", "UID:abc", "AGENT:",
         "FN;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:=C3=A9=", "=C3", "=ZZ=", " folded",
         "\tfolded", "PHOTO;ENCODING=b:QUJD", "QUJDRA==", "TEL;X-CUSTOM(CHARSET=UTF-8,"
         "ENCODING=QUOTED-PRINTABLE,=4C):1", 'TEL;TYPE="a:b":1', "X-ABShowAs:COMPANY",
         "FN;CHARSET=nonsense:x", "TEL;PREF=99999999999999999999:1", "#comment", "",
         "FN:=cmd|' /C calc'!A0", "TEL:07700\x00900001", "X-SIPALTO-ID:30001"]
    ),
    st.text(max_size=40),
    st.builds(
        lambda name, params, value: f"{name}{params}:{value}",
        st.sampled_from(["FN", "N", "TEL", "ORG", "UID", "X-SIPALTO-ID", "VERSION", "g.TEL"]),
        st.text(";=,\"TYPE-ENCODINGQPBbase64CHARSETutf8()", max_size=25),
        st.text(max_size=30),
    ),
)  # fmt: skip


@st.composite
def vcard_files(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(VCARD_LINE, max_size=40))
    eol = draw(st.sampled_from(["\r\n", "\n", "\r", "\r\r\n"]))
    text = "BEGIN:VCARD" + eol + eol.join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-16-le", "cp1252", "latin-1"]))
    return text.encode(encoding, "replace")


def check_vcard_lines(data: bytes, charset: str | None) -> None:
    check_records(read_file("contacts.vcf", data, encoding=charset))


(
    test_vcard_reader_takes_any_lines_among_cards,
    test_vcard_reader_takes_any_lines_among_cards_long,
) = fuzz(check_vcard_lines, vcard_files(), st.sampled_from([None, None, "cp1252", "shift_jis"]))


def check_vcard_bytes(data: bytes) -> None:
    check_records(read_file("c.vcf", b"BEGIN:VCARD\r\n" + data))


test_vcard_reader_takes_any_bytes_in_a_card, test_vcard_reader_takes_any_bytes_in_a_card_long = (
    fuzz(check_vcard_bytes, st.binary(max_size=2_000) | TEXTISH_BYTES)
)


# -- mappings ------------------------------------------------------------------------------

YAML_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=15),
    st.sampled_from(["Name", "{Name}", "{First} {Last}", "Phone {n}", "{", "}", "{}", "{{x}}",
                     "Mobile", "Phone {n} - Label", "*", "", "{n}", "Phone {n} - Value"]),
)  # fmt: skip
YAML_KEY = st.sampled_from(["column", "label", "label_column", "preferred", "x", "name"]) | st.text(
    max_size=8
)
YAML_VALUE = st.recursive(
    YAML_SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(YAML_KEY, inner, max_size=4),
    max_leaves=12,
)
SETTING = st.sampled_from(
    ["name", "phones", "key", "description", "detect", "allow_missing_columns", "phone", "nmae"]
) | st.text(max_size=8)
MAPPING_DICT = st.dictionaries(SETTING, YAML_VALUE, max_size=6)
MAPPING_HEADERS = st.lists(HEADERS | st.text(max_size=10), max_size=8)
MAPPING_ROWS = st.lists(st.lists(st.text(max_size=10), max_size=9), max_size=4)


def check_mapping(mapping: Mapping, headers: list[str], rows: list[list[str]]) -> None:
    """A loaded mapping binds to a header row or says why not; bound, it reads any row."""
    try:
        bound = mapping.bind(headers, path="c.csv", line=1)
    except SourceError as exc:
        assert_one_line(exc)
        assert exc.line == 1
        return
    for row in rows:
        bound.key_of(row)
        bound.name_of(row)
        for phone in bound.phones_of(row):
            assert isinstance(phone, RawPhone)


def check_mapping_dict(data: object, headers: list[str], rows: list[list[str]]) -> None:
    try:
        mapping = Mapping.from_dict(data, name="m", origin="m.yaml")
    except ConfigError as exc:
        assert_one_line(exc)
        assert str(exc).startswith("m.yaml")
        return
    check_mapping(mapping, headers, rows)


test_mapping_from_any_dict_loads_or_says_why, test_mapping_from_any_dict_loads_or_says_why_long = (
    fuzz(check_mapping_dict, MAPPING_DICT | YAML_VALUE, MAPPING_HEADERS, MAPPING_ROWS)
)


@st.composite
def yaml_documents(draw: st.DrawFn) -> str:
    """A dumped settings dict, sometimes cut, spliced or sprinkled with YAML syntax."""
    text = yaml.safe_dump(draw(MAPPING_DICT), allow_unicode=True)
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(text)))
        junk = draw(
            st.text(":-[]{}&*!|>'\"#%@`\t\n ?,abc", max_size=12)
            | st.sampled_from(
                ["\t", ": :", "- - -", "&a [*a]", "!!python/object:os.system", "\x00", "<<: *a"]
            )
        )
        text = text[:cut] + junk + text[cut:]
    return text


def check_mapping_yaml(text: str, headers: list[str], rows: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "m.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            mapping = load_mapping(path)
        except ConfigError as exc:
            assert_one_line(exc)
            assert str(exc).startswith(str(path)), str(exc)
            return
    check_mapping(mapping, headers, rows)


(
    test_mapping_file_of_any_yaml_loads_or_says_why,
    test_mapping_file_of_any_yaml_loads_or_says_why_long,
) = fuzz(check_mapping_yaml, yaml_documents(), MAPPING_HEADERS, MAPPING_ROWS)


# -- phone numbers -------------------------------------------------------------------------

PHONE_LIKE = st.one_of(
    st.text(max_size=60),
    st.text("0123456789 +-()./,;:x#extpw\nABCDEFMOB", max_size=80),
    st.lists(st.from_regex(r"\+?[0-9]{1,5}", fullmatch=True), max_size=30).map(" ".join),
    # A run of short groups: too many digits for one number, many ways to cut it.
    st.lists(st.from_regex(r"0?[0-9]{2,4}", fullmatch=True), min_size=8, max_size=40).map(" ".join),
)
NORMALISERS = {region: PhoneNormaliser(region) for region in ("GB", "US", "DE", "IE")}


def check_phone_text(text: str, region: str) -> None:
    normaliser = NORMALISERS[region]
    with bounded(f"normalising {text!r}"):
        results = normaliser.parse_value(text)
        normaliser.canonical(text)
        phones = normaliser.normalise_record_phones([RawPhone(text), RawPhone(text[::-1])])
    for result in results:
        assert bool(result.number) != bool(result.error)
    assert len(phones.numbers) <= MAX_PHONES
    for number in phones.numbers:
        assert number.lstrip("+").isdigit(), number


test_phone_normaliser_takes_any_string, test_phone_normaliser_takes_any_string_long = fuzz(
    check_phone_text, PHONE_LIKE, st.sampled_from(sorted(NORMALISERS))
)


# -- plan files and decisions files, edited by hand ------------------------------------------

GOOD_PLAN = Plan(
    plan_id="0" * 32,
    created_at=datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc),
    server="http://127.0.0.1:8765",
    base="sha256:0",
    settings=PlanSettings(decisions={"k4": Decision("skip")}),
    items=(
        PlanItem("add", after=ContactFields("Ann Able", "07700900101"),
                 source=SourceRef("k1", "c.csv:2"), reason="new", warnings=("kept",)),
        PlanItem("update", id="30001", before=ContactFields("Ben", "01491833000"),
                 after=ContactFields("Ben Bold", "01491833000", "07700900102"),
                 source=SourceRef("k2", "c.csv:3"), reason="changed", score=93.5),
        PlanItem("review", after=ContactFields("Cara Clay", "07700900103"),
                 source=SourceRef("k3", "c.csv:4"), reason="same name",
                 candidates=(Candidate("30002", ContactFields("Cara", "1009"), 90.0, "name"),)),
        PlanItem("delete", id="30003", before=ContactFields("Dev Dunn", "07700900104"),
                 reason="gone"),
    ),
).to_json()  # fmt: skip
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(YAML_KEY, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def edited_plans(draw: st.DrawFn) -> Any:
    """The good plan with a few values replaced, removed or added anywhere in it."""
    document = copy.deepcopy(GOOD_PLAN)
    for _ in range(draw(st.integers(1, 4))):
        target: Any = document
        for _ in range(draw(st.integers(0, 4))):
            keys = sorted(target) if isinstance(target, dict) else range(len(target))
            if not keys:
                break
            key = draw(st.sampled_from(list(keys)))
            if not isinstance(target[key], (dict, list)):
                break
            target = target[key]
        if isinstance(target, dict):
            key = draw(st.sampled_from([*sorted(target), "id", "phone4", "x"]))
            if key in target and draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(JSON_VALUE)
        elif target and draw(st.booleans()):
            target[draw(st.integers(0, len(target) - 1))] = draw(JSON_VALUE)
        else:
            target.append(draw(JSON_VALUE))
    return document


def check_plan_document(document: Any) -> None:
    try:
        Plan.from_json(document)
    except PlanError as exc:
        assert_one_line(exc)


(
    test_plan_file_edited_anyhow_loads_or_says_why,
    test_plan_file_edited_anyhow_loads_or_says_why_long,
) = fuzz(check_plan_document, edited_plans())

DECISIONS_TEXT = st.one_of(
    st.text(max_size=200),
    JSON_VALUE.map(json.dumps),
    st.lists(
        st.sampled_from(["source_key,decision", "k1,add", "k2,match 30001", '"k3,skip', "k4",
                         "k5,merge", "sep=;", "k6;skip", ",add", "k7,add,extra"]),
        max_size=6,
    ).map("\n".join),
)  # fmt: skip


def check_decisions_file(text: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            load_decisions(path)
        except ConfigError as exc:
            assert_one_line(exc)
            assert str(exc).startswith(str(path)), str(exc)


(
    test_decisions_file_of_any_text_loads_or_says_why,
    test_decisions_file_of_any_text_loads_or_says_why_long,
) = fuzz(check_decisions_file, DECISIONS_TEXT, st.sampled_from(["d.yaml", "d.json", "d.csv"]))
