"""Mapping files are checked against their schema (``adapters.mapping.MappingFile``) before
anything else happens: each mistake is one line naming the file, the line, the setting and
what is allowed, and neither the source nor the server has been read when it is reported.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from config_errors import assert_one_line_before_reading, places
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.mapping import (
    FILE_KIND,
    Mapping,
    MappingFile,
    list_presets,
    load_mapping,
    preset_kind,
    preset_text,
)
from connector.errors import ConfigError
from connector.paths import resource_dir
from connector.schema import parse_config


@dataclass(frozen=True)
class Bad:
    """A mapping file with one mistake; the line, the setting (None for a YAML syntax
    error) and what the message says about it."""

    id: str
    text: str
    line: int
    key: str | None
    says: str


BAD_MAPPINGS = [
    Bad("preferred-quoted-no", 'name: Full Name\nphones:\n  - {column: Mobile, preferred: "no"}\n',
        3, "phones[0].preferred", "must be true or false, not the text 'no'"),
    Bad("preferred-a-number", "name: Full Name\nphones:\n  - column: Mobile\n    preferred: 1\n",
        4, "phones[0].preferred", "must be true or false, not the number 1"),
    Bad("allow-missing-quoted-false",
        'name: Full Name\nphones: [Mobile]\nallow_missing_columns: "false"\n',
        3, "allow_missing_columns", "must be true or false, not the text 'false'"),
    Bad("unescape-formulas-yes-after-comments",
        '# my CRM\n\nname: Full Name\nphones: [Mobile]\n\nunescape_formulas: "yes"\n',
        6, "unescape_formulas", "must be true or false, not the text 'yes'"),
    Bad("template-brace-never-closed", 'name: "{Name"\nphones: [Mobile]\n', 1, "name",
        "'{Name' opens a '{' at character 1 that is never closed (allowed: a column name, or "
        "a template such as '{First Name} {Last Name}'"),
    Bad("template-brace-closing-nothing",
        'phones: [Mobile]\nname:\n  - "{First} {Last}"\n  - "Last}"\n', 4, "name[1]",
        "'Last}' has a '}' at character 5 that closes nothing"),
    Bad("template-empty-braces", 'name: "{First} {}"\nphones: [Mobile]\n', 1, "name",
        "'{First} {}' has an empty {} at character 9"),
    Bad("template-only-literal-braces", 'name: "{{Name}}"\nphones: [Mobile]\n', 1, "name",
        "'{{Name}}' names no column"),
    Bad("key-template-unbalanced", 'name: N\nphones: [M]\nkey: "{ID"\n', 3, "key",
        "'{ID' opens a '{'"),
    Bad("misspelled-setting", "name: Full Name\nphone: [Mobile]\n", 2, "phone",
        "unknown setting; did you mean 'phones'? (allowed: allow_missing_columns, description, "
        "detect, key, key_is, name, phones, unescape_formulas)"),
    Bad("misspelled-phone-setting", "name: N\nphones:\n  - column: Mobile\n    lable: work\n",
        4, "phones[0].lable",
        "unknown setting; did you mean 'label'? (allowed: column, label, label_column, "
        "preferred)"),
    Bad("setting-at-the-wrong-level", "name: N\nphones: [Mobile]\npreferred: true\n", 3,
        "preferred", "unknown setting (allowed: allow_missing_columns,"),
    Bad("key-with-a-space", 'name: N\nphones: [M]\n"my key": 1\n', 3, "'my key'",
        "unknown setting"),
    Bad("a-list-for-the-whole-file", "- name: Full Name\n- phones: [Mobile]\n", 1, None,
        "the file must be a mapping, not a list (allowed: a mapping with the keys "
        "allow_missing_columns,"),
    Bad("empty-file", "# nothing yet\n", 1, None, "the file must be a mapping, not empty"),
    Bad("a-mapping-where-a-list-belongs", "name: N\nphones: [M]\ndetect:\n  Name: Mobile\n", 3,
        "detect", "must be a list, not a mapping (allowed: a list of header lists"),
    Bad("a-list-where-a-column-belongs", "name: N\nphones:\n  - Mobile\n  - [Work, Home]\n", 4,
        "phones[1]", "must be a column name or a mapping, not a list"),
    Bad("a-mapping-where-text-belongs", "name: N\nphones:\n  - column: M\n    label: {a: b}\n",
        4, "phones[0].label", "must be text, not a mapping"),
    Bad("detect-not-nested", "name: N\nphones: [M]\ndetect: [Name, Mobile]\n", 3, "detect[0]",
        "must be a list, not the text 'Name' (allowed: a list of header lists"),
    Bad("detect-with-an-empty-set", "name: N\nphones: [M]\ndetect:\n  - [Name]\n  - []\n", 5,
        "detect[1]", "must not be empty"),
    Bad("key-a-fraction", "name: N\nphones: [M]\nkey: 1.5\n", 3, "key",
        "must be text, not the number 1.5"),
    Bad("description-a-list", "description: [a, b]\nname: N\nphones: [M]\n", 1, "description",
        "must be text, not a list"),
    Bad("phones-missing", "name: Full Name\n", 1, "phones", "missing (allowed: a list of phone "
        "columns, each a column name or {column: NAME, label: TEXT,"),
    Bad("column-missing", "name: N\nphones:\n  - label: work\n", 3, "phones[0].column",
        "missing"),
    Bad("blank-column", 'name: N\nphones: [Mobile, "  "]\n', 2, "phones[1]", "must not be empty"),
    Bad("no-names", "name: []\nphones: [M]\n", 1, "name", "must not be empty"),
    Bad("yaml-list-left-open", "name: N\nphones: [Mobile, Work\nkey: ID\n", 3, None,
        "not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence begun "
        "on line 2)"),
    Bad("yaml-quote-left-open", 'name: "Full Name\nphones: [Mobile]\n', 3, None,
        "not valid YAML: found unexpected end of stream (while scanning a quoted scalar begun "
        "on line 1)"),
    Bad("yaml-tab-indentation", "name: N\nphones:\n\t- Mobile\n", 3, None,
        "not valid YAML: found character '\\t' that cannot start any token"),
    Bad("yaml-setting-twice", "name: N\nphones: [M]\nphones: [W]\n", 3, None,
        "not valid YAML: 'phones' is given twice (first on line 2)"),
]  # fmt: skip


def test_the_table_is_large_and_named_uniquely() -> None:
    assert len(BAD_MAPPINGS) >= 25
    assert len({bad.id for bad in BAD_MAPPINGS}) == len(BAD_MAPPINGS)


@pytest.mark.parametrize("bad", BAD_MAPPINGS, ids=lambda bad: bad.id)
def test_a_bad_mapping_is_one_line_before_anything_is_read(
    bad: Bad, run_cli, sandbox, tmp_path: Path
) -> None:
    mapping = tmp_path / "bad.yaml"
    mapping.write_text(bad.text, encoding="utf-8")
    # The source does not exist: had it been opened first, that would be the error.
    source = tmp_path / "never-read.csv"
    result = run_cli("plan", str(source), "--mapping", str(mapping))
    assert_one_line_before_reading(result, mapping, bad.line, bad.key, bad.says, sandbox)


def test_a_mistake_carries_its_place(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text('name: N\nphones:\n  - {column: Mobile, preferred: "no"}\n', "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert (caught.value.path, caught.value.line, caught.value.key) == (
        str(path),
        3,
        "phones[0].preferred",
    )


def test_an_unquoted_no_is_false(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("name: N\nphones:\n  - {column: Mobile, preferred: no}\n", "utf-8")
    assert load_mapping(path).phones[0].preferred is False


def test_a_header_written_as_a_number_is_a_column(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("name: 2024\nphones: [7, {column: 8, label: 9}]\nkey: 1\n", "utf-8")
    mapping = load_mapping(path)
    assert (mapping.names, mapping.key) == (("{2024}",), "{1}")
    assert [(p.column, p.label) for p in mapping.phones] == [("7", None), ("8", "9")]


def test_inspect_reports_the_mapping_before_the_source(run_cli, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: Full Name\nphones: [Mobile]\nallow_missing_columns: 'no'\n", "utf-8")
    result = run_cli("inspect", str(tmp_path / "never-read.csv"), "--mapping", str(mapping))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {mapping}:3: allow_missing_columns: must be true or false, not the text 'no'\n"
    )


# -- the shipped presets -----------------------------------------------------------------------


# The file presets (the CRM presets have their own schema: tests/test_crm_presets.py).
PRESET_FILES = [
    path
    for path in sorted(resource_dir("mappings").glob("*.yaml"))
    if preset_kind(path.stem) == FILE_KIND
]


def test_every_preset_is_listed() -> None:
    assert [path.stem for path in PRESET_FILES] == [name for name, _ in list_presets()]


@pytest.mark.parametrize("path", PRESET_FILES, ids=lambda path: path.stem)
def test_every_shipped_preset_validates(path: Path) -> None:
    settings = parse_config(path.read_text(encoding="utf-8"), MappingFile, origin=path.name)
    assert settings.description
    assert settings.detect, "a preset is recognised by its detect header sets"
    assert isinstance(load_mapping(path.stem), Mapping)


def test_the_sample_mapping_validates() -> None:
    path = resource_dir("sample_data") / "crm-mapping.yaml"
    assert load_mapping(path).key == "{Account Ref}"


# -- any change of a value's type gives a mapping or a mistake at a line -------------------------

#: Values of every YAML type, and text that means something to a mapping.
SWAPS = st.one_of(
    st.sampled_from(
        ["no", "yes", "false", "{x", "x}", "{}", "{{x}}", "", " ", "Phone {n}", 0, 7, -1, 1.5]
    ),
    st.sampled_from([True, False, None, [], ["a"], [["a"]], [{"a": 1}], {}, {"a": 1}]),
    st.sampled_from([{"column": "x"}, {"column": ["x"]}, {"column": "x", "preferred": "no"}]),
    st.text(max_size=8),
    st.integers(),
    st.floats(allow_nan=False),
)


@st.composite
def mutated_presets(draw: st.DrawFn) -> str:
    """A shipped preset with a value swapped for one of another type, a key renamed or
    removed, or a value wrapped in a list."""
    data = yaml.safe_load(preset_text(draw(st.sampled_from([p.stem for p in PRESET_FILES]))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(places(data)))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        how = draw(st.sampled_from(["swap", "swap", "swap", "wrap", "rename", "remove"]))
        if how == "swap":
            parent[last] = copy.deepcopy(draw(SWAPS))  # later steps may edit it in place
        elif how == "wrap":
            parent[last] = [parent[last]]
        elif isinstance(parent, dict) and how == "rename":
            parent[draw(st.sampled_from(["phone", "nmae", "Key", "label", "x"]))] = parent.pop(last)
        elif isinstance(parent, dict):
            del parent[last]
    return yaml.safe_dump(data, sort_keys=draw(st.booleans()), allow_unicode=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_presets())
def test_a_mutated_preset_is_a_mapping_or_a_mistake_at_a_line(text: str) -> None:
    try:
        mapping = parse_config(text, MappingFile, origin="m.yaml")
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message
        assert exc.line is not None and 1 <= exc.line <= text.count("\n") + 1
        assert re.match(
            rf"m\.yaml:{exc.line}: (the file must|{re.escape(exc.key or '')}: )", message
        )
        return
    assert mapping.name and mapping.phones
