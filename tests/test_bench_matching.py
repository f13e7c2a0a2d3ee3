"""The labelled matching set holds issue 14's goal: most true pairs matched, none wrong."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_matching.py"


def test_the_labelled_set_is_matched_without_a_false_merge() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH)], capture_output=True, text=True, check=True, timeout=120
    )
    summary = done.stdout.strip().splitlines()[-1]
    found = re.fullmatch(
        r"true pairs (\d+): matched automatically (\d+) \(([\d.]+) %\), review with the right "
        r"contact on top (\d+), missed (\d+); false merges (\d+)",
        summary,
    )
    assert found, summary
    pairs, _, share, _, missed, false_merges = found.groups()
    assert int(pairs) > 250
    assert float(share) >= 90
    assert (int(missed), int(false_merges)) == (0, 0)
