"""Benchmark: apply 1,000 adds and 1,000 updates against a throttled, slow sandbox.

The sandbox runs in its own process (so its event loop does not share our GIL) with
50 ms latency and a 25 requests/s per-user limit. Reported:

* the achieved request rate as a fraction of the limit (target: at least 0.9),
* how many 429 answers the run received,
* the time of a one-request-at-a-time baseline over the same work.

Usage: ``python benchmarks/bench_apply.py [--adds 1000] [--updates 1000] [--no-baseline]``
Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from connector.api.client import SipaltoClient
from connector.apply.engine import ApplyEngine
from connector.apply.journal import Journal
from connector.apply.target import read_plan_document

LATENCY = 0.05
LIMIT = 25


def start_sandbox(seed: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "connector", "sandbox", "--port", "0", "--seed", str(seed),
            "--latency", str(LATENCY), "--rate-limit", f"{LIMIT}/1",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stderr is not None
    line = process.stderr.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"sandbox did not start: {line}")
    return process, match.group(1)


def make_work(adds: int, updates: int) -> tuple[list[dict], dict]:
    seed = [
        {"id": str(40000 + n), "name": f"Existing {n}", "phone1": f"0161496{n:04d}",
         "phone2": "", "phone3": ""}
        for n in range(updates)
    ]  # fmt: skip
    items = []
    for n in range(adds):
        after = {"name": f"New {n}", "phone1": f"0770090{n:04d}", "phone2": "", "phone3": ""}
        items.append({"action": "add", "id": None, "before": None, "after": after,
                      "source": {"key": f"k{n}", "location": f"bench:{n}"}})  # fmt: skip
    for contact in seed:
        before = {k: contact[k] for k in ("name", "phone1", "phone2", "phone3")}
        after = {**before, "phone2": "07700900999"}
        items.append({"action": "update", "id": contact["id"], "before": before, "after": after,
                      "source": {"key": contact["id"], "location": "bench"}})  # fmt: skip
    doc = {"version": 1, "plan_id": uuid.uuid4().hex, "server": "", "base": None, "items": items}
    return seed, doc


def run(adds: int, updates: int, concurrency: int, workdir: Path) -> dict:
    seed, doc = make_work(adds, updates)
    seed_path = workdir / f"seed-{concurrency}.json"
    seed_path.write_text(json.dumps(seed), encoding="utf-8")
    process, url = start_sandbox(seed_path)
    try:
        with SipaltoClient(url, "demo", "demo") as client:
            journal = Journal(workdir / f"journal-{concurrency}.sqlite")
            engine = ApplyEngine(
                client, journal, backup_dir=workdir / "backups", concurrency=concurrency
            )
            started = time.perf_counter()
            report = engine.run(read_plan_document(doc))
            elapsed = time.perf_counter() - started
            final = client.list_contacts()
    finally:
        process.terminate()
        process.wait(timeout=10)
    writes = adds + updates
    # Reads around the writes: login, the first read, the final read (and any verifications).
    reads = 3
    expected = len(seed) + adds
    assert report.ok, "apply did not complete"
    assert len(final) == expected, f"phonebook has {len(final)} contacts, expected {expected}"
    return {
        "concurrency": concurrency,
        "seconds": elapsed,
        "requests": writes + reads,
        "rate": (writes + reads) / elapsed,
        "fraction": (writes + reads) / elapsed / LIMIT,
        "throttled": report.requests_throttled,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adds", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(args.adds, args.updates, args.concurrency, Path(tmp))]
        if not args.no_baseline:
            results.append(run(args.adds, args.updates, 1, Path(tmp)))
    print(f"{args.adds} adds + {args.updates} updates; sandbox latency {LATENCY * 1000:.0f} ms, "
          f"limit {LIMIT} requests/s per user")  # fmt: skip
    print(f"{'concurrency':>11} {'seconds':>8} {'req/s':>7} {'of limit':>8} {'429s':>5}")
    for r in results:
        print(f"{r['concurrency']:>11} {r['seconds']:>8.1f} {r['rate']:>7.2f} "
              f"{r['fraction']:>8.2f} {r['throttled']:>5}")  # fmt: skip
    if len(results) == 2:
        print(f"speed-up over one-at-a-time: {results[1]['seconds'] / results[0]['seconds']:.2f}x")


if __name__ == "__main__":
    main()
