"""Working data left to the end of the process (connector.lifetime)."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import pytest

from connector import lifetime


class _Data:
    """Something weak-referenceable standing for a plan's working data."""


@pytest.fixture(autouse=True)
def _nothing_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifetime, "_kept", None)


def test_keep_holds_nothing_unless_the_process_is_to_end_without_freeing() -> None:
    data = _Data()
    alive = weakref.ref(data)
    lifetime.keep(data)
    del data
    gc.collect()
    assert alive() is None  # a library caller's memory is freed as usual


def test_after_keep_until_exit_what_is_kept_outlives_its_last_reference() -> None:
    lifetime.keep_until_exit()
    data = _Data()
    alive = weakref.ref(data)
    lifetime.keep(data)
    del data
    gc.collect()
    assert alive() is not None


def test_the_console_script_keeps_working_data_and_the_in_process_runner_does_not() -> None:
    """``main()`` (the console script, ended by ``os._exit``) turns keeping on; importing
    the command line, as the tests' in-process runner does, leaves it off."""
    code = (
        "import connector.cli.app as app, connector.lifetime as lt\n"
        "assert lt._kept is None\n"
        "import sys; sys.argv = ['sipalto-sync', '--version']\n"
        "import atexit; atexit.register(lambda: print('kept' if lt._kept is not None else 'off'))\n"
        "app.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "kept"
