"""``sipalto-sync apply`` end to end against Laravel-style rate-limited sandboxes.

Both run as a user runs them: ``sipalto-sync sandbox`` in a process of its own, announcing
only ``X-RateLimit-Limit`` and ``-Remaining`` (and, on a 429, when to come back), and
``sipalto-sync apply`` as a subprocess. The command must keep close to the limit, never
storm it, and leave exactly the planned phonebook. The pace is measured where the
limit is counted: by the sandbox, from its request log.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from apply_helpers import add, contact, expected_phonebook, phonebook_rows, plan_doc

from connector.api.client import SipaltoClient

BOOK = [{"id": "30001", "name": "Alice Archer", "phone1": "01632960001", "phone2": "",
         "phone3": ""}]  # fmt: skip
LIMIT = 20


def sandbox(tmp_path: Path, headers: str, kind: str) -> tuple[subprocess.Popen[str], str]:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(BOOK), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "connector", "sandbox", "--port", "0", "--seed", str(seed),
         "--latency", "0.02", "--rate-limit", f"{LIMIT}/1", "--rate-headers", headers,
         "--rate-window", kind, "--request-log", str(tmp_path / "requests.jsonl")],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stderr is not None
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", process.stderr.readline())
    assert match, "the sandbox did not start"
    return process, match.group(1)


@pytest.mark.slow
@pytest.mark.parametrize(("headers", "kind"), [("laravel", "fixed"), ("laravel-bare", "sliding")])
def test_apply_keeps_pace_with_a_laravel_server(tmp_path: Path, headers: str, kind: str) -> None:
    process, url = sandbox(tmp_path, headers, kind)
    try:
        items = [add(f"Person {n}", f"0770090{n:04d}") for n in range(60)]
        plan = tmp_path / "plan.json"
        plan.write_text(json.dumps(plan_doc(items, server=url)), encoding="utf-8")
        env = {**os.environ, "SIPALTO_BASE_URL": url, "SIPALTO_USERNAME": "demo",
               "SIPALTO_PASSWORD": "demo", "SIPALTO_SYNC_HOME": str(tmp_path / "home")}  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "connector", "apply", str(plan), "--yes", "--concurrency", "4"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        log = (tmp_path / "requests.jsonl").read_text(encoding="utf-8").splitlines()
        answered = [json.loads(line) for line in log]
        with SipaltoClient(url, "demo", "demo") as client:
            final = client.list_contacts()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    rows = [contact(c.name, c.phone1, c.phone2, c.phone3) for c in final]
    assert phonebook_rows(rows) == expected_phonebook(BOOK, items)
    statuses = [entry["status"] for entry in answered]
    assert statuses.count(429) <= 1
    # Accepted requests over the time the server saw them come. The pacer of old paused a
    # whole second each time Remaining reached 0: about half the limit.
    accepted = [entry["at"] for entry in answered if entry["status"] != 429]
    assert (len(accepted) - 1) / (max(accepted) - min(accepted)) >= 0.85 * LIMIT
