"""Benchmark: the program run of `pulumi up` with the project's collector policy and with CPython's defaults.

There is no Pulumi CLI or engine here, so the closest honest measurement is the program's side of the run:
the real `__main__.py` started as the Python language host starts it (bench/up_program.py) and talking
gRPC, on 127.0.0.1, to a local stand-in for the engine (bench/grpc_engine.py) that answers from the offline
plan's simulated account. The time is the client's, from its first RPC to its last (the program's imports
included); the stand-in answers at once, so this is the program's own cost, not that of the providers and
AWS behind a real engine, which a real `pulumi up` adds on top. Beside it, the whole process: from its start
to its exit, which the language host waits for before it reports the run done (the SDK's import and the
interpreter's exit, with its final collection, included). `pulumi up` also runs the program a first time
for its preview; that run is not timed here.

Every stack runs with `__main__.py`'s collector policy (sparkeks/gc_policy.py: "tuned") and with
`SPARK_EKS_GC=default` (CPython's own settings), paired: each round runs both back to back for every row,
in alternating order, and the ratio is the median of each round's tuned / default. Rows: the shipped stacks
(`--stacks`) and the prod stack with N synthetic teams (`--teams`, bench/scaled_stack.py).

Every run is checked, and the benchmark fails (exit 1) when one is wrong: the program exits 0 and logs no
error, and the stand-in saw one RegisterResource per resource of the stack's offline plan, plus the stack's (reads, such as a
StackReference, come as ReadResource).

Usage: python bench/bench_up.py [--runs N] [--stacks dev prod] [--teams 1 20 100 200]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_plan import DEFAULT_GC, Sample, machine, median, plan_command, planned_resources  # noqa: E402
from scaled_stack import write_scaled_project  # noqa: E402
from up_run import UpRun, run_up  # noqa: E402


@dataclass
class Case:
    label: str
    stack: str
    project: Path
    resources: int = 0
    """resources in the stack's offline plan"""
    tuned: list[Sample] = field(default_factory=list)
    default: list[Sample] = field(default_factory=list)
    collections: dict[str, list[int]] = field(default_factory=lambda: {"tuned": [], "default": []})
    process: dict[str, list[float]] = field(default_factory=lambda: {"tuned": [], "default": []})
    """each run's whole process, start to exit (UpRun.process_wall)"""

    @property
    def ratio(self) -> float:
        """Median of each round's tuned / default wall time (paired: both ran back to back)."""
        return statistics.median(t.wall / d.wall for t, d in zip(self.tuned, self.default))


def plan_resources(case: Case, out: Path) -> int:
    """The resource count of the stack's offline plan (its inventory)."""
    done = subprocess.run(plan_command(case.stack, case.project, out), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"offline plan of {case.stack} failed:\n{done.stderr}")
    return planned_resources(out / case.stack)


def checked(case: Case, run: UpRun, setting: str) -> Sample:
    """The run's sample, once it is known to have run the whole program."""
    problems = []
    if why := run.failure():
        problems.append(why)
    reads = run.engine["rpcs"].get("ReadResource", 0)  # the plan lists reads (a StackReference) as resources too
    if run.register_calls != case.resources - reads + 1:
        problems.append(f"RegisterResource calls: {run.register_calls}, expected {case.resources - reads} resources + the stack")
    if problems:
        raise SystemExit(f"{case.label} ({setting} collector): " + "\n".join(problems))
    case.collections[setting].append(run.timings["collections"])
    case.process[setting].append(run.process_wall)
    return Sample(run.timings["wall"], run.timings["cpu"], run.timings["rss_mib"])


def bench(cases: list[Case], runs: int, out: Path) -> None:
    for case in cases:
        case.resources = plan_resources(case, out)  # also warms the file cache for the first round
    for round_ in range(runs):
        for case in cases:
            order = [("tuned", None), ("default", DEFAULT_GC)]
            for setting, env in order if round_ % 2 == 0 else reversed(order):
                sample = checked(case, run_up(case.project, case.stack, env), setting)
                (case.tuned if setting == "tuned" else case.default).append(sample)


def table(cases: list[Case], first: str) -> None:
    print(
        f"\n| {first} | resources | wall, tuned | wall, GC defaults | ratio | CPU, tuned | CPU, GC defaults "
        "| whole process, tuned | whole process, GC defaults | peak RSS, tuned | peak RSS, GC defaults | collections, tuned / defaults |"
    )
    print("|---" + "|---:" * 11 + "|")
    for c in cases:
        t, d = median(c.tuned), median(c.default)
        gcs = f"{statistics.median(c.collections['tuned']):.0f} / {statistics.median(c.collections['default']):.0f}"
        print(
            f"| {c.label} | {c.resources} | {t.wall:.2f} s | {d.wall:.2f} s | {c.ratio:.2f}x | {t.cpu:.2f} s | {d.cpu:.2f} s "
            f"| {statistics.median(c.process['tuned']):.2f} s | {statistics.median(c.process['default']):.2f} s "
            f"| {t.rss_mib:.0f} MiB | {d.rss_mib:.0f} MiB | {gcs} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="rounds; each runs every row with both settings (medians reported)")
    parser.add_argument("--stacks", nargs="*", default=["dev", "prod"], help="shipped stacks to time")
    parser.add_argument("--teams", nargs="*", type=int, default=[1, 20, 100, 200], help="team counts of the scaled prod stack")
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.runs} paired runs per row (median wall and CPU of the program run, max peak RSS)")
    print(
        "ratio = tuned / GC defaults wall time of the program run, median over rounds; whole process = start of the program's "
        "process to its exit (what the language host waits for); collections = the collector's runs during the program run"
    )

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plans"
        if args.stacks:
            cases = [Case(stack, stack, ROOT) for stack in args.stacks]
            bench(cases, args.runs, out)
            table(cases, "stack")
        if args.teams:
            project = Path(tmp) / "scaled"
            cases = [Case(str(teams), write_scaled_project(project, teams), project) for teams in sorted(args.teams)]
            bench(cases, args.runs, out)
            table(cases, "teams")
    print("\nevery run exited 0 and registered its offline plan's resources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
