"""Benchmark: a nightly ``sipalto-sync sync`` run over 10,000 records where nothing changed.

The sandbox runs in its own process (``sipalto-sync sandbox``, with a request log) holding
a realistic phonebook of N contacts, and the source is N realistic records with a key
column, both from ``bench_plan.build`` (numbers written the many ways people write them,
names spelt differently on each side, duplicates, shared switchboards). A first run
(not measured) binds, adds and updates what it must; then the measured runs repeat the
job with nothing changed, each ``sipalto-sync sync --config JOB -q`` as a subprocess of
its own. Reported per measured run:

* wall time of the command (interpreter start-up included), and its peak RSS (the
  child's own ``ru_maxrss``, from ``wait4``);
* the requests it sent, from the sandbox's log: the goal is one login, one phonebook
  read and no write.

Usage: ``python benchmarks/bench_sync.py [--size 10000] [--runs 3]``. Talks only to
127.0.0.1. Target on a 2-core machine: under 3 s for 10,000 records.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import statistics
import sys
import tempfile
from pathlib import Path

from bench_apply import run_measured, start_sandbox
from bench_plan import build

READ = "/phone-books/get-global-contacts"
LOGIN = "/auth/login"


def write_scene(folder: Path, size: int) -> Path:
    """The phonebook seed, the source (with a key column) and the job file; the job file."""
    records, contacts = build(size)
    (folder / "seed.json").write_text(
        json.dumps([{"id": c.id, "name": c.name, "phone1": c.phone1, "phone2": c.phone2,
                     "phone3": c.phone3} for c in contacts]),
        encoding="utf-8",
    )  # fmt: skip
    with (folder / "contacts.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["ID", "Name", "Phone 1", "Phone 2", "Phone 3"])
        for n, record in enumerate(records):
            phones = [p.value for p in record.phones] + ["", "", ""]
            writer.writerow([f"CRM-{n:06d}", record.name, *phones[:3]])
    job = folder / "job.yaml"
    job.write_text(
        "job: bench\nsource:\n  path: contacts.csv\nstate: state/bench.db\n"
        "policy:\n  delete: owned\n",
        encoding="utf-8",
    )
    return job


def sync(job: Path, env: dict[str, str], *options: str) -> tuple[float, float, int, str]:
    """One run as a process of its own: (seconds, peak RSS in MB, exit code, stderr)."""
    return run_measured([sys.executable, "-m", "connector", "sync", "--config", str(job),
                         *options], env)  # fmt: skip


def requests_since(log: Path, start: int) -> list[dict[str, object]]:
    lines = log.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[start:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        job = write_scene(folder, args.size)
        log = folder / "requests.jsonl"
        sandbox, url = start_sandbox(folder / "seed.json", log)
        env = {**os.environ, "SIPALTO_BASE_URL": url, "SIPALTO_USERNAME": "demo",
               "SIPALTO_PASSWORD": "demo", "SIPALTO_SYNC_HOME": str(folder / "home"),
               "NO_COLOR": "1"}  # fmt: skip
        try:
            seconds, peak, code, err = sync(job, env, "-q", "--concurrency", "8")
            if code not in (0, 4):
                raise SystemExit(f"the first run exited {code}:\n{err}")
            first = requests_since(log, 0)
            writes = sum(1 for r in first if "-global-contact/" in str(r["path"])
                         or str(r["path"]).endswith("add-global-contact"))  # fmt: skip
            print(
                f"{args.size} records against {args.size} contacts; first run (binds, "
                f"writes {writes}): {seconds:.1f} s",
                flush=True,
            )
            print(f"{'run':>3} {'seconds':>8} {'peak MB':>8} {'requests':>9}  paths", flush=True)
            times = []
            for n in range(1, args.runs + 1):
                before = len(log.read_text(encoding="utf-8").splitlines())
                seconds, peak, code, err = sync(job, env, "-q")
                if code not in (0, 4):
                    raise SystemExit(f"run {n} exited {code}:\n{err}")
                sent = requests_since(log, before)
                paths = [str(r["path"]) for r in sent]
                if paths != [LOGIN, READ]:
                    raise SystemExit(f"run {n} sent more than a login and one read: {paths}")
                times.append(seconds)
                print(f"{n:>3} {seconds:>8.2f} {peak:>8.0f} {len(sent):>9}  {' '.join(paths)}")
            print(f"median {statistics.median(times):.2f} s (target: under 3 s)")
        finally:
            sandbox.send_signal(signal.SIGINT)
            sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
