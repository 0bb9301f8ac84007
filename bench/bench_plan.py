"""Benchmark: wall time, CPU time and peak memory of `python -m sparkeks plan` against the floor.

Each run is a fresh process (what a user and CI pay, imports included). The floor is
bench/flat_program.py registering the same resources flat under plain Pulumi mocks, measured in the same
session on the same machine. Runs go round-robin (each round runs every row's plan and floor once), so
drift in the machine's speed hits the plan and its floor, and every team count, alike.

Two tables:
- the shipped stacks (`--stacks`, default dev and prod);
- scaling: the prod stack with N synthetic teams (`--teams`, default 1 10 20 100 200; bench/scaled_stack.py),
  each planned with the project's collector settings and with CPython's defaults (`SPARK_EKS_GC=default`),
  to show what sparkeks/gc_policy.py buys. "ms/resource" is the marginal cost: the time above the
  smallest team count's plan, per resource added, for the plan and for its floor. Runs are paired: a
  row's ratio is the median of plan / floor run back to back; the plan's time per added resource is the
  median over (smallest count's plan, this count's plan) run back to back under one hash seed, a new seed
  for each pair, every other pair in the other order, more such pairs per round for the small counts, whose difference is small next to the
  machine's noise (`pairs_per_round`). Beside each median, a 95% interval for it from the pairs' order
  statistics (no assumption about the noise's shape), to tell a real difference between rows from noise.
  A row whose interval reaches further than 5% from its median after the rounds gets more pairs, a round's
  worth at a time, until it does not or has three times its rounds' pairs (the rule reads the interval's
  width, never the figure); a row left wider is named under the table.

Targets: every plan within 1.2x of its floor, a 100-team plan under 8 s, and the marginal time per
resource flat (within 15%) from 10 to 200 teams. Exit status 1 when a target is missed.

Usage: python bench/bench_plan.py [--runs N] [--stacks dev prod] [--teams 1 10 20 100 200]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from scaled_stack import write_scaled_project  # noqa: E402

RATIO_TARGET = 1.2
HUNDRED_TEAMS_TARGET_S = 8.0
FLATNESS_TARGET = 0.15
# Pairs per round for the time per added resource: enough that a row adds about this many resources over
# its pairs, between MIN_PAIRS and MAX_PAIRS (see pairs_per_round).
PAIR_RESOURCES = 4000
MIN_PAIRS = 2
MAX_PAIRS = 20
CONFIDENCE = 0.95
# After the rounds, rows whose interval is wider than this (either side, relative to the median) get more
# pairs, up to SETTLE_CAP times their rounds' pairs: a 15% flatness target needs each row known to about 5%.
PRECISION = 0.05
SETTLE_CAP = 3
# CPython's own collector settings instead of sparkeks/gc_policy.py's, for comparison.
DEFAULT_GC = {"SPARK_EKS_GC": "default"}


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mib: float


@dataclass
class Row:
    """One stack or team count: what to plan, and the samples its rounds collect."""

    label: str
    stack: str
    project: Path
    with_default_gc: bool
    resources: int = 0
    """Set by `bench` from the plan's inventory."""
    plans: list[Sample] = field(default_factory=list)
    floors: list[Sample] = field(default_factory=list)
    defaults: list[Sample] = field(default_factory=list)
    """One sample per round, in round order: round i of every row ran within the same minute or so."""
    pairs: list[tuple[Sample, Sample]] = field(default_factory=list)
    """(base plan, this plan) run back to back: what the time per added resource is read from."""

    @property
    def plan(self) -> Sample:
        return median(self.plans)

    @property
    def floor(self) -> Sample:
        return median(self.floors)

    @property
    def plan_default_gc(self) -> Sample | None:
        return median(self.defaults) if self.defaults else None

    @property
    def ratio(self) -> float:
        """Median of each round's plan / floor (paired: both ran back to back)."""
        return statistics.median(p.wall / f.wall for p, f in zip(self.plans, self.floors))

    def per_added_resource(self, base: Row, floor: bool = False) -> list[float]:
        """(this row - base row) / resources added, in ms, for each pair. For the plan, the adjacent pairs (the
        base plan run right before this row's, several pairs per round for small rows); for the floor, the
        rounds."""
        pairs = list(zip(base.floors, self.floors)) if floor else self.pairs
        added = self.resources - base.resources
        return [1000 * (mine.wall - theirs.wall) / added for theirs, mine in pairs]

    def ms_per_added_resource(self, base: Row, floor: bool = False) -> float:
        """The median of `per_added_resource`."""
        return statistics.median(self.per_added_resource(base, floor))


def plan_command(stack: str, project: Path, out: Path) -> list[str]:
    """`python -m sparkeks plan` of `stack` in `project`, quiet, writing to `out/<stack>`."""
    return [sys.executable, "-m", "sparkeks", "plan", stack, "-q", "--project-dir", str(project), "--out", str(out / stack)]


def planned_resources(plan_dir: Path) -> int:
    """The resource count of the plan written to `plan_dir` (its inventory)."""
    return len(json.loads((plan_dir / "inventory.json").read_text())["resources"])


def measure(cmd: list[str], env: dict[str, str] | None = None) -> Sample:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall for s in samples),
        statistics.median(s.cpu for s in samples),
        max(s.rss_mib for s in samples),
    )


def pairs_per_round(added: int) -> int:
    """Back-to-back (base, row) plan pairs a round runs for a row that adds `added` resources.

    One pair's difference carries the noise of two runs (on this machine a run varies by ~0.1 s, spikes
    of 0.3 s), divided by the resources added: at 10 teams that is about half a millisecond per resource,
    a third of the figure, at 200 teams a fortieth of it. Small rows are cheap, so they get more pairs:
    with 3 rounds, 60 at 10 teams, which puts their median within about 5%."""
    return max(MIN_PAIRS, min(MAX_PAIRS, math.ceil(PAIR_RESOURCES / added)))


def median_interval(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """A distribution-free interval for the median: the k-th smallest and k-th largest of the values, k the
    largest rank whose interval still covers the median with `confidence` (the count of values below the
    median is Binomial(n, 1/2)). None when even the smallest and largest do not reach it (n < 6 at 95%)."""
    n = len(values)
    ordered = sorted(values)
    below = 0.0  # P(fewer than k values fall below the median), growing with k
    best = None
    for k in range(1, n // 2 + 1):
        below += math.comb(n, k - 1) / 2**n
        if 1 - 2 * below < confidence:
            break
        best = (ordered[k - 1], ordered[n - k])
    return best


def precision(values: list[float]) -> float | None:
    """How far the median's 95% interval reaches from it, relative to it (the larger side); None without one."""
    bounds = median_interval(values)
    if bounds is None:
        return None
    mid = statistics.median(values)
    return max(mid - bounds[0], bounds[1] - mid) / abs(mid) if mid else math.inf


def settled(values: list[float]) -> bool:
    reach = precision(values)
    return reach is not None and reach <= PRECISION


def _pair(base: Row, row: Row, plan_cmd, seeds: Iterator[int]) -> None:
    # Both runs of a pair share a hash seed, and each pair has another: a process's time follows its seed
    # (set and dict orders) by about 5%, which at 10 teams is 1 ms per added resource.
    seeded = {**os.environ, "PYTHONHASHSEED": str(next(seeds))}
    if len(row.pairs) % 2:
        # Every other pair runs the row first. Whatever going first or second does to a run (caches, the
        # CPU's clock) then adds to half the differences and takes from the other half, where it would
        # otherwise shift them all, and most at 10 teams, whose difference is smallest.
        mine = measure(plan_cmd(row), env=seeded)
        row.pairs.append((measure(plan_cmd(base), env=seeded), mine))
    else:
        theirs = measure(plan_cmd(base), env=seeded)
        row.pairs.append((theirs, measure(plan_cmd(row), env=seeded)))


def bench(rows: list[Row], runs: int, out: Path, base: Row | None = None) -> list[Row]:
    """Time every row `runs` times, round-robin: each round runs every case's plan and floor (and the plan
    with CPython's collector defaults) before the next round starts, then, with a `base`, each other case's
    plan next to the base's plan (`pairs_per_round` times, the two in turn first), and afterwards more such pairs for the rows
    not yet known to PRECISION. This machine's speed drifts by tens of percent over minutes and spikes for
    seconds; interleaving makes drift hit the plan and its floor alike, and back-to-back pairs make the time
    per added resource a difference of neighbouring runs."""

    def plan_cmd(row: Row) -> list[str]:
        return plan_command(row.stack, row.project, out)

    for row in rows:
        measure(plan_cmd(row))  # warm the file cache and write the inventory the floor replays
        row.resources = planned_resources(out / row.stack)
    default_gc = {**os.environ, **DEFAULT_GC}
    seeds = itertools.count(1)
    for _ in range(runs):
        for row in rows:
            row.plans.append(measure(plan_cmd(row)))
            row.floors.append(measure([sys.executable, str(ROOT / "bench" / "flat_program.py"), str(out / row.stack / "inventory.json")]))
            if row.with_default_gc:
                row.defaults.append(measure(plan_cmd(row), env=default_gc))
        for row in rows:
            if base is None or row is base:
                continue
            for _ in range(pairs_per_round(row.resources - base.resources)):
                _pair(base, row, plan_cmd, seeds)
    if base is not None:
        # Then a round's worth of pairs at a time for every row not yet known to PRECISION, rows in turn,
        # until each is or has SETTLE_CAP times its rounds' pairs. The rule reads the interval's width only,
        # never the figure, so stopping favours no figure over another.
        others = [row for row in rows if row is not base]
        while True:
            open_rows = [
                row
                for row in others
                if not settled(row.per_added_resource(base))
                and len(row.pairs) < SETTLE_CAP * runs * pairs_per_round(row.resources - base.resources)
            ]
            if not open_rows:
                break
            for row in open_rows:
                for _ in range(pairs_per_round(row.resources - base.resources)):
                    _pair(base, row, plan_cmd, seeds)
    return rows


def _interval_cell(values: list[float]) -> str:
    bounds = median_interval(values)
    return f"{bounds[0]:.2f}-{bounds[1]:.2f} ({len(values)})" if bounds else f"too few ({len(values)})"


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {load:.1f} at start"


def write_samples(rows: list[Row], path: Path, host: str) -> None:
    """Every run behind the tables, in run order per list, for reading the noise afterwards (seconds, MiB)."""

    def runs(samples: list[Sample]) -> list[dict[str, float]]:
        return [vars(sample) for sample in samples]

    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        row.label: {
            "stack": row.stack,
            "resources": row.resources,
            "plans": runs(row.plans),
            "floors": runs(row.floors),
            "plansWithDefaultGc": runs(row.defaults),
            "pairs": [{"base": vars(base), "row": vars(mine), "rowFirst": i % 2 == 1} for i, (base, mine) in enumerate(row.pairs)],
        }
        for row in rows
    }
    path.write_text(json.dumps({"machine": host, "rows": data}, indent=1) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="rounds; each runs every row once (medians are reported)")
    parser.add_argument("--stacks", nargs="*", default=["dev", "prod"], help="shipped stacks to time")
    parser.add_argument("--teams", nargs="*", type=int, default=[1, 10, 20, 100, 200], help="team counts of the scaled prod stack")
    parser.add_argument(
        "--samples", type=Path, default=ROOT / "build" / "bench" / "plan-samples.json", help="where every run's wall, CPU and RSS are written (JSON)"
    )
    args = parser.parse_args()
    host = machine()
    print(f"machine: {host}; {args.runs} paired runs per row (median wall and CPU, max RSS)")
    failures: list[str] = []

    measured: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plans"
        if args.stacks:
            print("\n| stack | resources | plan wall | floor wall | ratio | plan CPU | floor CPU | plan peak RSS | floor peak RSS |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            stacks = bench([Row(stack, stack, ROOT, with_default_gc=False) for stack in args.stacks], args.runs, out)
            measured += stacks
            for r in stacks:
                stack = r.label
                print(
                    f"| {stack} | {r.resources} | {r.plan.wall:.2f} s | {r.floor.wall:.2f} s | {r.ratio:.2f}x | {r.plan.cpu:.2f} s "
                    f"| {r.floor.cpu:.2f} s | {r.plan.rss_mib:.0f} MiB | {r.floor.rss_mib:.0f} MiB |"
                )
                if r.ratio > RATIO_TARGET:
                    failures.append(f"{stack}: {r.ratio:.2f}x the floor (target {RATIO_TARGET}x)")

        if args.teams:
            project = Path(tmp) / "scaled"
            rows = [Row(str(teams), write_scaled_project(project, teams), project, with_default_gc=True) for teams in sorted(args.teams)]
            base = rows[0]
            bench(rows, args.runs, out, base=base)
            measured += rows
            print(
                f"\n| teams | resources | plan wall | floor wall | ratio | plan ms/resource (above {base.label} team{'s' * (base.label != '1')}) "
                f"| its {CONFIDENCE:.0%} interval (pairs) | floor ms/resource | plan wall, CPython GC defaults | plan peak RSS | same, GC defaults "
                "| floor peak RSS |"
            )
            print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            marginal: dict[int, float] = {}
            for r in rows:
                if r is not base:
                    marginal[int(r.label)] = r.ms_per_added_resource(base)
                per = "-" if r is base else f"{marginal[int(r.label)]:.2f}"
                interval = "-" if r is base else _interval_cell(r.per_added_resource(base))
                floor_per = "-" if r is base else f"{r.ms_per_added_resource(base, floor=True):.2f}"
                d = r.plan_default_gc
                assert d is not None
                print(
                    f"| {r.label} | {r.resources} | {r.plan.wall:.2f} s | {r.floor.wall:.2f} s | {r.ratio:.2f}x "
                    f"| {per} | {interval} | {floor_per} | {d.wall:.2f} s ({d.wall / r.floor.wall:.2f}x) "
                    f"| {r.plan.rss_mib:.0f} MiB | {d.rss_mib:.0f} MiB | {r.floor.rss_mib:.0f} MiB |"
                )
                if r.ratio > RATIO_TARGET:
                    failures.append(f"{r.label} teams: {r.ratio:.2f}x the floor (target {RATIO_TARGET}x)")
                if r.label == "100" and r.plan.wall > HUNDRED_TEAMS_TARGET_S:
                    failures.append(f"100 teams: {r.plan.wall:.2f} s (target under {HUNDRED_TEAMS_TARGET_S} s)")
            unsettled = [r for r in rows if r is not base and not settled(r.per_added_resource(base))]
            for r in unsettled:
                reach = precision(r.per_added_resource(base))
                known = f"within {reach:.0%} of its median" if reach is not None else "with no interval"
                print(
                    f"\n{r.label} teams: time per added resource known only {known} after {len(r.pairs)} pairs "
                    f"(target {PRECISION:.0%}): this machine's noise decides the row's last digits"
                )
            if not unsettled and len(rows) > 1:
                print(f"\nevery row's time per added resource is known within {PRECISION:.0%} of its median ({CONFIDENCE:.0%} interval)")
            window = [v for k, v in marginal.items() if 10 <= k <= 200]
            if len(window) >= 2:
                spread = max(window) / min(window) - 1
                print(f"\nmarginal ms/resource from 10 to 200 teams: {min(window):.2f}-{max(window):.2f} (spread {spread:.0%})")
                if spread > FLATNESS_TARGET:
                    failures.append(f"marginal time per resource varies {spread:.0%} from 10 to 200 teams (target {FLATNESS_TARGET:.0%})")

    write_samples(measured, args.samples, host)
    print(f"\nevery run's samples: {args.samples}")
    for failure in failures:
        print(f"OVER TARGET: {failure}")
    if not failures:
        print("all targets met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
