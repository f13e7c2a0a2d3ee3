"""``sipalto-sync demo``: the whole job against an in-process sandbox, explained step by step.

Nothing here is demo-only logic: each step calls the same library functions as the
commands it names, against a sandbox seeded with the docs' contacts and the sample
company phonebook, on a free loopback port. The journal and backups go to a temporary
directory so a demo never mixes with real runs.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from connector.apply.engine import ApplyEngine
from connector.apply.journal import Journal
from connector.apply.target import plan_target
from connector.calls.history import list_calls
from connector.config import ConnectionSettings
from connector.paths import resource_dir
from connector.reconcile.workflow import plan_from_source
from connector.sandbox import SandboxServer
from connector.ui.apply_view import describe_operations, render_apply_report
from connector.ui.calls_view import write_calls
from connector.ui.contacts_view import write_contacts
from connector.ui.plan_view import render_plan_text

Say = Callable[[str], None]

DEMO_SOURCE = "contacts.csv"


def run_demo(say: Say, *, color: bool = False) -> int:
    """Start a sandbox on a free loopback port and walk through the job against it.

    Returns the process exit code.
    """
    say("Starting the Sipalto sandbox (a local emulator of the documented API)...")
    source = resource_dir("sample_data") / DEMO_SOURCE
    with SandboxServer() as server, tempfile.TemporaryDirectory() as workdir:
        settings = ConnectionSettings(base_url=server.url, username="demo", password="demo")
        say(f"  listening on {server.url}; log in as demo/demo. By hand:")
        say(f"  SIPALTO_BASE_URL={server.url} SIPALTO_USERNAME=demo SIPALTO_PASSWORD=demo \\")
        say("    sipalto-sync contacts list")
        with settings.client() as api:
            _step(say, 1, "The global phonebook as it is now (sipalto-sync contacts list)")
            contacts = api.list_contacts()
            say(_captured(lambda out: write_contacts(contacts, "table", out, color=color)))

            _step(say, 2, f"Plan: compare sample_data/{DEMO_SOURCE} with it "
                          f"(sipalto-sync plan sample_data/{DEMO_SOURCE})")  # fmt: skip
            plan, read = plan_from_source(api, source)
            for message in read.messages:
                say(f"  {message}")
            say(render_plan_text(plan, color=color))
            say("  Reviews (?) and rejected records (!) are never applied; resolve reviews with")
            say("  --decisions. Nothing has been written yet: this was a dry run.")

            _step(say, 3, "Apply the plan (sipalto-sync apply plan.json --yes)")
            target = plan_target(plan)
            say(describe_operations(target))
            with Journal(Path(workdir) / "journal.sqlite") as journal:
                engine = ApplyEngine(api, journal, backup_dir=Path(workdir) / "backups")
                report = engine.run(target)
            say(render_apply_report(report))

            _step(say, 4, "Plan again: nothing should be left to do")
            again, _ = plan_from_source(api, source)
            say(render_plan_text(again, color=color))

            _step(say, 5, "Who called extension 1009 on 2025-10-08, named from the phonebook "
                          "(sipalto-sync calls list -n 1009 --start 2025-10-08)")  # fmt: skip
            calls = list_calls(
                api, ["1009"], datetime(2025, 10, 8), datetime(2025, 10, 8, 23, 59),
                phonebook=api.list_contacts(),
            )  # fmt: skip
            say(_captured(lambda out: write_calls(calls, "table", out, color=color)))
    say("Done. The sandbox has been stopped; nothing outside this machine was contacted.")
    return 0 if report.ok and not again.has_changes else 1


def _step(say: Say, number: int, title: str) -> None:
    say("")
    say(f"Step {number}: {title}")
    say("")


def _captured(write: Callable[[io.StringIO], None]) -> str:
    buffer = io.StringIO()
    write(buffer)
    return buffer.getvalue().rstrip()
