"""Benchmark: reading large sources (CSV, vCard, xlsx) through the adapters.

Generates files of fictional UK contacts in a temporary directory and times
``open_source(...).records()`` over each, reporting records per second and the peak
memory of the reading process (``ru_maxrss``, in a fresh subprocess per file, so one
file's memory does not hide another's). Streaming readers should stay flat in memory
whatever the file size.

Usage: ``python benchmarks/bench_adapters.py [--rows 100000]``
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Zoë", "Siân"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "O'Neill", "Patel", "Hughes", "Évans"]


def people(count: int, seed: int = 3) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    return [
        (f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"07700 9{n % 100000:05d}",
         f"0161 496 {n % 10000:04d}")
        for n in range(count)
    ]  # fmt: skip


def write_csv(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Name", "Mobile", "Work Phone"])
        writer.writerows(rows)


def write_vcf(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        for name, mobile, work in rows:
            fh.write(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\nTEL;TYPE=CELL:{mobile}\r\n"
                     f"TEL;TYPE=WORK:{work}\r\nEND:VCARD\r\n")  # fmt: skip


def write_xlsx(path: Path, rows: list[tuple[str, str, str]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    sheet.append(["Name", "Mobile", "Work Phone"])
    for name, mobile, work in rows:
        # Numbers stored as numbers, as Excel does: the leading 0 is lost.
        sheet.append([name, int(mobile.replace(" ", "")), int(work.replace(" ", ""))])
    workbook.save(path)


def read_one(path: str) -> None:
    """Child process: read the file, print JSON with the timing and peak memory."""
    from adapters.registry import open_source

    started = time.perf_counter()
    count = sum(1 for _ in open_source(path).records())
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"records": count, "seconds": seconds, "peak_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--read", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        read_one(args.read)
        return
    rows = people(args.rows)
    print(f"{'format':<6} {'records':>8} {'MB':>6} {'seconds':>8} {'records/s':>10} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, writer in (("csv", write_csv), ("vcf", write_vcf), ("xlsx", write_xlsx)):
            path = Path(tmp) / f"contacts.{name}"
            writer(path, rows)
            child = subprocess.run(
                [sys.executable, __file__, "--read", str(path)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            result = json.loads(child.stdout)
            size = path.stat().st_size / 1e6
            rate = result["records"] / result["seconds"]
            print(f"{name:<6} {result['records']:>8} {size:>6.1f} {result['seconds']:>8.2f} "
                  f"{rate:>10.0f} {result['peak_mb']:>8.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
