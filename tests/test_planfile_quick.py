"""Reading a plan file: the quick path (msgspec) and the standard one (``json`` and the
plan's own checks) make equal plans, and a file one refuses the other refuses alike."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.errors import PlanError
from connector.model import ContactFields
from connector.reconcile.plan import (
    ACTIONS,
    SYNC_TAGS,
    Candidate,
    Plan,
    PlanItem,
    PlanSettings,
    SourceRef,
)
from connector.reconcile.planfile import _plan_from_text, _quick_plan, load_plan, save_plan

text = st.text(max_size=6)
fields = st.builds(ContactFields, text, text, text, text)
sources = st.builds(SourceRef, text, text, text, st.lists(text, max_size=2).map(tuple))
candidates = st.builds(
    Candidate, text, fields, st.floats(0, 100, allow_nan=False), text
)  # fmt: skip
scores = st.one_of(st.none(), st.floats(0, 100, allow_nan=False))


@st.composite
def items(draw: st.DrawFn) -> PlanItem:
    action = draw(st.sampled_from(ACTIONS))
    tags = [tag for tag, tagged in SYNC_TAGS.items() if tagged == action]
    return PlanItem(
        action,
        id=None if action == "add" else draw(st.one_of(st.none(), text)),
        before=draw(st.one_of(st.none(), fields)),
        after=draw(st.one_of(st.none(), fields)),
        source=draw(st.one_of(st.none(), sources)),
        reason=draw(text),
        score=draw(scores),
        warnings=tuple(draw(st.lists(text, max_size=2))),
        candidates=tuple(draw(st.lists(candidates, max_size=2))),
        sync=draw(st.sampled_from([None, *tags])),
        own=draw(st.one_of(st.none(), fields)),
    )


def _unique_writes(plan_items: list[PlanItem]) -> list[PlanItem]:
    """No contact written twice: the plan's own rule, which both paths check."""
    seen: set[str] = set()
    kept = []
    for item in plan_items:
        if item.id is not None and item.action in ("add", "update", "delete"):
            if item.id in seen:
                continue
            seen.add(item.id)
        kept.append(item)
    return kept


def _plan(plan_items: list[PlanItem]) -> Plan:
    return Plan(
        plan_id="p",
        created_at=datetime(2026, 12, 2, tzinfo=timezone.utc),
        server="http://127.0.0.1:8080",
        base="sha256:00",
        settings=PlanSettings(),
        items=tuple(_unique_writes(plan_items)),
        warnings=("a warning",),
    )


def _saved(tmp_path: Path, plan_items: list[PlanItem]) -> Path:
    """A plan of ``plan_items`` written as ``plan.json`` in ``tmp_path``, by save_plan."""
    path = tmp_path / "plan.json"
    save_plan(_plan(plan_items), path)
    return path


def _outcome(text_: str) -> Plan | str:
    """What the standard path makes of ``text_``: the plan, or its error's message as
    :func:`load_plan` words it after the file's name."""
    try:
        return _plan_from_text(text_)
    except PlanError as exc:
        return str(exc).removeprefix("plan file: ")


def _loaded(path: Path) -> Plan | str:
    try:
        return load_plan(path)
    except PlanError as exc:
        return str(exc).removeprefix(f"{path}: ")


@given(st.lists(items(), max_size=6))
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_quick_path_reads_every_plan_the_standard_one_does(
    tmp_path: Path, plan_items: list[PlanItem]
) -> None:
    path = _saved(tmp_path, plan_items)
    written = path.read_text(encoding="utf-8")
    assert _quick_plan(written) is not None  # the quick path takes what the writer writes
    assert load_plan(path) == _plan_from_text(written) == _plan(plan_items)


# Values put in place of one value of an item: every type JSON has, and the awkward ones.
ODD_VALUES: list[Any] = [
    None, "", "x", 0, 1, -1.5, True, False, [], ["x"], [1], {}, {"name": "n"},
    {"name": 1}, {"nickname": "n"}, {"key": "k", "location": "l"}, "add", "update",
    "sync-add", 10**400,
]  # fmt: skip
ITEM_KEYS = [
    "action", "id", "before", "after", "source", "reason", "score", "warnings", "candidates",
    "sync", "own", "extra",
]  # fmt: skip
INNER = {
    "before": ["name", "phone1", "nickname"],
    "source": ["key", "location", "name", "phones", "extra"],
    "candidates": ["id", "name", "phone3", "score", "reason", "extra"],
}


@given(
    st.lists(items(), min_size=1, max_size=3),
    st.data(),
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_changed_value_is_read_alike_or_refused_alike(
    tmp_path: Path, plan_items: list[PlanItem], data: st.DataObject
) -> None:
    path = _saved(tmp_path, plan_items)
    document = json.loads(path.read_text(encoding="utf-8"))
    item = data.draw(st.sampled_from(document["items"]))
    key = data.draw(st.sampled_from(ITEM_KEYS))
    value = data.draw(st.sampled_from(ODD_VALUES))
    inner = INNER.get(key)
    if inner and isinstance(item.get(key), dict) and data.draw(st.booleans()):
        item[key][data.draw(st.sampled_from(inner))] = value  # a field inside
    elif key == "candidates" and item["candidates"] and data.draw(st.booleans()):
        item["candidates"][0][data.draw(st.sampled_from(INNER["candidates"]))] = value
    elif data.draw(st.booleans()):
        item[key] = value
    else:
        item.pop(key, None)
    changed = json.dumps(document)
    path.write_text(changed, encoding="utf-8")
    assert _loaded(path) == _outcome(changed)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ('"before": {}', None),  # an empty object is no contact: as the standard path says
        ('"own": {}', ContactFields("")),
    ],
)
def test_empty_objects_as_the_standard_path_reads_them(
    tmp_path: Path, change: str, expected: ContactFields | None
) -> None:
    path = _saved(
        tmp_path, [PlanItem("update", id="7", before=ContactFields("a"), after=ContactFields("b"))]
    )
    key = change.split(":")[0]
    document = json.loads(path.read_text(encoding="utf-8"))
    document["items"][0][key.strip('"')] = {}
    path.write_text(json.dumps(document), encoding="utf-8")
    loaded = load_plan(path)
    assert loaded == _plan_from_text(path.read_text(encoding="utf-8"))
    assert getattr(loaded.items[0], key.strip('"')) == expected


@pytest.mark.parametrize(
    "odd",
    [
        '"score": NaN',  # json reads it, msgspec does not
        '"reason": "\\ud800"',  # a lone surrogate
        '"score": 1e999',  # infinity as json reads it
    ],
)
def test_what_msgspec_refuses_is_read_the_standard_way(tmp_path: Path, odd: str) -> None:
    path = _saved(tmp_path, [PlanItem("review", reason="r", score=50.0)])
    key = odd.split(":")[0]
    written = path.read_text(encoding="utf-8")
    start = written.index(key + ":")
    end = written.index(",", start)
    changed = written[:start] + odd + written[end:]
    path.write_text(changed, encoding="utf-8")
    assert _quick_plan(changed) is None
    assert _loaded(path) == _outcome(changed)


def test_nesting_too_deep_is_refused_with_the_standard_message(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    changed = '{"items": [], "settings": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path.write_text(changed, encoding="utf-8")
    assert _quick_plan(changed) is None
    assert _loaded(path) == _outcome(changed) == "not a plan file (nested too deeply)"


def test_a_score_too_large_for_a_float_is_refused_with_a_message(tmp_path: Path) -> None:
    path = _saved(tmp_path, [PlanItem("review", reason="r", score=50.0)])
    written = path.read_text(encoding="utf-8")
    path.write_text(written.replace('"score":50.0', '"score":1' + "0" * 400))
    with pytest.raises(PlanError, match=r"plan item 1 score is out of range"):
        load_plan(path)
    # The settings' match thresholds too (before, a traceback for each).
    huge = '"match_name_score": 1' + "0" * 400
    path.write_text(written.replace('"match_name_score": 88.0', huge))
    with pytest.raises(PlanError, match=r"match setting match_name_score must be a finite"):
        load_plan(path)


def test_errors_still_name_the_file_and_the_item(tmp_path: Path) -> None:
    path = _saved(
        tmp_path, [PlanItem("add", after=ContactFields("a")), PlanItem("review", reason="r")]
    )
    document = json.loads(path.read_text(encoding="utf-8"))
    document["items"][1]["after"] = {"name": 5}
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(PlanError) as raised:
        load_plan(path)
    assert str(raised.value) == (
        f"{path}: plan item 2 after: contact fields must be strings (name is 5)"
    )
