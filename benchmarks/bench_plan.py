"""Benchmark: ``sipalto-sync plan`` of N source rows against an N-contact phonebook.

What a new user runs for a bulk migration, measured end to end: the phonebook is seeded
into a sandbox in its own process (``sipalto-sync sandbox --seed FILE``), and each run is
``sipalto-sync plan source.csv --mapping m.yaml --out plan.json`` as a subprocess of its
own (interpreter start-up, reading the CSV, reading the phonebook over loopback HTTP,
planning, the text preview on stdout and the plan file included). The data is realistic
UK contacts (numbers valid for libphonenumber, written the many ways people write them;
names with case, order, title, typo, accent and company-suffix variation; shared
switchboards; duplicates on both sides; 30 % of the rows new). Reported per size: the
median wall time of ``--runs`` runs; the largest peak RSS of one process (``peak MB``:
the command's ``ru_maxrss`` from ``os.wait4``, which covers the child process it forks
for a large phonebook) and the largest memory of the command and its child together
(``all MB``: their summed PSS, sampled every 250 ms); and the median time of each stage,
which the command prints on stderr when ``SIPALTO_SYNC_TIMINGS=1`` is set (``other`` is
the rest: start-up, imports, exit). The load average and a CPU reference (a plain Python
loop) are printed before and after: the machine may be shared, and a virtual machine's
speed drifts.

``--in-process`` instead times ``make_plan`` alone inside one process per size, next to
``floor s``: ``phonenumbers.parse``, ``is_possible_number`` and ``format_number(E164)``
once on every number string of both sides, the cost of the naive approach.

Usage::

    python benchmarks/bench_plan.py                        # 10k and 100k, 3 runs each
    python benchmarks/bench_plan.py --sizes 1000 --runs 1
    python benchmarks/bench_plan.py --in-process --sizes 1000,10000,100000

Targets on a 2-core machine (issue 14): 100k rows in at most 8 s and 500 MB peak RSS
through the command line, plan file written; 100k/10k time ratio at most 11.

The yardstick: this machine's speed for this kind of work drifts by half and more from
one hour or day to the next (the naive floor over the 100k scene's numbers measured 10.3
to 14.8 s within an hour on 2026-12-02, where issue 14 was written when parsing them took
about 6 s), so seconds alone cannot say whether a build meets a goal in seconds. Right
before each command-line run the benchmark times that parse (:func:`floor_seconds`) in a
process of its own, and reports the run's wall time over it (``÷ floor``). Issue 14 set
its goal where the parse took about 6 s: 8 s then is :data:`GOAL_RATIO` floors (8/6, the
stricter reading: the issue's 6 s was for about 350,000 number strings, the scene has
310,589).
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import phonenumbers
from bench_apply import start_sandbox
from phonenumbers import PhoneNumber, PhoneNumberFormat

from connector.model import Contact, RawPhone, SourceRecord
from connector.reconcile.plan import PlanSettings
from connector.reconcile.planner import make_plan
from connector.reconcile.workflow import cyclic_gc_paused

#: Issue 14's time goal in floors: 8 s where the naive floor took about 6 s.
GOAL_RATIO = 8 / 6

# Word lists read better as one string each than as a column of quoted words.
# Most common first: drawn with Zipf weights.
FIRST_NAMES = (  # noqa: SIM905
    "Oliver George Harry Jack Jacob Noah Charlie Muhammad Thomas Oscar William James Henry "
    "Leo Alfie Joshua Freddie Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel "
    "Arthur Lucas Mohammed Logan Theo Harrison Benjamin Mason Sebastian Finley Adam Dylan "
    "Zachary Riley Teddy Theodore David Toby Jake Louie Elijah Reggie Luca Michael Ryan John "
    "Paul Mark Andrew Stephen Richard Peter Christopher Robert Simon Ian Gary Kevin Martin "
    "Olivia Amelia Isla Ava Emily Isabella Mia Poppy Ella Lily Evie Grace Sophia Sophie Ivy "
    "Freya Harper Willow Charlotte Jessica Florence Daisy Alice Sienna Phoebe Matilda Ruby "
    "Evelyn Sofia Elsie Rosie Millie Esme Eva Imogen Layla Emma Sarah Claire Helen Karen "
    "Susan Julie Nicola Rachel Laura Rebecca Hannah Catherine Elizabeth Margaret Anne Jane "
    "Zoë Chloé Siobhán Seán Niamh Aoife Dafydd Rhys Gareth Sinéad Priya Aisha Fatima Ravi "
    "Bartholomew Cressida Ignatius Perpetua Leopold Araminta Ptolemy Clementine Jago Tamsin"
).split()
# The most common UK surnames, most common first.
SURNAMES = (  # noqa: SIM905
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell "
    "Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan "
    "Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb "
    "Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes "
    "Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey O'Brien "
    "O'Connor McDonald MacLeod Fitzgerald Nowak Kowalski Müller García Álvarez Ó'Súilleabháin"
).split()
# Rarer surnames are invented from these pieces: real UK data has a very long tail.
PREFIXES = (  # noqa: SIM905
    "Ash Bar Black Brad Brook Cald Carr Chal Cran Dun Fair Fen Gar Hal Har Hol Kings Lang Mar "
    "Mid New Nor Pen Red Ros Shel Stan Thorn Wal Wes Whit Win"
).split()
ENDINGS = (  # noqa: SIM905
    "bourne bridge bury by combe croft dale don field ford gate ham hurst ington land ley low "
    "more ridge shaw stead stone thwaite ton well wick wood worth"
).split()
TRADES = (  # noqa: SIM905
    "Plumbing Electrical Joinery Dental Veterinary Accountancy Solicitors Roofing Glazing "
    "Catering Logistics Print Motors Garden Cleaning Pharmacy Opticians Estate Agents Surveyors"
).split()
PLACES = (  # noqa: SIM905
    "Henley Reading Oxford Thame Marlow Wallingford Didcot Abingdon Witney Bicester Banbury "
    "Newbury Maidenhead Windsor Slough Wokingham Bracknell Basingstoke Andover Swindon"
).split()
SUFFIX_VARIANTS = (("Ltd", "Limited"), ("Ltd", "LTD"), ("PLC", "plc"), ("LLP", "L.L.P."))
TITLES = ("Dr", "Mr", "Mrs", "Ms", "Dr.")
# Area codes in use (libphonenumber knows them as valid when followed by these lengths).
AREAS = (
    ("20", 8),
    ("161", 7),
    ("113", 7),
    ("114", 7),
    ("117", 7),
    ("121", 7),
    ("131", 7),
    ("141", 7),
    ("151", 7),
    ("191", 7),
    ("1491", 6),
    ("1865", 6),
    ("1223", 6),
    ("1189", 6),
    ("1628", 6),
    ("1344", 6),
    ("1235", 6),
    ("1793", 6),
)


class Generator:
    """Deterministic realistic contacts (``seed``), numbers checked with libphonenumber."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used: set[str] = set()
        self.rare_surnames = [a + b for a in PREFIXES for b in ENDINGS]
        self.rare_surnames += [a + b.lower() + "s" for a in PREFIXES for b in PREFIXES]
        self.rare_surnames += [a + m + b for a in PREFIXES for m in "aeiouy" for b in ENDINGS]
        self.first_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(FIRST_NAMES))]
        self.surname_weights = [1 / (rank + 1) ** 0.6 for rank in range(len(SURNAMES))]

    def nsn(self) -> str:
        """A fresh valid UK national significant number (no leading zero)."""
        while True:
            if self.rng.random() < 0.55:
                nsn = "7" + self.rng.choice("4589") + "".join(self.rng.choices("0123456789", k=8))
            else:
                area, length = self.rng.choice(AREAS)
                first = self.rng.choice("2345678")
                rest = "".join(self.rng.choices("0123456789", k=length - 1))
                nsn = area + first + rest
            if nsn in self.used:
                continue
            number = PhoneNumber(country_code=44, national_number=int(nsn))
            if phonenumbers.is_valid_number(number):
                self.used.add(nsn)
                return nsn

    def person(self) -> str:
        first = self.rng.choices(FIRST_NAMES, self.first_weights)[0]
        if self.rng.random() < 0.85:  # the long tail: the top surnames are ~15% of people
            surname = self.rng.choice(self.rare_surnames)
        else:
            surname = self.rng.choices(SURNAMES, self.surname_weights)[0]
        if self.rng.random() < 0.1:  # double-barrelled
            surname = f"{self.rng.choice(self.rare_surnames)}-{surname}"
        return f"{first} {surname}"

    def company(self) -> str:
        style = self.rng.random()
        if style < 0.4:
            return f"{self.rng.choice(SURNAMES)} & Sons Ltd"
        if style < 0.8:
            return f"{self.rng.choice(PLACES)} {self.rng.choice(TRADES)} Ltd"
        return f"{self.rng.choice(self.rare_surnames)} {self.rng.choice(TRADES)} LLP"

    def written(self, nsn: str, remote: bool) -> str:
        """The number as someone typed it."""
        r = self.rng.random()
        national = "0" + nsn
        if remote:  # mostly Sipalto form, typed by people now and then
            if r < 0.8:
                return national
            if r < 0.9:
                return f"{national[:5]} {national[5:]}"
            return "+44" + nsn
        if r < 0.30:
            return f"{national[:5]} {national[5:]}"
        if r < 0.45:
            return f"+44 {nsn[:4]} {nsn[4:]}"
        if r < 0.55:
            return national
        if r < 0.62:
            return f"+44 (0){nsn[:4]} {nsn[4:]}"
        if r < 0.70:
            return f"{national[:5]}-{national[5:8]}-{national[8:]}"
        if r < 0.76:
            return f"0044 {nsn}"
        if r < 0.82:
            return f"({national[:5]}) {national[5:]}"
        if r < 0.86:
            return f"{national[:5]}.{national[5:8]}.{national[8:]}"
        if r < 0.90:
            return f"tel:+44{nsn}"
        if r < 0.93:
            return f"{national[:5]} {national[5:]} (mobile)"
        if r < 0.96:
            return f"{national} ext {self.rng.randint(10, 999)}"
        if r < 0.98:
            return nsn  # a lost leading zero (spreadsheets)
        return f"44{nsn}"

    def varied(self, name: str) -> str:
        """How another system spells the same name."""
        r = self.rng.random()
        if r < 0.70:
            return name
        if r < 0.76:
            return name.upper()
        if r < 0.82 and " " in name and "&" not in name and not name.endswith(("Ltd", "LLP")):
            first, _, last = name.partition(" ")
            return f"{last}, {first}"
        if r < 0.86 and "Ltd" not in name:
            return f"{self.rng.choice(TITLES)} {name}"
        if r < 0.92:
            for short, long in SUFFIX_VARIANTS:
                if name.endswith(" " + short):
                    return name[: -len(short)] + long
            return "  " + name.lower() + " "
        first, _, rest = name.partition(" ")
        if len(first) > 4:  # a typo in the first name: a dropped letter
            cut = self.rng.randrange(1, len(first) - 1)
            return first[:cut] + first[cut + 1 :] + " " + rest
        return name


def build(size: int, seed: int = 7) -> tuple[list[SourceRecord], list[Contact]]:
    """``size`` source records and ``size`` phonebook contacts that overlap like real data."""
    gen = Generator(seed)
    rng = gen.rng
    switchboards = [gen.nsn() for _ in range(max(1, size // 50))]
    people: list[tuple[str, list[str]]] = []
    for _ in range(size):
        if rng.random() < 0.15:
            name = gen.company()
            numbers = [gen.nsn()]
        else:
            name = gen.person()
            numbers = [gen.nsn() for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
            if rng.random() < 0.08:  # staff reachable through their firm's switchboard
                numbers = [*numbers[:2], rng.choice(switchboards)]
        people.append((name, numbers))

    contacts: list[Contact] = []
    next_id = 30000
    in_book = people[: int(size * 0.8)]
    for name, numbers in in_book:
        copies = 2 if rng.random() < 0.005 else 1  # phonebook duplicates
        for _ in range(copies):
            next_id += 1
            slots = [gen.written(n, remote=True) for n in numbers] + ["", "", ""]
            contacts.append(Contact(str(next_id), name, *slots[:3]))
    while len(contacts) < size:  # phonebook-only contacts (internal, old)
        next_id += 1
        contacts.append(Contact(str(next_id), gen.person(), "0" + gen.nsn()))
    contacts = contacts[:size]

    records: list[SourceRecord] = []
    overlap = in_book[: int(size * 0.75)]
    fresh = people[int(size * 0.8) :]
    chosen = overlap + fresh
    rng.shuffle(chosen)
    for name, numbers in chosen:
        numbers = list(numbers)
        r = rng.random()
        if r < 0.05:
            numbers = [gen.nsn()]  # changed number: same name, no shared number
        elif r < 0.10 and len(numbers) < 3:
            numbers.append(gen.nsn())  # a new second number
        phones = tuple(RawPhone(gen.written(n, remote=False)) for n in numbers)
        records.append(SourceRecord("", "", gen.varied(name), phones))
        if rng.random() < 0.005:  # the same person twice in the file
            records.append(SourceRecord("", "", name, phones[:1]))
    while len(records) < size:
        records.append(
            SourceRecord("", "", gen.person(), (RawPhone(gen.written(gen.nsn(), False)),))
        )
    records = [
        SourceRecord(f"row:{i + 2}", f"contacts.csv:{i + 2}", r.name, r.phones)
        for i, r in enumerate(records[:size])
    ]
    return records, contacts


def floor_seconds(strings: list[str], *, parse_only: bool = False) -> float:
    """Naive cost: parse, is_possible_number and format E.164 once per number string.

    ``parse_only``: ``phonenumbers.parse`` alone, the work issue 14 gave the time of
    ("parsing every number string once with libphonenumber takes about 6 s here"); the
    checking and formatting add a few per cent, so without them the yardstick is the
    smaller, the stricter one.

    Measured with the garbage collector off, as the planner runs, so the floor is not
    inflated by collections of the generated data.
    """
    gc.collect()
    gc.disable()
    start = time.perf_counter()
    for text in strings:
        try:
            number = phonenumbers.parse(text, "GB")
        except phonenumbers.NumberParseException:
            continue
        if not parse_only and phonenumbers.is_possible_number(number):
            phonenumbers.format_number(number, PhoneNumberFormat.E164)
    seconds = time.perf_counter() - start
    gc.enable()
    return seconds


def timed(function: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def run_one(size: int) -> dict[str, object]:
    """Generate, measure the floor, plan; runs inside the per-size subprocess."""
    records, contacts = build(size)
    strings = [p.value for r in records for p in r.phones]
    strings += [p for c in contacts for p in c.phones]
    floor_seconds(strings[:50])  # load libphonenumber's metadata before timing
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    floor = floor_seconds(strings)
    created = datetime(2025, 1, 1, tzinfo=timezone.utc)
    cpu = time.process_time()

    def plan_as_the_cli_does() -> object:
        # The command line pauses the cyclic collector around planning; so does this.
        with cyclic_gc_paused():
            return make_plan(records, contacts, PlanSettings(), plan_id="bench", created_at=created)

    seconds, plan = timed(plan_as_the_cli_does)
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "size": size,
        "numbers": len(strings),
        "plan": seconds,
        "plan_cpu": cpu,
        "floor": floor,
        "rss_data_mb": rss_before / 1024,
        "peak_mb": peak / 1024,
        "summary": plan.summary,  # type: ignore[attr-defined]
    }


def measure_in_process(size: int, repeat: int) -> dict[str, object]:
    """Best ``make_plan`` and floor times over ``repeat`` fresh subprocesses, and the
    largest peak (the best of several runs is the least noisy estimate on a shared machine)."""
    runs = []
    for _ in range(repeat):
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(child.stdout))
    row = dict(runs[0])
    for key in ("plan", "plan_cpu", "floor"):
        row[key] = min(run[key] for run in runs)
    row["plan_median"] = statistics.median(run["plan"] for run in runs)
    row["peak_mb"] = max(run["peak_mb"] for run in runs)
    return row


def in_process_table(sizes: list[int], repeat: int) -> None:
    rows = [measure_in_process(size, repeat) for size in sizes]
    print(
        f"{'size':>8} {'numbers':>8} {'plan s':>8} {'median s':>8} {'cpu s':>8} {'floor s':>8} "
        f"{'plan/floor':>10} {'data MB':>8} {'peak MB':>8}"
    )
    for row in rows:
        print(
            f"{row['size']:>8} {row['numbers']:>8} {row['plan']:>8.2f} "
            f"{row['plan_median']:>8.2f} {row['plan_cpu']:>8.2f} {row['floor']:>8.2f} "
            f"{row['plan'] / row['floor']:>10.2f} {row['rss_data_mb']:>8.0f} "
            f"{row['peak_mb']:>8.0f}"
        )
    for row in rows:
        print(f"{row['size']:>8} summary: {row['summary']}")


# -- through the command line --------------------------------------------------------------

MAPPING = """\
# A CRM export: an id, a name and three phone columns.
key: ID
name: Name
phones: [Phone 1, Phone 2, Phone 3]
"""
_STAGE = re.compile(r"stage (.+?): ([\d.]+) s")


def write_scene(folder: Path, size: int) -> tuple[Path, Path, int]:
    """The phonebook seed and the source CSV (with its mapping) for ``size``; the seed's
    path, the source's path and how many number strings the two hold."""
    records, contacts = build(size)
    seed = folder / "seed.json"
    seed.write_text(
        json.dumps([{"id": c.id, "name": c.name, "phone1": c.phone1, "phone2": c.phone2,
                     "phone3": c.phone3} for c in contacts]),
        encoding="utf-8",
    )  # fmt: skip
    source = folder / "source.csv"
    with source.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["ID", "Name", "Phone 1", "Phone 2", "Phone 3"])
        for n, record in enumerate(records):
            phones = [p.value for p in record.phones] + ["", "", ""]
            writer.writerow([f"CRM-{n:06d}", record.name, *phones[:3]])
    (folder / "m.yaml").write_text(MAPPING, encoding="utf-8")
    strings = sum(len(r.phones) for r in records) + sum(len(c.phones) for c in contacts)
    return seed, source, strings


def floor_of_scene(folder: Path) -> float:
    """The parse floor (:func:`scene_floor`) over every number string of the scene in
    ``folder``, the CSV's and the seed's, in a process of its own (its memory is not the
    benchmark's): the yardstick of this machine's speed at that moment."""
    done = subprocess.run(
        [sys.executable, __file__, "--floor-of", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout)


def scene_floor(folder: Path) -> float:
    """The parse alone (:func:`floor_seconds`) over the number strings of the scene in
    ``folder``."""
    with (folder / "source.csv").open(newline="", encoding="utf-8") as source:
        rows = csv.reader(source)
        next(rows)
        strings = [cell for row in rows for cell in row[2:] if cell]
    seed = json.loads((folder / "seed.json").read_text(encoding="utf-8"))
    strings += [c[slot] for c in seed for slot in ("phone1", "phone2", "phone3") if c[slot]]
    floor_seconds(strings[:50], parse_only=True)  # load libphonenumber's metadata first
    return floor_seconds(strings, parse_only=True)


def plan_once(folder: Path, env: dict[str, str]) -> dict[str, float]:
    """One ``sipalto-sync plan`` as a process of its own: wall seconds, peak RSS (MB) and
    each stage's seconds, from the lines ``SIPALTO_SYNC_TIMINGS=1`` makes it print."""
    command = [sys.executable, "-m", "connector", "plan", "source.csv", "--mapping", "m.yaml",
               "--out", "plan.json"]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stderr is not None
    sampler = _PssSampler(process.pid)
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    sampler.stop()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"sipalto-sync plan exited {code}:\n{err}")
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: KB on Linux
    row = {"wall": seconds, "peak_mb": usage.ru_maxrss / scale, "all_mb": sampler.peak_mb}
    for name, stage_seconds in _STAGE.findall(err):
        row[name] = row.get(name, 0.0) + float(stage_seconds)
    row["other"] = seconds - sum(v for k, v in row.items() if k not in _NOT_STAGES)
    return row


_NOT_STAGES = ("wall", "peak_mb", "all_mb", "floor")


class _PssSampler:
    """The largest memory the command and its child processes held together, sampled
    every 250 ms: the sum of their proportional set sizes (PSS, Linux only: a page two
    processes share counts half in each, so the sum is what they hold together, where a
    sum of RSS would count the pages a forked child shares with its parent twice). Not
    more often: the kernel walks a process's pages to say, 7 ms at 450 MB, and holds up
    the process's own memory calls meanwhile."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._done = threading.Event()
        self.peak_mb = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(0.25):
            self.peak_mb = max(self.peak_mb, _tree_pss_mb(self._pid))


def _tree_pss_mb(pid: int) -> float:
    """The summed PSS of ``pid`` and its children, in MB (0 where /proc cannot say)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for each in pids + [int(child) for child in children]:
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:  # ended meanwhile, or not Linux
            continue
    return total / 1024


def measure_cli(size: int, runs: int) -> dict[str, object]:
    """``runs`` plans of a scene of ``size`` against one sandbox: medians, largest peak."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed, _, strings = write_scene(folder, size)
        sandbox, url = start_sandbox(seed, folder / "requests.jsonl")
        env = {**os.environ, "SIPALTO_BASE_URL": url, "SIPALTO_USERNAME": "demo",
               "SIPALTO_PASSWORD": "demo", "SIPALTO_SYNC_HOME": str(folder / "home"),
               "NO_COLOR": "1", "SIPALTO_SYNC_TIMINGS": "1"}  # fmt: skip
        results = []
        try:
            for _ in range(runs):
                # The yardstick right before each run: the machine's speed drifts.
                floor = floor_of_scene(folder)
                results.append({**plan_once(folder, env), "floor": floor})
            summary = json.loads((folder / "plan.json").read_text(encoding="utf-8"))["summary"]
        finally:
            _stop(sandbox)
    stages = [key for key in results[0] if key not in _NOT_STAGES]
    row: dict[str, object] = {"size": size, "numbers": strings, "summary": summary}
    row["walls"] = [r["wall"] for r in results]
    row["wall"] = statistics.median(r["wall"] for r in results)
    row["floor"] = statistics.median(r["floor"] for r in results)
    row["ratios"] = [r["wall"] / r["floor"] for r in results]
    row["ratio"] = statistics.median(row["ratios"])  # type: ignore[arg-type]
    row["peak_mb"] = max(r["peak_mb"] for r in results)
    row["all_mb"] = max(r["all_mb"] for r in results)
    row["stages"] = {k: statistics.median(r.get(k, 0.0) for r in results) for k in stages}
    return row


def cli_table(sizes: list[int], runs: int) -> None:
    print(f"load average before: {_load()}; {_cpu_reference()}", flush=True)
    rows = [measure_cli(size, runs) for size in sizes]
    print(f"load average after: {_load()}; {_cpu_reference()}")
    print(
        f"{'size':>8} {'numbers':>8} {'median s':>8} {'floor s':>8} {'÷ floor':>8} "
        f"{'peak MB':>8} {'all MB':>8}  runs (s)"
    )
    for row in rows:
        walls = " ".join(f"{w:.2f}" for w in row["walls"])  # type: ignore[attr-defined]
        print(
            f"{row['size']:>8} {row['numbers']:>8} {row['wall']:>8.2f} {row['floor']:>8.2f} "
            f"{row['ratio']:>8.2f} {row['peak_mb']:>8.0f} {row['all_mb']:>8.0f}  {walls}"
        )
    for row in rows:
        ratios = " ".join(f"{r:.2f}" for r in row["ratios"])  # type: ignore[attr-defined]
        print(f"{row['size']:>8} ÷ floor of each run: {ratios}")
    print(
        "÷ floor: each run's wall time over the floor measured just before it (median); "
        f"issue 14's goal is {GOAL_RATIO:.2f} at 100k"
    )
    print("median seconds by stage:")
    for row in rows:
        stages = row["stages"]
        assert isinstance(stages, dict)
        print(f"{row['size']:>8}  " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    for row in rows:
        print(f"{row['size']:>8} summary: {row['summary']}")
    walls = {row["size"]: row["wall"] for row in rows}
    if 10000 in walls and 100000 in walls:
        print(f"100k/10k time ratio: {walls[100000] / walls[10000]:.1f}")  # type: ignore[operator]


def _stop(sandbox: subprocess.Popen[str]) -> None:
    """Stop the sandbox as Ctrl-C would; terminate it where SIGINT is ignored (a
    background job of a non-interactive shell)."""
    sandbox.send_signal(signal.SIGINT)
    try:
        sandbox.wait(timeout=10)
    except subprocess.TimeoutExpired:
        sandbox.terminate()
        sandbox.wait(timeout=10)


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def _cpu_reference() -> str:
    """How fast this machine runs Python right now: the best of three runs of making a
    million small objects in a dict, the planner's kind of work (a shared virtual
    machine's speed drifts by half over an hour, load or not: compare figures taken at
    like reference times). In a process of its own: the memory it takes would otherwise
    stay with this one, and a command started from it inherits its peak RSS."""
    code = (
        "import time\n"
        "best = 1e9\n"
        "for _ in range(3):\n"
        "    started = time.perf_counter()\n"
        "    made = {str(n): (n, str(n)) for n in range(1_000_000)}\n"
        "    best = min(best, time.perf_counter() - started)\n"
        "    del made\n"
        "print(f'{best:.2f}')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return f"CPU reference {done.stdout.strip()} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--runs", type=int, default=3, help="runs per size (median shown)")
    parser.add_argument(
        "--in-process", action="store_true", help="time make_plan alone, and the floor"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the per-size child
    parser.add_argument("--floor-of", type=Path, help=argparse.SUPPRESS)  # the yardstick
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one)))
        return 0
    if args.floor_of:
        print(scene_floor(args.floor_of))
        return 0
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.in_process:
        in_process_table(sizes, args.runs)
    else:
        cli_table(sizes, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
