"""Benchmark: wall time and peak memory of `python -m sparkeks plan <stack>` against the floor.

Each run is a fresh process (what a user and CI pay, imports included). The floor is
bench/flat_program.py registering the same resources flat under plain mocks, measured in the same
session on the same machine. Reports medians; the target is plan <= 1.3 x floor.

Usage: python bench/bench_plan.py [--runs N] [--stacks dev prod]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.3


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def bench(stack: str, runs: int, out: Path) -> dict[str, float]:
    plan_cmd = [sys.executable, "-m", "sparkeks", "plan", stack, "-q", "--out", str(out / stack)]
    measure(plan_cmd)  # warm the file cache and write the inventory the floor replays
    floor_cmd = [sys.executable, str(ROOT / "bench" / "flat_program.py"), str(out / stack / "inventory.json")]
    plan_runs, floor_runs = [], []
    for _ in range(runs):  # interleaved, so drift in machine load hits both alike
        plan_runs.append(measure(plan_cmd))
        floor_runs.append(measure(floor_cmd))
    resources = len(__import__("json").loads((out / stack / "inventory.json").read_text())["resources"])
    result = {
        "resources": resources,
        "plan_s": statistics.median(w for w, _ in plan_runs),
        "floor_s": statistics.median(w for w, _ in floor_runs),
        "plan_mib": max(m for _, m in plan_runs),
        "floor_mib": max(m for _, m in floor_runs),
    }
    result["ratio"] = result["plan_s"] / result["floor_s"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stacks", nargs="+", default=["dev", "prod"])
    args = parser.parse_args()
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), platform.processor())
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {args.runs} runs each (median wall, max RSS)")
    print("| stack | resources | plan wall | floor wall | ratio | plan peak RSS | floor peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for stack in args.stacks:
            r = bench(stack, args.runs, Path(tmp))
            worst = max(worst, r["ratio"])
            print(
                f"| {stack} | {r['resources']} | {r['plan_s']:.2f} s | {r['floor_s']:.2f} s | {r['ratio']:.2f}x "
                f"| {r['plan_mib']:.0f} MiB | {r['floor_mib']:.0f} MiB |"
            )
    verdict = "within" if worst <= TARGET else "OVER"
    print(f"worst ratio {worst:.2f}x: {verdict} the {TARGET}x target")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
