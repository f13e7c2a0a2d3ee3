"""The plan's web page without a browser: escaping, the embedded JSON, the policy, the
static rows, and the ``report`` and ``plan --format html`` commands."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from dataclasses import replace
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

from hostile_plan import HOSTILE, every_kind_plan, with_adds
from hypothesis import given
from hypothesis import strategies as st

from connector.model import ContactFields
from connector.reconcile.plan import Candidate, Plan, PlanItem, PlanSettings, SourceRef
from connector.reconcile.planfile import save_plan
from connector.sandbox import default_seed
from connector.ui.plan_html import PAGE_ROWS, STATIC_ALL_ROWS, page_model, render_plan_html

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"

# Every element the page is made of: data never adds one.
PAGE_TAGS = frozenset([
    "html", "head", "meta", "link", "title", "style", "body", "a", "header", "h1", "h2", "p",
    "dl", "dt", "dd", "div", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    "main", "form", "fieldset", "legend", "label", "input", "select", "option", "section",
    "ul", "li", "span", "details", "summary", "noscript", "footer", "code", "script",
])  # fmt: skip
# Every attribute the page uses: none is an event handler, a style or a source.
PAGE_ATTRIBUTES = frozenset([
    "lang", "charset", "http-equiv", "content", "name", "rel", "href", "class", "id",
    "hidden", "role", "aria-label", "aria-labelledby", "aria-live", "for", "type", "value",
    "checked", "autocomplete", "placeholder", "selected", "scope", "data-section",
])  # fmt: skip


class _Markup(HTMLParser):
    """The elements and attributes of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def markup(page: str) -> _Markup:
    parser = _Markup()
    parser.feed(page)
    parser.close()
    return parser


def embedded(page: str) -> object:
    found = re.search(r'<script type="application/json" id="plan-data">(.*?)</script>', page, re.S)
    assert found, "no plan data in the page"
    return json.loads(found.group(1))


def inline(page: str, tag: str) -> list[str]:
    """The text of every ``<tag>`` without attributes (the page's own code)."""
    return re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.S)


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def check_safe(page: str, plan: Plan) -> None:
    """Nothing from ``plan`` is markup, and the JSON holds exactly the page's model."""
    parsed = markup(page)
    assert set(parsed.tags) <= PAGE_TAGS
    names = {name for name, _ in parsed.attributes}
    assert names <= PAGE_ATTRIBUTES, names - PAGE_ATTRIBUTES
    for name, value in parsed.attributes:
        if name == "href":
            assert value == "data:," or (value or "").startswith("#"), value
    assert page.count("<script") == 2  # the data block and the page's own script
    assert embedded(page) == json.loads(json.dumps(page_model(plan)))


# -- escaping ------------------------------------------------------------------------------


def test_hostile_names_are_text_everywhere() -> None:
    plan = every_kind_plan()
    page = render_plan_html(plan)
    check_safe(page, plan)
    for hostile in HOSTILE:
        if "<" in hostile:
            assert hostile not in page
        assert html.escape(hostile, quote=True) in page  # shown, as text
    data = page[page.index('id="plan-data">') :]
    assert "<" not in data[len('id="plan-data">') : data.index("</script>")]
    assert "\u2028" not in page.split('id="plan-data">')[1].split("</script>")[0]


_text = st.text(max_size=30)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """Plans with arbitrary text in every field a person or a server can write."""

    def fields() -> ContactFields:
        return ContactFields(draw(_text), draw(_text), draw(_text), draw(_text))

    def source() -> SourceRef:
        return SourceRef(draw(_text), draw(_text), draw(_text), tuple(draw(st.lists(_text))))

    items = []
    for n, action in enumerate(draw(st.lists(st.sampled_from(
        ["add", "update", "delete", "review", "rejected", "duplicate", "unchanged", "skip"]
    ), max_size=10))):  # fmt: skip
        candidates = tuple(
            Candidate(draw(_text), fields(), draw(st.floats(0, 100)), draw(_text))
            for _ in range(draw(st.integers(0, 2)))
        )
        items.append(
            PlanItem(
                action,
                id=None if action == "add" else f"{draw(_text)}-{n}",
                before=fields() if action != "add" else None,
                after=fields(),
                source=source() if draw(st.booleans()) else None,
                reason=draw(_text),
                score=draw(st.none() | st.floats(0, 100)),
                warnings=tuple(draw(st.lists(_text, max_size=2))),
                candidates=candidates if action == "review" else (),
            )
        )
    return Plan(
        plan_id=draw(_text),
        created_at=datetime(2025, 1, 1, tzinfo=timezone.utc),
        server=draw(_text),
        base=draw(_text),
        settings=PlanSettings(),
        items=tuple(items),
        warnings=tuple(draw(st.lists(_text, max_size=2))),
    )


@given(plans(), st.none() | _text)
def test_no_text_in_any_field_becomes_markup_and_the_json_round_trips(plan, source) -> None:
    page = render_plan_html(plan, source=source)
    check_safe(page, plan)


def test_a_lone_surrogate_from_a_plan_file_is_replaced_not_a_crash() -> None:
    plan = replace(every_kind_plan(), plan_id="bad \ud800 text")
    page = render_plan_html(plan)
    page.encode("utf-8")
    assert "bad \ufffd" in page


# -- the policy ----------------------------------------------------------------------------


def test_the_policy_allows_only_the_pages_own_script_and_style() -> None:
    page = render_plan_html(every_kind_plan())
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert policy
    rules = dict(rule.strip().split(" ", 1) for rule in html.unescape(policy.group(1)).split(";"))
    (script,), (style,) = inline(page, "script"), inline(page, "style")
    assert rules == {
        "default-src": "'none'",
        "script-src": sha256(script),
        "style-src": sha256(style),
        "img-src": "data:",
        "base-uri": "'none'",
        "form-action": "'none'",
    }
    assert "innerHTML" not in script and "eval(" not in script


# -- the static page -----------------------------------------------------------------------


def test_the_header_names_source_phonebook_time_settings_and_counts() -> None:
    plan = every_kind_plan()
    page = render_plan_html(plan, source="https://user:secret@crm.example/api?token=t0k")
    text = " ".join(markup(page).text)
    assert "https://crm.example/api" in text
    assert "secret" not in page and "t0k" not in page  # userinfo and query never shown
    assert "http://127.0.0.1:9/" in text and plan.base in text
    assert "2025-03-04 05:06:07+00:00" in text
    assert "Plan: 2 to add, 2 to update, 1 to delete, 2 to review, 2 rejected." in text
    assert '<th scope="row"><a href="#s-update">update</a></th><td class="num">2</td>' in page
    assert "<dt>Source</dt><dd>https://crm.example/api</dd>" in page
    assert "Matching thresholds" in page


def test_without_a_source_the_page_names_the_files_of_the_locations() -> None:
    page = render_plan_html(every_kind_plan())
    assert "<dd>contacts.csv (as the items&#x27; locations name it)</dd>" in page


def test_an_update_shows_before_and_after_with_the_changed_fields_marked() -> None:
    page = render_plan_html(every_kind_plan())
    assert (
        '<li class="chg"><span class="mark">~</span> <span class="lbl">name:</span> Jon Smith'
        in page
    )
    assert '<li><span class="mark"> </span> <span class="lbl">phone1:</span> 07852902011' in page
    assert (
        '<li class="chg"><span class="mark">+</span> <span class="lbl">phone2:</span> 07730885627'
        in page
    )
    assert "<td>name, phone2</td>" in page  # the changed fields in words too


def test_a_small_plan_shows_every_row_without_scripts() -> None:
    plan = every_kind_plan()
    page = render_plan_html(plan)
    rows = re.findall(r'<th scope="row" class="num">(\d+)</th>', page)
    # Each item once in its section, and once more per warning in the warnings table.
    warned = sum(len(item.warnings) for item in plan.items)
    assert len(rows) == len(plan.items) + warned
    assert "<noscript>" not in page
    assert '<form class="controls" id="controls" hidden' in page  # no filters without scripts


def test_a_large_plan_shows_a_first_page_of_each_section_and_says_what_is_left() -> None:
    big = with_adds(every_kind_plan(), STATIC_ALL_ROWS)
    page = render_plan_html(big)
    section = page[page.index('id="s-add"') : page.index('id="s-update"')]
    assert len(re.findall(r"<tr><td", section)) == PAGE_ROWS
    hidden = STATIC_ALL_ROWS + 2 - PAGE_ROWS
    assert f"{hidden:,} more adds rows are not shown here" in section
    assert len(embedded(page)["sections"][0]["rows"]) == STATIC_ALL_ROWS + 2  # type: ignore[index]


def test_each_warning_is_listed_with_its_item() -> None:
    page = render_plan_html(every_kind_plan())
    section = page[page.index('id="s-warnings"') : page.index('id="s-add"')]
    assert '<th scope="row" class="num">8</th><td>! rejected</td><td>contacts.csv:8</td>' in section
    assert "phone &#x27;not a number&#x27; is not a number" in section


# -- the commands --------------------------------------------------------------------------


def test_report_writes_the_page_of_a_plan_file(run_cli, tmp_path) -> None:
    plan = every_kind_plan()
    plan_file = tmp_path / "plan.json"
    save_plan(plan, plan_file)
    result = run_cli("report", str(plan_file), "-o", f"{tmp_path}/out/")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "plan.html").read_text(encoding="utf-8")
    assert result.stderr == f"Report of {plan_file} written to {tmp_path / 'out' / 'plan.html'}\n"
    check_safe(page, plan)


def test_report_of_a_missing_or_damaged_plan_file_is_one_line(run_cli, tmp_path) -> None:
    missing = tmp_path / "nope.json"
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"version": 1, "items": [', encoding="utf-8")
    old = tmp_path / "old.json"
    old.write_text('{"items": []}', encoding="utf-8")
    for path, why in [
        (missing, "cannot read plan file"),
        (damaged, "not a plan file (invalid JSON"),
        (old, "no version"),
    ]:
        result = run_cli("report", str(path), "-o", str(tmp_path / "x.html"))
        assert result.exit_code == 1
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Error: {path}: "), result.stderr
        assert why in lines[0]
        assert "Traceback" not in result.output
    assert not (tmp_path / "x.html").exists()


def test_plan_format_html_writes_the_page_of_the_plan(run_cli, sandbox_factory, tmp_path):
    server = sandbox_factory(default_seed())
    source = SAMPLES / "contacts.csv"
    result = run_cli("plan", str(source), "--format", "html", "-o", str(tmp_path), server=server)
    assert result.exit_code == 0, result.output
    page = (tmp_path / "plan-preview.html").read_text(encoding="utf-8")
    assert f"<dt>Source</dt><dd>{html.escape(str(source))}</dd>" in page
    assert f"<dd>{server.url}</dd>" in page
    assert "Plan: 14 to add, 4 to update, 0 to delete, 1 to review, 2 rejected." in page
    assert '<a href="#s-review">review</a>' in page
