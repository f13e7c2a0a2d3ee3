"""The real ``sipalto-sync`` command in a process of its own, for tests that signal or race it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path


def start_apply(
    plan: Path,
    url: str,
    home: Path,
    *options: str,
    env: Mapping[str, str] | None = None,
    quiet: bool = False,
) -> subprocess.Popen[str]:
    """``sipalto-sync [-q] apply PLAN --yes OPTIONS`` against ``url``, its data in ``home``;
    ``env`` adds to (or overrides) the environment, e.g. ``SIPALTO_TIMEOUT``."""
    env = {**os.environ, "SIPALTO_BASE_URL": url, "SIPALTO_USERNAME": "demo",
           "SIPALTO_PASSWORD": "demo", "SIPALTO_SYNC_HOME": str(home), "NO_COLOR": "1",
           **(env or {})}  # fmt: skip
    quieter = ["-q"] if quiet else []
    return subprocess.Popen(
        [sys.executable, "-m", "connector", *quieter, "apply", str(plan), "--yes", *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], *, timeout: float = 20.0, what: str = "") -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)
