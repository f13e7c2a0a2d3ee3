"""The plan's web page in a real browser: headless Chromium (the distribution's
``chromium``) through Playwright.

The page is made by the real ``sipalto-sync report`` command from a plan file holding
every kind of item and hostile names. Skipped when the browser is absent, except under
``CI``, where a missing browser fails: CI must never skip these silently. A screenshot is
kept in ``$SIPALTO_TEST_ARTIFACTS`` (default ``tests/artifacts/``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser import Tab, browser_missing, chromium, new_tab, open_page, page_url
from hostile_plan import HOSTILE, every_kind_plan, with_adds

from connector.model import ContactFields
from connector.reconcile.plan import Plan, PlanItem, SourceRef
from connector.reconcile.planfile import save_plan

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, LocatorAssertions, Page


@pytest.fixture(scope="module", autouse=True)
def _needs_a_browser() -> None:
    """Skip without a browser; under ``CI``, fail: CI must run these, never skip them."""
    missing = browser_missing()
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {missing}", pytrace=False)
    pytest.skip(missing)


ARTIFACTS = Path(
    os.environ.get("SIPALTO_TEST_ARTIFACTS") or Path(__file__).resolve().parent / "artifacts"
)


def report(plan: Plan, folder: Path) -> Path:
    """``sipalto-sync report plan.json -o plan.html``, in a process of its own."""
    plan_file, page = folder / "plan.json", folder / "plan.html"
    save_plan(plan, plan_file)
    done = subprocess.run(
        [sys.executable, "-m", "connector", "report", str(plan_file), "-o", str(page)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as started:
        yield started


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    """A page of its own for each test, in a fresh context."""
    with new_tab(browser) as opened:
        yield opened


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report(every_kind_plan(), tmp_path_factory.mktemp("page"))


def expect(locator: Locator) -> LocatorAssertions:
    """Playwright's ``expect``, imported when used (the module loads without playwright)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


#: The text of the rows a section shows (none when the section is hidden).
_ROWS = (
    "(section) => {"
    " const s = document.getElementById('s-' + section);"
    " if (!s || s.hidden || !s.checkVisibility()) return [];"
    " return [...s.querySelectorAll('tbody tr')].filter(r => r.checkVisibility())"
    ".map(r => r.innerText); }"
)


def rows(page: Page, section: str) -> list[str]:
    """The text of the rows ``section`` shows (none when the section is hidden)."""
    return page.evaluate(_ROWS, section)


def wait_for_rows(page: Page, section: str, count: int) -> None:
    """Wait until ``section`` shows ``count`` rows."""
    page.wait_for_function(f"([s, n]) => ({_ROWS})(s).length === n", arg=[section, count])


def status(page: Page) -> Locator:
    return page.locator("#status")


def sort_header(page: Page, section: str, column: str) -> Locator:
    """The header cell of ``column`` in ``section``'s table (it holds the sort button)."""
    return page.locator(f"#t-{section} th").filter(has=page.get_by_text(column, exact=True))


def test_nothing_from_the_data_runs_and_the_console_is_clean(tab, hostile_page) -> None:
    page = tab.page
    open_page(page, hostile_page)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    for summary in page.locator("summary").all():
        summary.click()  # the unchanged rows too
    text = page.locator("body").inner_text()
    for hostile in HOSTILE[:7]:
        assert hostile in text  # shown as the text it is
    assert page.evaluate("document.querySelectorAll('img, svg, iframe').length") == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert tab.problems() == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "plan-every-kind.png")


def test_each_action_has_its_section_and_mark(tab, hostile_page) -> None:
    page = tab.page
    open_page(page, hostile_page)
    assert status(page).inner_text() == "Showing 13 of 13 items."
    assert rows(page, "add")[0].startswith("+\t1\tcontacts.csv:2\t<script>")
    assert rows(page, "update")[0].startswith("~\t3\t30001")
    assert rows(page, "delete")[0].startswith("-\t5\t30003")
    assert len(rows(page, "review")) == 2
    assert "71.5" in rows(page, "review")[0]  # a candidate with its score and reason
    assert "no name" in rows(page, "rejected")[1]
    assert rows(page, "unchanged") == []  # collapsed until opened


def test_the_action_filters_hide_and_show_rows_by_keyboard(tab, hostile_page) -> None:
    page = tab.page
    open_page(page, hostile_page)
    box = page.locator('input[name="action"][value="update"]')
    box.press("Space")
    wait_for_rows(page, "update", 0)
    assert status(page).inner_text() == "Showing 11 of 13 items."
    assert not any("~ update" in row for row in rows(page, "warnings"))
    assert len(rows(page, "add")) == 2
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    box.press("Space")
    wait_for_rows(page, "update", 2)
    assert any("~ update" in row for row in rows(page, "warnings"))


def test_the_search_narrows_every_section(tab, hostile_page) -> None:
    page = tab.page
    open_page(page, hostile_page)
    search = page.locator("#search")
    search.press_sequentially("MEGAN")
    expect(status(page)).to_have_text("Showing 1 of 13 items matching \u201cmegan\u201d.")
    assert len(rows(page, "add")) == 1 and "Megan Price" in rows(page, "add")[0]
    assert rows(page, "update") == ["No rows match."]
    search.clear()
    search.press_sequentially("07852902011")  # a number, in the before and after fields
    expect(status(page)).to_have_text("Showing 1 of 13 items matching \u201c07852902011\u201d.")
    assert rows(page, "update")[0].startswith("~\t3\t")
    assert tab.problems() == []


def test_sorting_by_a_column_and_back(tab, hostile_page) -> None:
    page = tab.page
    open_page(page, hostile_page)
    names = "[...document.querySelectorAll('#b-add tr td:nth-child(4)')].map(c => c.textContent)"
    assert page.evaluate(names) == [HOSTILE[0], "Megan Price"]
    header = sort_header(page, "add", "Name")
    header.get_by_role("button").press("Enter")
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert page.evaluate(names) == [HOSTILE[0], "Megan Price"]  # "<" before "M"
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    assert page.evaluate(names) == ["Megan Price", HOSTILE[0]]
    sort_header(page, "review", "Score").get_by_role("button").click()
    assert rows(page, "review")[0].startswith("?\t6\t")  # 88 first, no score last
    assert tab.problems() == []


def test_a_long_section_pages(tab, tmp_path) -> None:
    page = tab.page
    open_page(page, report(with_adds(every_kind_plan(), 448), tmp_path))
    assert len(rows(page, "add")) == 100
    pager = page.locator("#s-add .pager")
    assert "Rows 1\u2013100 of 450" in pager.inner_text()
    pager.get_by_text("Next", exact=True).click()
    expect(pager).to_contain_text("Rows 101\u2013200 of 450")
    pager.get_by_text("Last", exact=True).click()
    wait_for_rows(page, "add", 50)
    assert tab.problems() == []


def test_with_scripts_off_the_page_still_reads(browser, hostile_page) -> None:
    with new_tab(browser, javascript=False) as tab:
        page = tab.page
        page.goto(page_url(hostile_page))
        assert not page.locator("#controls").is_visible()
        text = page.locator("body").inner_text()
        assert "Plan: 2 to add, 2 to update, 1 to delete, 2 to review, 2 rejected." in text
        assert len(rows(page, "add")) == 2 and len(rows(page, "review")) == 2
        assert HOSTILE[0] in text
        assert tab.problems() == []


@pytest.mark.slow
def test_a_plan_of_100000_items_opens_in_a_few_seconds(tab, tmp_path) -> None:
    plan = every_kind_plan()
    many = tuple(
        PlanItem(
            "update" if n % 5 == 0 else "unchanged",
            id=str(100000 + n),
            before=ContactFields(f"Person {n}", f"07700{n:06d}"),
            after=ContactFields(f"Person {n}", f"07700{n:06d}", "01632960000" if n % 5 else ""),
            source=SourceRef(f"row:{n}", f"big.csv:{n}", f"Person {n}"),
            reason="same number",
        )
        for n in range(100_000)
    )
    page_file = report(replace(plan, items=plan.items + many), tmp_path)
    page = tab.page
    start = time.monotonic()
    open_page(page, page_file)
    seconds = time.monotonic() - start
    assert seconds < 10, f"{seconds:.1f} s to open"
    assert "of 20,002" in page.locator("#s-update .pager").inner_text()
    page.locator("#search").press_sequentially("Person 99999")
    expect(status(page)).to_contain_text("matching", timeout=20_000)
    assert tab.problems() == []
