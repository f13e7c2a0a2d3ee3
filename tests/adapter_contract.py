"""The behaviour every source adapter must share, checked the same way for each format.

Each adapter's test module subclasses :class:`AdapterContract` and only says how to
write a list of :class:`Person` values in its format (the way vdirsyncer's
``StorageTests`` is subclassed once per storage backend).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from adapters import open_source
from adapters.base import NO_NAME, NO_PHONE
from connector.errors import SourceError, UnsupportedFormat


@dataclass(frozen=True)
class Person:
    """One contact as a test writes it: a source id, a name, raw phone values."""

    key: str
    name: str
    phones: tuple[str, ...]


#: The people every adapter must read back: odd characters, raw number formats,
#: one without a number and one without a name.
PEOPLE: tuple[Person, ...] = (
    Person("P-1", "Amelia Hartley", ("07700 900101", "0113 496 0101")),
    Person("P-2", "Zoë Ní Bhriain-Łukasiewicz", ("+44 (0)20 7946 0102",)),
    Person("P-3", "Harrow & Pike Reception", ("01632 960000", "0161-496-0103 ext. 12")),
    Person("P-4", "Emily Dawson", ()),
    Person("P-5", "", ("07700 900105",)),
    Person("P-6", "Mohammed Rahman", ("07700900106", "0121 496 0106", "+447700900107")),
)


class AdapterContract:
    """Shared tests; subclasses set ``format_name`` and ``suffix`` and implement ``write``."""

    format_name: ClassVar[str]
    suffix: ClassVar[str]

    def write(self, path: Path, people: Sequence[Person]) -> None:
        """Write ``people`` to ``path`` the way a real export in this format would."""
        raise NotImplementedError

    @pytest.fixture
    def source_path(self, tmp_path: Path) -> Path:
        path = tmp_path / f"contacts{self.suffix}"
        self.write(path, PEOPLE)
        return path

    def test_the_registry_picks_this_adapter_from_the_extension(self, source_path: Path) -> None:
        assert open_source(source_path).format_name == self.format_name

    def test_format_override_reads_a_file_with_any_extension(self, source_path: Path) -> None:
        renamed = source_path.with_suffix(".dat")
        shutil.copy(source_path, renamed)
        source = open_source(renamed, format=self.format_name)
        assert [r.name for r in source.records()] == [p.name for p in PEOPLE]

    def test_content_alone_is_enough_without_an_extension(self, source_path: Path) -> None:
        bare = source_path.with_suffix("")
        shutil.copy(source_path, bare)
        assert open_source(bare).format_name == self.format_name

    def test_every_record_is_yielded_in_file_order(self, source_path: Path) -> None:
        records = list(open_source(source_path).records())
        assert [r.name for r in records] == [p.name for p in PEOPLE]

    def test_phone_values_come_back_exactly_as_written(self, source_path: Path) -> None:
        records = list(open_source(source_path).records())
        assert [tuple(p.value for p in r.phones) for r in records] == [p.phones for p in PEOPLE]

    def test_a_record_without_a_number_is_rejected_with_its_reason(self, source_path: Path) -> None:
        record = list(open_source(source_path).records())[3]
        assert record.name == "Emily Dawson"
        assert record.problems == (NO_PHONE,)
        assert not record.ok

    def test_a_record_without_a_name_is_rejected_with_its_reason(self, source_path: Path) -> None:
        record = list(open_source(source_path).records())[4]
        assert record.problems == (NO_NAME,)
        assert record.phones

    def test_usable_records_have_no_problems(self, source_path: Path) -> None:
        records = list(open_source(source_path).records())
        assert [r.ok for r in records] == [bool(p.name and p.phones) for p in PEOPLE]

    def test_keys_are_the_source_ids(self, source_path: Path) -> None:
        assert [r.key for r in open_source(source_path).records()] == [p.key for p in PEOPLE]

    def test_keys_are_the_same_on_every_run(self, source_path: Path) -> None:
        first = [r.key for r in open_source(source_path).records()]
        second = [r.key for r in open_source(source_path).records()]
        assert first == second

    def test_locations_name_the_file_and_tell_records_apart(self, source_path: Path) -> None:
        source = open_source(source_path)
        locations = [r.location for r in source.records()]
        assert len(set(locations)) == len(PEOPLE)
        assert all(isinstance(loc, str) and loc for loc in locations)
        if self.format_name != "xlsx":  # a workbook's rows are named by sheet instead
            assert all(source_path.name in loc for loc in locations)

    def test_records_can_be_read_again(self, source_path: Path) -> None:
        source = open_source(source_path)
        assert list(source.records()) == list(source.records())

    def test_records_stream_lazily(self, source_path: Path) -> None:
        records = open_source(source_path).records()
        assert iter(records) is records
        assert next(records).name == PEOPLE[0].name

    def test_a_whole_file_is_not_cut_short(self, source_path: Path) -> None:
        source = open_source(source_path)
        assert source.cut_short is None
        list(source.records())
        assert source.cut_short is None

    def test_messages_are_text_lines(self, source_path: Path) -> None:
        messages = open_source(source_path).messages
        assert all(isinstance(m, str) and "\n" not in m for m in messages)

    def test_an_empty_file_is_an_error_naming_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / f"empty{self.suffix}"
        path.write_bytes(b"")
        with pytest.raises(SourceError) as caught:
            open_source(path)
        assert str(path) in str(caught.value)

    def test_a_missing_file_is_an_error_naming_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / f"missing{self.suffix}"
        with pytest.raises(SourceError, match="file not found") as caught:
            open_source(path)
        assert caught.value.path == str(path)

    def test_binary_junk_is_an_unsupported_format(self, tmp_path: Path) -> None:
        path = tmp_path / f"junk{self.suffix}"
        path.write_bytes(bytes(range(256)) * 16)
        with pytest.raises(UnsupportedFormat) as caught:
            open_source(path)
        assert str(path) in str(caught.value)
