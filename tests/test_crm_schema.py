"""CRM mapping files: every mistake is one line naming the file, the line and the key,
before any request; variables and secrets."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from config_errors import places
from hypothesis import given
from hypothesis import strategies as st

from adapters.crm.redact import Redactor
from adapters.crm.schema import (
    CrmMapping,
    duration_seconds,
    load_crm_mapping,
    parse_crm_mapping,
)
from adapters.mapping import load_mapping, preset_text
from connector.errors import ConfigError

GOOD = """\
description: test
client:
  headers: {X-Client: "id ${CLIENT_TAG:-none}", X-Key: "Key ${API_KEY}"}
  auth: {type: bearer, token: "${TOKEN}"}
endpoint:
  path: /people
  params: {limit: 100, archived: false, key: "${API_KEY}"}
  data_selector: data
paginator: {type: cursor, cursor_path: meta.next, cursor_param: cursor}
fields:
  key: id
  name: ["{first} {last}", company]
  phones: [phone, {path: "phones[*]", value: value}]
"""


def parse(text: str) -> CrmMapping:
    return parse_crm_mapping(text, name="test", origin="test.yaml")


def test_a_good_mapping_reads_with_defaults() -> None:
    settings = parse(GOOD).settings
    assert settings.endpoint.params == {"limit": "100", "archived": "false", "key": "${API_KEY}"}
    assert settings.fields.name == ["{first} {last}", "{company}"]
    assert settings.max_pages == 10_000 and settings.limits.retries == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("cursor_param", "cursor_parm"),
         "test.yaml:9: paginator.cursor_parm: unknown setting; did you mean 'cursor_param'?"),
        (("type: cursor", "type: cursr"), "test.yaml:9: paginator: input tag 'cursr'"),
        (("limit: 100", "limit: [100]"), "test.yaml:7: endpoint.params.limit: must be text"),
        (("meta.next", "meta..next"),
         "test.yaml:9: paginator.cursor_path: the path 'meta..next' has an empty step"),
        (("type: bearer, ", "type: bearer, tokn: x, "),
         "test.yaml:4: client.auth.tokn: unknown setting; did you mean 'token'?"),
        (("  key: id\n", "  key: id\n  nmae: x\n"), "test.yaml:12: fields.nmae: unknown setting"),
        (("  data_selector: data\n", "  data_selector: data\n  jsn: {}\n"),
         "test.yaml:9: endpoint.jsn: unknown setting; did you mean 'json'?"),
        (('["{first} {last}", company]', '["{first"]'),
         "test.yaml:12: fields.name[0]: '{first' opens a '{' at character 1 that is never closed"),
        (("  phones: [phone", "  phones: [{label: x}"),
         "test.yaml:13: fields.phones[0].path: missing"),
    ],
)  # fmt: skip
def test_a_mistake_is_one_line_naming_file_line_and_key(
    change: tuple[str, str], message: str
) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_endpoint_makes_it_a_file_mapping() -> None:
    with pytest.raises(ConfigError, match=r"test\.yaml is a file mapping"):
        parse("name: Name\nphones: [Phone]\n")


def test_a_crm_mapping_given_for_a_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "crm.yaml"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"crm.yaml is a CRM mapping: it reads a CRM's web API"):
        load_mapping(path)
    assert load_crm_mapping(path).name == "crm"


def test_resolving_fills_variables_and_knows_the_secrets() -> None:
    resolved = parse(GOOD).resolve({"TOKEN": "t0k3n-abc", "API_KEY": "k3y-xyz"})
    settings = resolved.settings
    assert settings.client.headers == {"X-Client": "id none", "X-Key": "Key k3y-xyz"}
    assert settings.endpoint.params["key"] == "k3y-xyz"
    redact = resolved.redactor
    assert redact("t0k3n-abc and k3y-xyz; Key stays") == "*** and ***; Key stays"
    assert redact.is_secret("k3y-xyz") and not redact.is_secret("none")


def test_variables_are_the_ones_without_a_default() -> None:
    assert parse(GOOD).variables() == ["TOKEN", "API_KEY"]


def test_every_unset_variable_is_named_in_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse(GOOD).resolve({})
    assert str(caught.value) == (
        "test.yaml:3: client.headers.X-Key: environment variable API_KEY is not set "
        "(or write ${API_KEY:-default}); also not set: TOKEN"
    )


def test_a_variable_in_a_number_setting_is_refused_as_written() -> None:
    text = GOOD.replace("paginator: {", "max_pages: ${PAGES}\npaginator: {")
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert str(caught.value).startswith(
        "test.yaml:9: max_pages: must be a whole number, not the text '${PAGES}'"
    )


def test_durations() -> None:
    assert duration_seconds("7d") == 7 * 86400 and duration_seconds("12h") == 43200
    with pytest.raises(ConfigError, match=r"incremental\.full_every: must be a duration"):
        parse(GOOD + "incremental: {param: since, cursor_path: updated, full_every: weekly}\n")


def test_incremental_needs_one_way_to_send_since() -> None:
    with pytest.raises(ConfigError, match="give one of param and filter"):
        parse(GOOD + "incremental: {cursor_path: updated}\n")


def test_a_page_token_needs_its_parameter() -> None:
    text = GOOD.replace(
        "paginator: {type: cursor, cursor_path: meta.next, cursor_param: cursor}",
        "paginator: {type: page_number, token_path: info.next}",
    )
    with pytest.raises(ConfigError, match="give token_path and token_param together"):
        parse(text)


def test_the_redactor_hides_encoded_forms_and_url_query_values() -> None:
    redact = Redactor(["a b/c+d==", "xy"])
    assert redact("q=a%20b%2Fc%2Bd%3D%3D and a+b%2Fc%2Bd%3D%3D") == "q=*** and ***"
    assert redact.url("https://u:p@h.test:8443/p?api=xy&x=1#frag") == (
        "https://h.test:8443/p?api=***&x=1"
    )


# -- any change of a value's type gives a mapping or a mistake at a line --------------------

SWAPS = st.one_of(
    st.sampled_from(["no", "{x", "x}", "", "a..b", "[*]", 0, -1, 1.5, True, None]),
    st.sampled_from([[], ["a"], {}, {"a": 1}, {"type": "cursor"}, {"path": "x"}]),
    st.text(max_size=6),
    st.integers(),
)
PRESETS = ["dynamics", "hubspot", "pipedrive", "salesforce", "zoho"]


@st.composite
def mutated_presets(draw: st.DrawFn) -> str:
    data = yaml.safe_load(preset_text(draw(st.sampled_from(PRESETS))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(places(data)))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        how = draw(st.sampled_from(["swap", "swap", "rename", "remove"]))
        if how == "swap":
            parent[path[-1]] = copy.deepcopy(draw(SWAPS))
        elif isinstance(parent, dict) and how == "rename":
            parent[draw(st.sampled_from(["typ", "pth", "x", "labels"]))] = parent.pop(path[-1])
        elif isinstance(parent, dict) and path != ("endpoint",):
            del parent[path[-1]]
    return yaml.safe_dump(data, sort_keys=False)


@given(mutated_presets())
def test_a_mutated_preset_is_a_mapping_or_one_line_with_a_line_number(text: str) -> None:
    try:
        parse(text)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message
        assert message.startswith("test.yaml:") or message.startswith("test.yaml is a file")
        assert error.line is not None or "file mapping" in message


def test_a_paginator_type_holding_a_line_break_is_still_one_line() -> None:
    # Found by the mutation property above: pydantic's message quoted the tag as it was.
    text = (
        "client:\n  base_url: https://x.example\nendpoint:\n  path: /c\n"
        "paginator:\n  type: '\n\n    '\nfields:\n  name: name\n  phones: [phone]\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse(text)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("test.yaml:5: paginator: input tag '\\n' found")
