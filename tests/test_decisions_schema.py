"""Decisions files are checked against their schema (``connector.reconcile.decisions.
DecisionsFile``) before anything else happens: each mistake is one line naming the file,
the line, the key and what is allowed, and neither the source nor the server has been read
when it is reported. The filled-in CSV preview names the file, the line and the column.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from config_errors import assert_one_line_before_reading, places
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.errors import ConfigError
from connector.reconcile.decisions import Decision, DecisionsFile, Snapshot, load_decisions
from connector.schema import parse_config


@dataclass(frozen=True)
class Bad:
    """A decisions file with one mistake; the line, the key (None for a mistake in the
    file as a whole) and what the message says about it."""

    id: str
    text: str
    line: int
    key: str | None
    says: str
    name: str = "bad.yaml"


ENTRY_HELP = (
    "(allowed: add, skip, match <contact id>, or a mapping of match or decision, with record,"
    " contact and candidates)"
)

BAD_DECISIONS = [
    # -- the decision itself
    Bad("match-id-a-list", "C1: {match: [1, 2]}\n", 1, "C1.match",
        "must be text, not a list (allowed: a contact id, such as '30001')"),
    Bad("match-id-left-empty", "C1: add\nC2: {match: }\n", 2, "C2.match",
        "must not be empty (allowed: a contact id, such as '30001')"),
    Bad("match-id-two-words", '"row:14": {match: "30 001"}\n', 1, "row:14.match",
        "a contact id is one word, not '30 001'"),
    Bad("unknown-action", "C1: add\nC2: nuke\n", 2, "C2",
        f"expected add, skip or match <contact id>, got 'nuke' {ENTRY_HELP}"),
    Bad("match-without-id", "C1: match\n", 1, "C1",
        "expected add, skip or match <contact id>, got 'match'"),
    Bad("decision-a-boolean", "C1:\n  decision: yes\n", 2, "C1.decision",
        "must be text, not true (allowed: add, skip or match <contact id>; left empty, decides "
        "nothing)"),
    Bad("decision-unknown-in-a-mapping", "C1:\n  decision: merge\n", 2, "C1.decision",
        "expected add, skip or match <contact id>, got 'merge'"),
    Bad("decision-a-quoted-no", 'C1: "no"\n', 1, "C1",
        "expected add, skip or match <contact id>, got 'no'"),
    Bad("value-a-boolean", "C1: add\nC2: no\n", 2, "C2",
        f"must be text or a mapping, not false {ENTRY_HELP}"),
    Bad("value-a-fraction", "C1: 1.5\n", 1, "C1", "must be text or a mapping, not the number 1.5"),
    Bad("value-a-list", "C1: [add]\n", 1, "C1", "must be text or a mapping, not a list"),
    Bad("value-left-empty", "C1: add\nC2:\n", 2, "C2", "must be text or a mapping, not empty"),
    Bad("match-and-decision", "C1: {match: '30001', decision: add}\n", 1, "C1.decision",
        "give match or decision, not both"),
    Bad("neither-match-nor-decision", "C1:\n  record: {name: Ann Able}\n", 1, "C1",
        "needs match: <contact id>, or decision: add, skip or match <id>"),
    # -- unknown keys
    Bad("misspelled-record", "C1:\n  match: '30001'\n  recrod: {name: Ann}\n", 3, "C1.recrod",
        "unknown setting; did you mean 'record'? (allowed: candidates, contact, decision, "
        "match, record)"),
    Bad("misspelled-phones", "C1:\n  match: '30001'\n  record:\n    name: Ann\n"
        "    phone: ['07700900123']\n", 5, "C1.record.phone",
        "unknown setting; did you mean 'phones'? (allowed: name, phones)"),
    Bad("misspelled-score", "C1:\n  decision:\n  candidates:\n"
        "  - {id: '30004', name: Siobhan, scroe: 80}\n", 4, "C1.candidates[0].scroe",
        "unknown setting; did you mean 'score'? (allowed: id, name, phones, score)"),
    # -- what a decision was made about
    Bad("phone-unquoted", 'C1:\n  match: "30001"\n  record: {name: Ann, phones: [01234567]}\n', 3,
        "C1.record.phones[0]", "must be quoted: unquoted, YAML reads it as the number 342391 "
        '(allowed: a list of quoted numbers, such as ["02079460000"])'),
    Bad("candidate-phone-unquoted", "C1:\n  decision: add\n  candidates:\n"
        "  - {id: '30004', name: Siobhan, phones: ['01632960004', 2079460000]}\n", 4,
        "C1.candidates[0].phones[1]", "YAML reads it as the number 2079460000"),
    Bad("phones-not-a-list", "C1: {decision: add, record: {name: Ann, phones: '0123'}}\n", 1,
        "C1.record.phones", "must be a list, not the text '0123'"),
    Bad("record-as-text", 'C1: {match: "30001", record: Ann Able}\n', 1, "C1.record",
        "must be a mapping, not the text 'Ann Able' (allowed: the source record as the preview "
        "showed it: {name, phones})"),
    Bad("record-without-a-name", "C1: {decision: add, record: {phones: ['0123']}}\n", 1,
        "C1.record.name", "missing"),
    Bad("contact-for-an-add", "C1:\n  decision: add\n  contact: {name: Reception}\n", 3,
        "C1.contact", "a contact is only for a match decision, not add"),
    Bad("candidate-without-an-id", "C1:\n  decision:\n  candidates:\n  - {name: Siobhan}\n", 4,
        "C1.candidates[0].id", "missing (allowed: a contact id, such as '30001')"),
    Bad("candidate-score-as-text", "C1:\n  decision:\n  candidates:\n"
        "  - {id: '30004', name: Siobhan, score: high}\n", 4, "C1.candidates[0].score",
        "must be a number, not the text 'high'"),
    Bad("candidates-a-mapping", "C1:\n  decision:\n  candidates: {id: '30004'}\n", 3,
        "C1.candidates", "must be a list, not a mapping"),
    # -- keys
    Bad("key-with-a-line-break", '"C\\n1": merge\n', 1, "'C\\n1'",
        "expected add, skip or match <contact id>, got 'merge'"),
    Bad("key-read-as-true", "C1: add\nyes: skip\n", 2, "True",
        "must be text, not true: put the key in quotes"),
    Bad("key-read-as-a-date", "C1: add\n2024-05-01: skip\n", 2, "2024-05-01",
        "must be text, not the date 2024-05-01: put the key in quotes"),
    # -- the file as a whole
    Bad("a-list-for-the-whole-file", "- C1: add\n- C2: skip\n", 1, None,
        "the file must be a mapping, not a list (allowed: a mapping, each value add, skip, "
        "match <contact id>"),
    Bad("text-for-the-whole-file", "add\n", 1, None, "the file must be a mapping, not the text"),
    Bad("yaml-list-where-a-mapping-goes-on", "C1: skip\n- C2: add\n", 2, None,
        "not valid YAML"),
    Bad("yaml-key-given-twice", "C1: add\nC2: skip\nC1: skip\n", 3, None,
        "not valid YAML: 'C1' is given twice (first on line 1)"),
    Bad("mistake-in-a-template-after-comments",
        "# Decisions for `sipalto-sync plan SOURCE --decisions THIS_FILE`, by source key.\n\n"
        "# contacts.csv:2: review: shares number 01491833000 but the name differs (75)\n"
        "C2:\n  decision: match 30002  # match <contact id>, add or skip\n"
        '  record: {name: Jane Smith, phones: ["01491833000"]}\n  candidates:\n'
        "  - {id: '30002', name: John Smith, phones: [01632760004], score: 75}\n", 8,
        "C2.candidates[0].phones[0]", "must be quoted"),
    # -- the filled-in CSV preview: the file, the line and the column
    Bad("csv-unknown-action", "source_key,decision\nC1,add\nC2,merge\n", 3, "decision",
        "expected add, skip or match <contact id>, got 'merge'", name="bad.csv"),
    Bad("csv-column-as-the-file-writes-it", "Source_Key;Decision\nC1;nuke\n", 2, "Decision",
        "got 'nuke'", name="bad.csv"),
    Bad("csv-decision-without-a-key", "source_key,decision\n,add\n", 2, "source_key",
        "empty, but the row has a decision", name="bad.csv"),
    Bad("csv-after-a-sep-line", "sep=;\nsource_key;decision\nC1;skip please\n", 3, "decision",
        "got 'skip please'", name="bad.csv"),
    Bad("csv-missing-columns", "key_of_source,what\nC1,add\n", 1, None,
        "needs a source_key column and a decision column", name="bad.csv"),
    Bad("csv-shifted-row", "source_key,name,decision\nC1,Bold, Ben,skip\n", 2, None,
        "row has 4 fields, the header has 3", name="bad.csv"),
]  # fmt: skip


def test_the_table_is_large_and_named_uniquely() -> None:
    assert len(BAD_DECISIONS) >= 30
    assert len({bad.id for bad in BAD_DECISIONS}) == len(BAD_DECISIONS)


@pytest.mark.parametrize("bad", BAD_DECISIONS, ids=lambda bad: bad.id)
def test_a_bad_decisions_file_is_one_line_before_anything_is_read(
    bad: Bad, run_cli, sandbox, tmp_path: Path
) -> None:
    decisions = tmp_path / bad.name
    decisions.write_text(bad.text, encoding="utf-8")
    # The source does not exist: had it been opened first, that would be the error.
    source = tmp_path / "never-read.csv"
    result = run_cli("plan", str(source), "--decisions", str(decisions))
    assert_one_line_before_reading(result, decisions, bad.line, bad.key, bad.says, sandbox)


def test_a_mistake_carries_its_place(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("C1: add\nC2:\n  match: '30001'\n  record: {name: A, phones: [1]}\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_decisions(path)
    assert (caught.value.path, caught.value.line, caught.value.key) == (
        str(path),
        4,
        "C2.record.phones[0]",
    )
    csv_path = tmp_path / "review.csv"
    csv_path.write_text("source_key,decision\nC1,nuke\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_decisions(csv_path)
    assert (caught.value.path, caught.value.line, caught.value.key) == (
        str(csv_path),
        2,
        "decision",
    )


def test_the_first_mistake_is_shown_and_the_rest_counted(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("C1: add\nC2: nuke\nC3: {match: [1]}\nC4: {decision: add, x: 1}\n", "utf-8")
    with pytest.raises(ConfigError, match=r"d\.yaml:2: C2: .*; and 2 more problems$"):
        load_decisions(path)


@pytest.mark.parametrize("text", ["", "# nothing decided yet\n", "---\n", "~\n"])
def test_an_empty_decisions_file_decides_nothing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_decisions(path) == {}


def test_plan_with_an_empty_decisions_file_is_the_plan_without_one(
    run_cli, sandbox, tmp_path: Path
) -> None:
    source = tmp_path / "staff.csv"
    source.write_text("Name,Phone\nAnn Able,07700 900101\n", encoding="utf-8")
    decisions = tmp_path / "decisions.yaml"
    decisions.write_text("# nothing decided yet\n", encoding="utf-8")
    without = run_cli("plan", str(source))
    with_empty = run_cli("plan", str(source), "--decisions", str(decisions))
    assert (with_empty.exit_code, with_empty.stdout) == (0, without.stdout)
    assert "+ add Ann Able" in with_empty.stdout


def test_ids_and_keys_written_as_numbers_are_text(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "1234: skip\nC2: {match: 30001}\nC3: 30002\nC4: {decision: 30003}\n"
        "C5:\n  decision: match 30004\n  candidates: [{id: 30004, name: Ann, score: 80.5}]\n",
        encoding="utf-8",
    )
    assert load_decisions(path) == {
        "1234": Decision("skip"),
        "C2": Decision("match", "30001"),
        "C3": Decision("match", "30002"),
        "C4": Decision("match", "30003"),
        "C5": Decision("match", "30004", contact=Snapshot("Ann")),
    }


def test_an_unquoted_number_with_a_9_is_text_to_yaml_and_read_as_written(tmp_path: Path):
    # 07911 123456 has a 9, so YAML cannot read it as octal and keeps the text.
    path = tmp_path / "d.yaml"
    path.write_text("C1: {decision: add, record: {name: A, phones: [07911123456]}}\n", "utf-8")
    assert load_decisions(path) == {"C1": Decision("add", record=Snapshot("A", ("07911123456",)))}


# -- any change of a value's type gives decisions or a mistake at a line -------------------------

VALID = {
    "C1": {
        "match": "30012",
        "record": {"name": "Reception Desk", "phones": ["02079460000"]},
        "contact": {"name": "Reception", "phones": ["02079460000"]},
    },
    "C2": {"decision": "add", "record": {"name": "New Person", "phones": ["07700900777"]}},
    "C3": {
        "decision": None,
        "record": {"name": "Siobhan Murphy", "phones": ["07700900904"]},
        "candidates": [
            {"id": "30004", "name": "Siobhan Murphy-Jones", "phones": ["01632960004"], "score": 80},
            {"id": "30005", "name": "S. Murphy", "phones": [], "score": 62.5},
        ],
    },
    "C4": "match 30002",
    "row:17": "skip",
    "C6": "30003",
    "C7": {"match": "30007"},
}

#: Values of every YAML type, and text that means something to a decisions file.
SWAPS = st.one_of(
    st.sampled_from(["add", "skip", "match", "match 1", "match 1 2", "nuke", "", " ", "30001"]),
    st.sampled_from([0, 7, -1, 1.5, 342391, True, False, None]),
    st.sampled_from([[], ["a"], [["a"]], [{"a": 1}], {}, {"a": 1}, {"name": "x"}]),
    st.sampled_from([{"match": "1"}, {"decision": "add"}, {"decision": None}, {"match": None}]),
    st.text(max_size=8),
    st.integers(),
    st.floats(allow_nan=False),
)
#: Keys a mutation may give an entry: misspellings, fields of another level, and keys YAML
#: reads as something other than text.
KEYS = st.sampled_from(
    ["recrod", "phone", "Match", "score", "id", "name", "x", True, None, 1.5, 0, "match"]
)


@st.composite
def mutated_decisions(draw: st.DrawFn) -> str:
    """A valid decisions file with a value swapped for one of another type, a key renamed
    or removed, or a value wrapped in a list."""
    data: Any = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        spots = places(data)
        if not spots:
            break
        path = draw(st.sampled_from(spots))
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
            parent[draw(KEYS)] = parent.pop(last)
        elif isinstance(parent, dict):
            del parent[last]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=draw(
        st.sampled_from([False, None])))  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_decisions())
def test_a_mutated_decisions_file_is_decisions_or_a_mistake_at_a_line(text: str) -> None:
    try:
        decisions = parse_config(text, DecisionsFile, origin="d.yaml").decisions()
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message
        assert exc.line is not None and 1 <= exc.line <= text.count("\n") + 1
        assert re.match(
            rf"d\.yaml:{exc.line}: (the file must|{re.escape(exc.key or '')}: )", message
        ), message
        return
    assert all(isinstance(key, str) for key in decisions)
    assert all(isinstance(decision, Decision) for decision in decisions.values())
