"""Dotted paths into JSON answers, and name templates over them (shared with file mappings)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.crm.select import ALL, MISSING, PathError, parse_path, select, select_one
from adapters.mapping import bind_template, template_fields

HUBSPOT_PAGE = {
    "results": [
        {"id": "51", "properties": {"firstname": "Amelia", "lastname": "Hartley"}},
        {"id": "52", "properties": {"firstname": None, "lastname": "Okafor"}},
    ],
    "paging": {"next": {"after": "52", "link": "https://api.hubapi.com/...&after=52"}},
    "@odata.nextLink": "https://org.crm.dynamics.com/api/data/v9.2/contacts?$skiptoken=x",
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("paging.next.after", ["52"]),
        ("results[*].id", ["51", "52"]),
        ("results[1].properties.lastname", ["Okafor"]),
        ("results[*].properties.firstname", ["Amelia", None]),
        ("['@odata.nextLink']", [HUBSPOT_PAGE["@odata.nextLink"]]),
        ('paging["next"].after', ["52"]),
        ("paging.previous.before", []),
        ("results[7].id", []),
        ("results.id", []),  # a key of a list selects nothing
        ("$", [HUBSPOT_PAGE]),
    ],
)
def test_select_follows_keys_indexes_and_wildcards(path: str, expected: list[Any]) -> None:
    assert select(HUBSPOT_PAGE, parse_path(path)) == expected


def test_select_one_says_missing_rather_than_none() -> None:
    assert select_one(HUBSPOT_PAGE, parse_path("paging.prev")) is MISSING
    assert select_one(HUBSPOT_PAGE, parse_path("results[1].properties.firstname")) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("a..b", "has an empty step at character 3"),
        ("a.", "ends with a dot"),
        ("[*]", "needs a key before the bracket at character 1"),
        ("a[x]", "cannot be read at character 2"),
        ("a['b]", "cannot be read at character 2"),
        (".a", "has an empty step at character 1"),
    ],
)
def test_a_badly_written_path_says_where(text: str, problem: str) -> None:
    with pytest.raises(PathError) as caught:
        parse_path(text)
    assert str(caught.value).startswith(problem)


def test_a_path_cannot_reach_python_attributes() -> None:
    class Thing:
        secret = "do not show"

    data = {"thing": Thing(), "text": "abc"}
    assert select(data, parse_path("thing.secret")) == []
    assert select(data, parse_path("text.__class__")) == []
    assert select(data, parse_path("__class__")) == []


# -- properties ---------------------------------------------------------------------------

KEYS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=".[]'\""),
    min_size=1,
    max_size=8,
).filter(lambda k: k.strip() == k and k != "$")
STEPS = st.lists(st.one_of(KEYS, st.integers(0, 3)), min_size=1, max_size=5).filter(
    lambda steps: isinstance(steps[0], str)
)


def path_text(steps: list[str | int]) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def nest(steps: list[str | int], leaf: Any) -> Any:
    """Data in which ``steps`` lead to ``leaf`` (lists padded with other values)."""
    value = leaf
    for step in reversed(steps):
        value = {step: value, "other": 1} if isinstance(step, str) else [0] * step + [value, 9]
    return value


@given(STEPS, st.one_of(st.text(), st.integers(), st.none()))
def test_a_value_placed_at_a_path_is_selected_by_it(steps: list[str | int], leaf: Any) -> None:
    path = parse_path(path_text(steps))
    assert path.steps == tuple(steps)
    assert select(nest(steps, leaf), path) == [leaf]


@given(STEPS, st.lists(st.text(max_size=5), max_size=6))
def test_a_wildcard_selects_every_item_in_order(steps: list[str | int], items: list[str]) -> None:
    keys = [step for step in steps if isinstance(step, str)]
    path = parse_path(path_text(keys) + "[*]")
    assert path.steps[-1] is ALL and path.fans_out
    assert select(nest(keys, items), path) == items


@given(
    st.recursive(
        st.none() | st.text() | st.integers(),
        lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids),
    ),
    STEPS,
)
def test_selecting_never_fails_on_any_json(data: Any, steps: list[str | int]) -> None:
    assert isinstance(select(data, parse_path(path_text(steps))), list)


# -- templates over paths (the file mappings' template code) ------------------------------

FIELD_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="{}"),
    max_size=12,
)


@given(
    st.lists(st.tuples(FIELD_TEXT, FIELD_TEXT.filter(str.strip)), min_size=1, max_size=4),
    FIELD_TEXT,
)
def test_a_template_is_plain_substitution(parts: list[tuple[str, str]], tail: str) -> None:
    # Literal text, then a field, repeated: every field is replaced by its value as it is.
    template = "".join(
        f"{literal.replace('{', '')}{{f{n}}}" for n, (literal, _) in enumerate(parts)
    )
    template += tail
    fields = template_fields(template)
    assert fields == [f"f{n}" for n in range(len(parts))]
    bound = bind_template(template, lambda name: int(name[1:]), [])
    assert bound is not None
    values = [value for _, value in parts]
    expected = "".join(f"{literal}{value.strip()}" for literal, value in parts) + tail
    assert bound.render(values, tidy=False) == expected.strip()


def test_a_template_with_braces_and_attribute_syntax_only_substitutes() -> None:
    template = "{{literal}} {name.__class__} {0}"
    fields = template_fields(template)
    assert fields == ["name.__class__", "0"]
    bound = bind_template(template, {"name.__class__": 0, "0": 1}.get, [])
    assert bound is not None
    assert bound.render(["x", "y"], tidy=False) == "{literal} x y"
