"""Headless Chromium from the distribution's packages, driven by Playwright, for the tests
and the report benchmark: never a browser downloaded by ``playwright install``.

Playwright rather than Selenium: Selenium needs ``trio``, and ``httpcore`` (under the
tool's HTTP client) imports ``trio`` whenever it is installed, about 0.1 s of every command
run from a venv with the test extra.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize

#: The package's program (``apt-get install chromium``; ``.ci/run`` does).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

_ARGUMENTS = (
    "--no-sandbox",  # root in a container has no user namespace for the sandbox
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
_VIEWPORT: ViewportSize = {"width": 1280, "height": 1600}

#: The console's levels a test holds against the page (a policy violation is an error).
PROBLEMS = ("error", "warning")


def browser_missing() -> str | None:
    """Why no browser test can run here, or None when one can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: apt-get install chromium"
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium (each page gets a context of its own: see :func:`new_tab`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(_ARGUMENTS)
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """A page, and what its console said (``level: text``; uncaught errors are errors)."""

    page: Page
    console: list[tuple[str, str]] = field(default_factory=list)

    def problems(self, levels: tuple[str, ...] = PROBLEMS) -> list[str]:
        """The console's messages of ``levels`` (errors and warnings unless told)."""
        return [f"{level}: {text}" for level, text in self.console if level in levels]

    def _message(self, message: ConsoleMessage) -> None:
        self.console.append((message.type, message.text))

    def _uncaught(self, error: Exception) -> None:
        self.console.append(("error", f"uncaught {error}"))


@contextmanager
def new_tab(browser: Browser, *, javascript: bool = True) -> Iterator[Tab]:
    """A page in a fresh context (no state shared with another page), its console kept."""
    context = browser.new_context(viewport=_VIEWPORT, java_script_enabled=javascript)
    try:
        opened = Tab(context.new_page())
        opened.page.on("console", opened._message)
        opened.page.on("pageerror", opened._uncaught)
        yield opened
    finally:
        context.close()


def open_page(page: Page, path: Path) -> None:
    """Open a plan page and wait until its script has drawn the rows."""
    page.goto(page_url(path))
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")


def page_url(path: Path) -> str:
    """The ``file://`` URL of a page on disk."""
    return path.resolve().as_uri()
