"""``sipalto-sync apply`` end to end against Laravel-style rate-limited sandboxes.

The sandbox announces only ``X-RateLimit-Limit`` and ``-Remaining`` (and, on a 429, when
to come back); the command must keep close to the limit, never storm it, and leave
exactly the planned phonebook. The sandbox runs in this process, so the share of the
limit asked for leaves room for the interpreter it shares with the command.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from apply_helpers import add, expected_phonebook, phonebook_rows, plan_doc

from connector.sandbox import Faults

BOOK = [{"id": "30001", "name": "Alice Archer", "phone1": "01632960001", "phone2": "",
         "phone3": ""}]  # fmt: skip
LIMIT = 20


@pytest.mark.slow
@pytest.mark.parametrize(("headers", "kind"), [("laravel", "fixed"), ("laravel-bare", "sliding")])
def test_apply_keeps_pace_with_a_laravel_server(
    run_cli, sandbox_factory, tmp_path: Path, headers: str, kind: str
) -> None:
    faults = Faults(latency=0.02, rate_limit=(LIMIT, 1.0), rate_headers=headers, rate_window=kind)
    server = sandbox_factory(BOOK, faults=faults)
    items = [add(f"Person {n}", f"0770090{n:04d}") for n in range(60)]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_doc(items, server=server.url)), encoding="utf-8")
    began = time.monotonic()
    result = run_cli("apply", str(plan), "--yes", "--concurrency", "4", server=server,
                     env={"SIPALTO_SYNC_HOME": str(tmp_path / "home")})  # fmt: skip
    elapsed = time.monotonic() - began
    assert result.exit_code == 0, result.output
    assert phonebook_rows(server.state.snapshot()) == expected_phonebook(BOOK, items)
    statuses = [status for _, _, status in server.state.requests]
    assert statuses.count(429) <= 1
    # The pacer of old paused a whole second each time Remaining reached 0: half the limit.
    assert len(statuses) / elapsed >= 0.75 * LIMIT
