"""Benchmark: the plan's web page of a 100,000-item plan, made and opened.

A realistic plan (``bench_plan``'s UK contacts, planned by ``make_plan``: adds, updates,
reviews, duplicates and unchanged items in a bulk migration's proportions) is saved as a
plan file; then ``sipalto-sync report plan.json -o plan.html`` runs as a process of its
own (wall time, peak RSS from ``os.wait4``, the page's size), and the page is opened in
headless Chromium (the distribution's ``chromium`` through Playwright, as the browser tests
do): the navigation's ``domContentLoaded`` and ``loadEventEnd``, the time until the page's
script has drawn the first page of rows (the page is usable), and the time a search of
every row takes.

Usage::

    python benchmarks/bench_report.py                  # 100,000 items
    python benchmarks/bench_report.py --size 10000

Target (issue 15): a 100,000-item plan opens in a browser in a few seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench_plan import build

from connector.reconcile.plan import PlanSettings
from connector.reconcile.planfile import save_plan
from connector.reconcile.planner import make_plan
from connector.reconcile.workflow import cyclic_gc_paused

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser import browser_missing, chromium, new_tab, open_page


def write_plan_file(size: int, folder: Path) -> Path:
    """A realistic plan of ``size`` records against ``size`` contacts, saved."""
    records, contacts = build(size)
    created = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with cyclic_gc_paused():
        plan = make_plan(records, contacts, PlanSettings(), plan_id="bench", created_at=created)
    path = folder / "plan.json"
    save_plan(plan, path)
    print(f"plan: {len(plan.items):,} items {dict(plan.summary)}")
    return path


def run_report(plan_file: Path, page: Path) -> dict[str, float]:
    """``sipalto-sync report`` in a process of its own: seconds, peak MB, page MB."""
    command = [sys.executable, "-m", "connector", "report", str(plan_file), "-o", str(page)]
    start = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        why = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"report failed: {why}")
    return {
        "seconds": seconds,
        "peak_mb": usage.ru_maxrss / 1024,
        "page_mb": page.stat().st_size / 1e6,
    }


_NAVIGATION = (
    "() => { const n = performance.getEntriesByType('navigation')[0];"
    " return [n.domContentLoadedEventEnd, n.loadEventEnd]; }"
)


def measure_page(path: Path) -> dict[str, float]:
    """Open the page in headless Chromium: when it loaded, when it was usable, a search."""
    with chromium() as browser, new_tab(browser) as opened:
        page = opened.page
        page.goto("about:blank")  # the browser's own start-up is not the page's
        start = time.perf_counter()
        open_page(page, path)
        usable = time.perf_counter() - start
        loaded, load_end = page.evaluate(_NAVIGATION)
        rows = page.evaluate("document.querySelectorAll('tbody tr').length")
        start = time.perf_counter()
        page.locator("#search").fill("smith")  # one input event
        page.locator("#status", has_text="matching").wait_for()
        searched = time.perf_counter() - start - 0.15  # less the page's typing pause
        errors = opened.problems(levels=("error",))
    if errors:
        raise SystemExit(f"console errors: {errors}")
    return {
        "dom_s": loaded / 1000,
        "load_s": load_end / 1000,
        "usable_s": usable,
        "rows_drawn": rows,
        "search_s": searched,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args(argv)
    missing = browser_missing()
    if missing:
        raise SystemExit(missing)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        plan_file = write_plan_file(args.size, Path(folder))
        print(f"plan file: {plan_file.stat().st_size / 1e6:.1f} MB")
        made = run_report(plan_file, Path(folder) / "plan.html")
        print(
            f"report: {made['seconds']:.2f} s, peak RSS {made['peak_mb']:.0f} MB, "
            f"page {made['page_mb']:.1f} MB"
        )
        opened = measure_page(Path(folder) / "plan.html")
        print(
            f"browser: DOMContentLoaded {opened['dom_s']:.2f} s, load {opened['load_s']:.2f} s, "
            f"first rows drawn (usable) {opened['usable_s']:.2f} s "
            f"({opened['rows_drawn']:,} rows), a search of every row {opened['search_s']:.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
