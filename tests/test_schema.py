"""The one way files people write are checked (``connector.schema``): a pydantic model, and
each mistake one line ``FILE:LINE: KEY.PATH: problem (allowed: ...)``.

Mapping files have their own tests (``test_mapping_schema.py``); here the function is tried
on a decisions-shaped file, a mapping of keys people choose to values of several forms, the
shape decisions files and scheduled-sync job files have.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Tag,
)

from connector.errors import ConfigError
from connector.reconcile.decisions import parse_decision
from connector.schema import ConfigModel, Text, load_config, parse_config, validate_config
from connector.yamlfile import load_yaml_document


def _one_word(value: str) -> str:
    if len(value.split()) != 1:
        raise ValueError(f"a contact id is one word, not {value!r}")
    return value


class MatchDecision(ConfigModel):
    match: Annotated[Text, AfterValidator(_one_word)] = Field(
        description="a contact id, such as '30001'"
    )


def _decision_text(value: str) -> str:
    parse_decision(value)  # its ValueError says what is wrong
    return value


DecisionValue = Annotated[
    Annotated[Annotated[Text, AfterValidator(_decision_text)], Tag("text")]
    | Annotated[MatchDecision, Tag("mapping")],
    Discriminator(lambda value: "mapping" if isinstance(value, dict) else "text"),
    Field(description="add, skip, match <contact id>, or {match: <contact id>}"),
]


class DecisionsFile(
    RootModel[
        Annotated[dict[Text, DecisionValue], BeforeValidator(lambda v: {} if v is None else v)]
    ]
):
    model_config = ConfigDict(strict=True)


def mistake(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, DecisionsFile, origin="d.yaml")
    assert "\n" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "C1: {match: [1, 2]}\n",
            "d.yaml:1: C1.match: must be text, not a list (allowed: a contact id, such as '30001')",
        ),
        (
            "C1: add\nC2: nuke\n",
            "d.yaml:2: C2: expected add, skip or match <contact id>, got 'nuke' (allowed: add, "
            "skip, match <contact id>, or {match: <contact id>})",
        ),
        (
            "C1: skip\nC2:\n  match: 30001\n  note: moved\n",
            "d.yaml:4: C2.note: unknown setting (allowed: match)",
        ),
        (
            '"row:14": {match: "30 001"}\n',
            "d.yaml:1: row:14.match: a contact id is one word, not '30 001' (allowed: a contact "
            "id, such as '30001')",
        ),
        ("C1: {}\n", "d.yaml:1: C1.match: missing (allowed: a contact id, such as '30001')"),
        ("C1: 5.5\n", "d.yaml:1: C1: must be text, not the number 5.5 (allowed: add, skip,"),
        (
            "- C1: add\n",
            "d.yaml:1: the file must be a mapping, not a list (allowed: a mapping, each value "
            "add, skip, match <contact id>, or {match: <contact id>})",
        ),
        ("C1: add\nC2: [add]\nC3: nuke\n", "d.yaml:2: C2: must be text, not a list"),
    ],
)
def test_a_decisions_shaped_file(text: str, message: str) -> None:
    assert str(mistake(text)).startswith(message)


def test_the_first_mistake_in_the_file_is_reported_and_the_rest_counted() -> None:
    error = mistake("C1: add\nC2: [add]\nC3: nuke\nC4: {match: x, y: z}\n")
    assert str(error).endswith("; and 2 more problems")
    assert (error.line, error.key) == (2, "C2")


def test_keys_and_ids_written_as_numbers_are_text() -> None:
    read = parse_config("1234: skip\nC2: {match: 30001}\n", DecisionsFile, origin="d.yaml")
    assert read.root == {"1234": "skip", "C2": MatchDecision(match="30001")}


def test_an_empty_file_may_mean_nothing() -> None:
    assert parse_config("# none yet\n", DecisionsFile, origin="d.yaml").root == {}


def test_a_key_that_is_hard_to_read_is_quoted() -> None:
    error = mistake('"C 1\\u2028": nuke\n')
    assert error.key == "'C 1\\u2028'"


def test_thousands_of_mistakes_are_reported_quickly() -> None:
    text = "".join(f"C{n}: [add]\n" for n in range(5_000)) + "C0x: nuke\n"
    document = load_yaml_document(text, origin="d.yaml")  # PyYAML's own time is not timed
    start = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        validate_config(document.data, DecisionsFile, origin="d.yaml", document=document)
    assert time.monotonic() - start < 5  # looking up each line afresh took minutes
    assert str(caught.value).startswith("d.yaml:1: C0: must be text, not a list")
    assert str(caught.value).endswith("; and 5000 more problems")


def test_load_config_names_a_file_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: decisions file not found") as caught:
        load_config(tmp_path / "nope.yaml", DecisionsFile, what="decisions file")
    assert caught.value.path == str(tmp_path / "nope.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(ConfigError, match=r"bin\.yaml: cannot read decisions file: "):
        load_config(binary, DecisionsFile, what="decisions file")


def test_load_config_reads_a_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_bytes("\ufeffC1: add\n".encode())
    assert load_config(path, DecisionsFile).root == {"C1": "add"}


# -- lines of keys and list entries ------------------------------------------------------------

DOCUMENT = """\
# a comment
top:
  flow: {a: 1, b: [x, y]}
  block:
    - first
    -
      second: 2
  base: &base {label: work}
  merged:
    <<: *base
    column: Mobile
1234: number key
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ((), 2),
        (("top",), 2),
        (("top", "flow", "b", 1), 3),
        (("top", "block"), 4),
        (("top", "block", 0), 5),
        (("top", "block", 1), 7),
        (("top", "block", 1, "second"), 7),
        (("top", "merged", "column"), 11),
        (("top", "merged", "label"), 8),  # where the merged key was written
        (("top", "merged", "missing"), 9),  # not there: the mapping that lacks it
        ((1234,), 12),
        (("1234",), 12),  # a model that read the key as text
        (("top", "block", 7), 4),
    ],
)
def test_the_line_of_a_key_or_entry(path: tuple[object, ...], line: int) -> None:
    document = load_yaml_document(DOCUMENT, origin="d.yaml")
    assert document.line_of(path) == line  # type: ignore[arg-type]
