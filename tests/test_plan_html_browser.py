"""The plan's web page in a real browser: headless Chromium (the distribution's
``chromium`` and ``chromium-driver``) through Selenium.

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
from typing import Any

import pytest
from browser import browser_missing, chromium, page_url
from hostile_plan import HOSTILE, every_kind_plan, with_adds

from connector.model import ContactFields
from connector.reconcile.plan import Plan, PlanItem, SourceRef
from connector.reconcile.planfile import save_plan


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
def driver() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report(every_kind_plan(), tmp_path_factory.mktemp("page"))


def open_page(driver: Any, page: Path) -> None:
    driver.get(page_url(page))
    wait(lambda: driver.execute_script("return document.documentElement.dataset.ready"))


def wait(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        time.sleep(0.05)


def problems(driver: Any) -> list[dict[str, Any]]:
    """The console's errors and warnings (a policy violation is one)."""
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def rows(driver: Any, section: str) -> list[str]:
    """The text of the rows ``section`` shows (none when the section is hidden)."""
    return driver.execute_script(
        "const s = document.getElementById('s-' + arguments[0]);"
        "if (!s || s.hidden || !s.checkVisibility()) return [];"
        "return [...s.querySelectorAll('tbody tr')].filter(r => r.checkVisibility())"
        ".map(r => r.innerText);",
        section,
    )


def status(driver: Any) -> str:
    return driver.find_element("id", "status").text


def test_nothing_from_the_data_runs_and_the_console_is_clean(driver, hostile_page) -> None:
    open_page(driver, hostile_page)
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    for details in driver.find_elements("tag name", "summary"):
        details.click()  # the unchanged rows too
    text = driver.find_element("tag name", "body").text
    for hostile in HOSTILE[:7]:
        assert hostile in text  # shown as the text it is
    assert driver.execute_script("return document.querySelectorAll('img, svg, iframe').length") == 0
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert problems(driver) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "plan-every-kind.png"))


def test_each_action_has_its_section_and_mark(driver, hostile_page) -> None:
    open_page(driver, hostile_page)
    assert status(driver) == "Showing 13 of 13 items."
    assert rows(driver, "add")[0].startswith("+\t1\tcontacts.csv:2\t<script>")
    assert rows(driver, "update")[0].startswith("~\t3\t30001")
    assert rows(driver, "delete")[0].startswith("-\t5\t30003")
    assert len(rows(driver, "review")) == 2
    assert "71.5" in rows(driver, "review")[0]  # a candidate with its score and reason
    assert "no name" in rows(driver, "rejected")[1]
    assert rows(driver, "unchanged") == []  # collapsed until opened


def test_the_action_filters_hide_and_show_rows_by_keyboard(driver, hostile_page) -> None:
    from selenium.webdriver.common.keys import Keys

    open_page(driver, hostile_page)
    box = driver.find_element("css selector", 'input[name="action"][value="update"]')
    box.send_keys(Keys.SPACE)
    wait(lambda: rows(driver, "update") == [])
    assert status(driver) == "Showing 11 of 13 items."
    assert not any("~ update" in row for row in rows(driver, "warnings"))
    assert len(rows(driver, "add")) == 2
    outline = driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    box.send_keys(Keys.SPACE)
    wait(lambda: len(rows(driver, "update")) == 2)
    assert any("~ update" in row for row in rows(driver, "warnings"))


def test_the_search_narrows_every_section(driver, hostile_page) -> None:
    open_page(driver, hostile_page)
    driver.find_element("id", "search").send_keys("MEGAN")
    wait(lambda: status(driver) == "Showing 1 of 13 items matching \u201cmegan\u201d.")
    assert len(rows(driver, "add")) == 1 and "Megan Price" in rows(driver, "add")[0]
    assert rows(driver, "update") == ["No rows match."]
    search = driver.find_element("id", "search")
    search.clear()
    search.send_keys("07852902011")  # a number, in the before and after fields
    wait(lambda: status(driver) == "Showing 1 of 13 items matching \u201c07852902011\u201d.")
    assert rows(driver, "update")[0].startswith("~\t3\t")
    assert problems(driver) == []


def test_sorting_by_a_column_and_back(driver, hostile_page) -> None:
    from selenium.webdriver.common.keys import Keys

    open_page(driver, hostile_page)
    names = (
        "return [...document.querySelectorAll('#b-add tr td:nth-child(4)')].map(c => c.textContent)"
    )
    assert driver.execute_script(names) == [HOSTILE[0], "Megan Price"]
    header = driver.find_element("xpath", "//table[@id='t-add']//th[.//button[text()='Name']]")
    header.find_element("tag name", "button").send_keys(Keys.ENTER)
    wait(lambda: header.get_attribute("aria-sort") == "ascending")
    assert driver.execute_script(names) == [HOSTILE[0], "Megan Price"]  # "<" before "M"
    header.find_element("tag name", "button").click()
    wait(lambda: header.get_attribute("aria-sort") == "descending")
    assert driver.execute_script(names) == ["Megan Price", HOSTILE[0]]
    score = driver.find_element("xpath", "//table[@id='t-review']//th[.//button[text()='Score']]")
    score.find_element("tag name", "button").click()
    assert rows(driver, "review")[0].startswith("?\t6\t")  # 88 first, no score last
    assert problems(driver) == []


def test_a_long_section_pages(driver, tmp_path) -> None:
    open_page(driver, report(with_adds(every_kind_plan(), 448), tmp_path))
    assert len(rows(driver, "add")) == 100
    pager = driver.find_element("css selector", "#s-add .pager")
    assert "Rows 1\u2013100 of 450" in pager.text
    pager.find_element("xpath", ".//button[text()='Next']").click()
    wait(lambda: "Rows 101\u2013200 of 450" in pager.text)
    pager.find_element("xpath", ".//button[text()='Last']").click()
    wait(lambda: len(rows(driver, "add")) == 50)
    assert problems(driver) == []


def test_with_scripts_off_the_page_still_reads(hostile_page) -> None:
    with chromium(javascript=False) as driver:
        driver.get(page_url(hostile_page))
        assert not driver.find_element("id", "controls").is_displayed()
        text = driver.find_element("tag name", "body").text
        assert "Plan: 2 to add, 2 to update, 1 to delete, 2 to review, 2 rejected." in text
        assert len(rows(driver, "add")) == 2 and len(rows(driver, "review")) == 2
        assert HOSTILE[0] in text
        assert problems(driver) == []


@pytest.mark.slow
def test_a_plan_of_100000_items_opens_in_a_few_seconds(driver, tmp_path) -> None:
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
    page = report(replace(plan, items=plan.items + many), tmp_path)
    start = time.monotonic()
    open_page(driver, page)
    seconds = time.monotonic() - start
    assert seconds < 10, f"{seconds:.1f} s to open"
    assert "of 20,002" in driver.find_element("css selector", "#s-update .pager").text
    driver.find_element("id", "search").send_keys("Person 99999")
    wait(lambda: "matching" in status(driver), timeout=20)
    assert problems(driver) == []
