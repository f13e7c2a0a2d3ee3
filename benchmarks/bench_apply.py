"""Benchmark: ``sipalto-sync apply`` against rate-limited sandboxes, as a user runs it.

Each run starts the sandbox in its own process (``sipalto-sync sandbox``, 50 ms latency,
25 requests/s per user) with one way of announcing and counting the limit, then runs
``sipalto-sync apply PLAN --yes --concurrency N`` as a subprocess on a plan of adds and
updates, and checks the phonebook it leaves. Reported per run:

* wall time of the ``apply`` command (start-up included) and the requests it sent,
  read from the sandbox's request log;
* requests/s and that rate as a share of the limit (the goal: at least 0.9), over the
  wall time and over the time between the first and the last request the server saw
  (``paced``: the pacer's own share, without start-up and the final read);
* how many 429 answers the run received (the goal: at most one per window).

The ways of announcing the limit (``--rate-headers``): ``full`` sends Limit, Remaining and
Reset on every answer; ``laravel`` sends only Limit and Remaining, and Retry-After plus a
Unix-time Reset on the 429; ``laravel-bare`` sends no Reset at all. Windows
(``--rate-window``) are fixed or sliding.

Usage: ``python benchmarks/bench_apply.py [--adds 300] [--updates 100] [--concurrency 4 8]
[--headers laravel laravel-bare full] [--windows fixed sliding]``. All of it takes a few
minutes; ``--adds 50 --updates 0 --concurrency 4`` takes seconds. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from connector.api.client import SipaltoClient
from connector.reconcile.plan import PlanSettings

LATENCY = 0.05
LIMIT = 25
WINDOW = 1.0


@dataclass(frozen=True)
class Result:
    """What one ``apply`` run did against one kind of server."""

    headers: str
    window: str
    concurrency: int
    seconds: float
    requests: int
    paced_rate: float
    throttled: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def share(self) -> float:
        return self.rate / (LIMIT / WINDOW)

    @property
    def paced_share(self) -> float:
        return self.paced_rate / (LIMIT / WINDOW)


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """``command`` as a process of its own: (seconds, peak RSS in MB, exit code, stderr).

    The peak RSS is the child's own (``ru_maxrss`` from ``wait4``), not this process's.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return seconds, usage.ru_maxrss / scale, os.waitstatus_to_exitcode(status), err


def start_sandbox(seed: Path, log: Path, *options: str) -> tuple[subprocess.Popen[str], str]:
    """``sipalto-sync sandbox`` in its own process, seeded from ``seed``, logging its
    requests to ``log``, with more sandbox ``options``; returns it and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "connector", "sandbox", "--port", "0", "--seed", str(seed),
         "--request-log", str(log), *options],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stderr is not None
    line = process.stderr.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"the sandbox did not start: {line}")
    return process, match.group(1)


def make_work(adds: int, updates: int) -> tuple[list[dict], list[dict]]:
    """A phonebook of ``updates`` contacts, and plan items adding ``adds`` and updating all."""
    seed = [
        {"id": str(40000 + n), "name": f"Existing {n}", "phone1": f"0161496{n:04d}",
         "phone2": "", "phone3": ""}
        for n in range(updates)
    ]  # fmt: skip
    items: list[dict] = []
    for n in range(adds):
        after = {"name": f"New {n}", "phone1": f"0770090{n:04d}", "phone2": "", "phone3": ""}
        items.append({"action": "add", "id": None, "before": None, "after": after,
                      "source": {"key": f"k{n}", "location": f"bench:{n}"},
                      "reason": "new", "score": None, "warnings": []})  # fmt: skip
    for contact in seed:
        before = {k: contact[k] for k in ("name", "phone1", "phone2", "phone3")}
        after = {**before, "phone2": "07700900999"}
        items.append({"action": "update", "id": contact["id"], "before": before, "after": after,
                      "source": {"key": contact["id"], "location": "bench"},
                      "reason": "changed", "score": 100.0, "warnings": []})  # fmt: skip
    return seed, items


def run(
    adds: int, updates: int, headers: str, window: str, concurrency: int, workdir: Path
) -> Result:
    """One ``apply`` run against a fresh sandbox; checks the phonebook it leaves."""
    seed, items = make_work(adds, updates)
    name = f"{headers}-{window}-{concurrency}"
    seed_path = workdir / f"seed-{name}.json"
    seed_path.write_text(json.dumps(seed), encoding="utf-8")
    log = workdir / f"requests-{name}.jsonl"
    process, url = start_sandbox(
        seed_path, log,
        "--latency", str(LATENCY), "--rate-limit", f"{LIMIT}/{WINDOW:g}",
        "--rate-headers", headers, "--rate-window", window,
    )  # fmt: skip
    try:
        plan = workdir / f"plan-{name}.json"
        doc = {"version": 1, "plan_id": uuid.uuid4().hex, "created_at": "2026-11-27T10:00:00+00:00",
               "server": url, "base": "", "settings": PlanSettings().to_json(),
               "items": items}  # fmt: skip
        plan.write_text(json.dumps(doc), encoding="utf-8")
        env = {
            **os.environ,
            "SIPALTO_BASE_URL": url,
            "SIPALTO_USERNAME": "demo",
            "SIPALTO_PASSWORD": "demo",
            "SIPALTO_SYNC_HOME": str(workdir / f"home-{name}"),
        }
        command = [sys.executable, "-m", "connector", "apply", str(plan), "--yes",
                   "--concurrency", str(concurrency)]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{name}: apply exited {done.returncode}:\n{done.stderr}")
        answered = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        with SipaltoClient(url, "demo", "demo") as client:
            final = client.list_contacts()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    expected = len(seed) + adds
    if len(final) != expected:
        raise SystemExit(f"{name}: the phonebook has {len(final)} contacts, expected {expected}")
    if sum(1 for c in final if c.phone2 == "07700900999") != updates:
        raise SystemExit(f"{name}: not every update landed")
    accepted = [entry["at"] for entry in answered if entry["status"] != 429]
    span = max(accepted) - min(accepted)
    return Result(
        headers=headers,
        window=window,
        concurrency=concurrency,
        seconds=seconds,
        requests=len(answered),
        # n requests spread over a span make n - 1 intervals.
        paced_rate=(len(accepted) - 1) / span if span > 0 else float("nan"),
        throttled=sum(1 for entry in answered if entry["status"] == 429),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adds", type=int, default=300)
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 8])
    parser.add_argument(
        "--headers", nargs="+", default=["laravel", "laravel-bare", "full"],
        choices=["laravel", "laravel-bare", "full"],
    )  # fmt: skip
    parser.add_argument(
        "--windows", nargs="+", default=["fixed", "sliding"], choices=["fixed", "sliding"]
    )
    args = parser.parse_args()
    print(
        f"{args.adds} adds + {args.updates} updates with `sipalto-sync apply`; sandbox in its "
        f"own process: {LATENCY * 1000:.0f} ms latency, limit {LIMIT} requests per "
        f"{WINDOW:g} s per user",
        flush=True,
    )
    print(
        f"{'headers':<13} {'window':<8} {'conc.':>5} {'seconds':>8} {'requests':>8} "
        f"{'req/s':>6} {'of limit':>8} {'paced':>6} {'429s':>5}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        for headers in args.headers:
            for window in args.windows:
                for concurrency in args.concurrency:
                    r = run(args.adds, args.updates, headers, window, concurrency, Path(tmp))
                    print(
                        f"{r.headers:<13} {r.window:<8} {r.concurrency:>5} {r.seconds:>8.1f} "
                        f"{r.requests:>8} {r.rate:>6.1f} {r.share:>8.2f} "
                        f"{r.paced_share:>6.2f} {r.throttled:>5}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
