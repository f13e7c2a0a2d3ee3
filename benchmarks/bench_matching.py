"""Benchmark: how well the planner matches a labelled set of records.

Each case of :mod:`matching_pairs` is planned on its own with ``make_plan``: the record as
the source, its labelled contact in the phonebook with the case's other contacts around
it. Reported, by kind of case and overall:

* ``auto``: true pairs matched automatically (to the right contact);
* ``top``: true pairs sent to review with the right contact as the top candidate;
* ``missed``: true pairs neither (added as new, or reviewed with another contact first);
* ``false``: false merges, a record matched automatically to a contact it is not (must
  be 0).

``--restaurants FILE`` evaluates the Fodors-Zagat restaurants as HPI's DuDe toolkit
publishes them (``restaurant.csv``: name, addr, city, phone, type, class; the class is
the cluster): the Fodor's records (phones written ``310/246-1501``) as one source against
the Zagat records as the phonebook. That file has no licence to redistribute it, so it is
not in this repository; fetch it yourself to run it.

Usage::

    python benchmarks/bench_matching.py            # the labelled set
    python benchmarks/bench_matching.py --show     # and every miss and false merge
    python benchmarks/bench_matching.py --restaurants /tmp/restaurant.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from matching_pairs import Case, cases, numbers

from connector.model import Contact, RawPhone, SourceRecord
from connector.reconcile.plan import Plan, PlanItem
from connector.reconcile.planner import make_plan

CREATED = datetime(2026, 1, 1, tzinfo=timezone.utc)
MATCHED = frozenset({"update", "unchanged"})
OUTCOMES = ("auto", "top", "missed", "false", "held")  # held: a negative not merged


@dataclass(frozen=True, slots=True)
class Result:
    """What the plan did with one labelled record."""

    kind: str
    outcome: str
    record: str
    expected: str  # the labelled contact's name
    got: str  # what the plan did, in a few words


def _plan(records: Sequence[SourceRecord], contacts: Sequence[Contact]) -> Plan:
    return make_plan(records, contacts, plan_id="0" * 32, created_at=CREATED)


def _judge(item: PlanItem, truth: str | None, names: dict[str, str]) -> tuple[str, str]:
    """``(outcome, what happened)`` for a record whose right contact is ``truth`` (None:
    no automatic match is right)."""
    if item.action in MATCHED:
        got = f"matched {names.get(item.id or '', item.id)!r}: {item.reason}"
        if truth is not None and item.id == truth:
            return "auto", got
        return "false", got
    if truth is None:
        return "held", f"{item.action}: {item.reason}"
    if item.action == "review" and item.candidates and item.candidates[0].id == truth:
        return "top", f"review: {item.candidates[0].reason}"
    top = f" (top {item.candidates[0].fields.name!r})" if item.candidates else ""
    return "missed", f"{item.action}{top}: {item.reason}"


def run_case(case: Case, rng: random.Random, pool: Iterator[tuple[str, str]]) -> Result:
    """Plan one case and judge it."""
    mine, theirs = next(pool)
    record = SourceRecord("1", "cases:1", case.record, (RawPhone(mine),))
    labelled = ("labelled", case.contact, theirs if case.shared else next(pool)[1])
    named = [labelled, *(("n", name, theirs) for name in case.neighbours)]
    named += [("o", name, next(pool)[1]) for name in case.others]
    ids = rng.sample(range(100, 100 + len(named)), len(named))  # the labelled one anywhere
    pairs = zip(ids, named, strict=True)
    contacts = [Contact(str(i), name, phone) for i, (_, name, phone) in pairs]
    truth = str(ids[0]) if case.same else None
    (item,) = [item for item in _plan([record], contacts).items if item.source is not None]
    outcome, got = _judge(item, truth, {c.id: c.name for c in contacts})
    return Result(case.kind, outcome, case.record, case.contact, got)


def run_cases(labelled: Iterable[Case]) -> list[Result]:
    """Every case, planned on its own."""
    rng = random.Random(1)
    pool = numbers(rng)
    return [run_case(case, rng, pool) for case in labelled]


def run_restaurants(path: Path) -> list[Result]:
    """The Fodors-Zagat restaurants: Fodor's records as one source against Zagat's as the
    phonebook, all in one plan."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    records: list[SourceRecord] = []
    contacts: list[Contact] = []
    cluster: dict[str, str] = {}  # source key or contact id -> class
    for n, row in enumerate(rows, start=2):
        digits = re.sub(r"\D", "", row["phone"])[:10]
        phone = f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}"
        key = str(n)
        cluster[key] = row["class"].strip(" '")
        if "/" in row["phone"]:
            records.append(SourceRecord(key, f"{path.name}:{n}", row["name"], (RawPhone(phone),)))
        else:
            contacts.append(Contact(key, row["name"], phone))
    by_class: dict[str, str] = {}
    for contact in contacts:
        by_class.setdefault(cluster[contact.id], contact.id)
    names = {contact.id: contact.name for contact in contacts}
    results = []
    for item in _plan(records, contacts).items:
        if item.source is None:
            continue  # a phonebook duplicate, reported on its own
        truth = by_class.get(cluster[item.source.key])
        record = next(r for r in records if r.key == item.source.key)
        outcome, got = _judge(item, truth, names)
        kind = "true pair" if truth is not None else "no pair"
        results.append(Result(kind, outcome, record.name, names.get(truth or "", "-"), got))
    return results


def report(results: Sequence[Result], show: bool) -> str:
    """A table by kind, the headline figures, and (``show``) each miss and false merge."""
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        by_kind[result.kind][result.outcome] += 1
    lines = [f"{'kind':<20} {'cases':>5} " + " ".join(f"{o:>6}" for o in OUTCOMES)]
    for kind, counts in by_kind.items():
        cells = " ".join(f"{counts[o]:>6}" for o in OUTCOMES)
        lines.append(f"{kind:<20} {sum(counts.values()):>5} {cells}")
    total = Counter(result.outcome for result in results)
    true_pairs = total["auto"] + total["top"] + total["missed"]
    share = 100 * total["auto"] / true_pairs if true_pairs else 0.0
    lines.append(
        f"true pairs {true_pairs}: matched automatically {total['auto']} ({share:.1f} %), "
        f"review with the right contact on top {total['top']}, missed {total['missed']}; "
        f"false merges {total['false']}"
    )
    if show:
        for result in results:
            if result.outcome in ("missed", "false") or (show and result.outcome == "top"):
                lines.append(
                    f"  {result.outcome:<6} {result.kind}: {result.record!r} ~ "
                    f"{result.expected!r} -> {result.got}"
                )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="list misses, reviews, merges")
    parser.add_argument("--restaurants", type=Path, help="DuDe's restaurant.csv, evaluated")
    args = parser.parse_args(argv)
    print(report(run_cases(cases()), args.show))
    if args.restaurants:
        print(f"\nFodors-Zagat restaurants ({args.restaurants}):")
        print(report(run_restaurants(args.restaurants), args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
