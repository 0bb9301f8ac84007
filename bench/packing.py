"""Packing benchmark: how much of a node the reference executor shapes use, before and after fit.

Before: the job renderer as it was before shape advice (the YARN shape kept, a CPU request from a node
formula that assumed 110 pods and a flat DaemonSet allowance, any type of the default executor pool).
After: `fit: auto` (the filled shape for the category the job's memory picks, node requirements for it).
Shares are of Karpenter's published allocatable CPU and memory (sparkeks/data), counting executor pods
only; executors per node come from the room really left after the platform's DaemonSets.

Usage: python bench/packing.py
"""

from __future__ import annotations

import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sparkeks import nodes  # noqa: E402
from sparkeks.config.karpenter import ExecutorPoolConfig  # noqa: E402
from sparkeks.instances import FAMILIES  # noqa: E402
from sparkeks.spark import fit  # noqa: E402
from sparkeks.spark.sizing import ExecutorShape, Node, format_mib, memory_overhead_mib  # noqa: E402

SHAPES = [("4c/14g", 4, 14336, 0.2), ("1c/4g", 1, 4096, 0.2), ("2c/8g PySpark", 2, 8192, 0.4), ("8c/56g", 8, 57344, 0.2), ("5c/36g", 5, 36864, 0.2)]


def _before_request(shape: ExecutorShape, types: list[str]) -> int:
    """The CPU request the renderer computed before: its own node formula (110 pods, 300m/512Mi of
    DaemonSets), the smallest per-slot share over every type of the pool that held one executor."""

    def room(name: str) -> tuple[int, int, int]:
        family, _ = name.split(".")
        vcpus = nodes.instance_type(name).vcpus
        reserved = math.ceil(60 + (10 if vcpus > 1 else 0) + 5 * min(max(vcpus - 2, 0), 2) + 2.5 * max(vcpus - 4, 0))
        memory = vcpus * FAMILIES[family].memory_per_vcpu_gib * 1024
        return vcpus, vcpus * 1000 - reserved - 300, math.floor(memory * 0.925 - (255 + 11 * 110) - 100) - 512

    request = shape.cores * 1000
    for name in types:
        vcpus, cpu, memory = room(name)
        if vcpus >= shape.cores and memory >= shape.pod_memory_mib:
            request = min(request, cpu // (vcpus // shape.cores) // 50 * 50)
    return request


def _shares(shape: ExecutorShape, request: int, name: str) -> tuple[int, float, float]:
    node = Node.of(name)
    n = max(0, min(node.pod_cpu_milli // request, node.pod_memory_mib // shape.pod_memory_mib, node.vcpus // shape.cores, node.pods))
    cpu, memory, _ = nodes.allocatable(name)
    return n, n * request / cpu, n * shape.pod_memory_mib / memory


def _summary(rows: list[tuple[str, int, float, float]]) -> tuple[str, str]:
    placed = [r for r in rows if r[1] > 0]
    best = max(placed, key=lambda r: (min(r[2], r[3]), r[0]))
    median = f"{statistics.median(r[2] for r in placed):.0%} / {statistics.median(r[3] for r in placed):.0%}"
    return median, f"{best[0]} {best[1]}x: {best[2]:.0%} / {best[3]:.0%}"


def main() -> int:
    types = ExecutorPoolConfig().instance_types()
    print(f"default executor pool: {len(types)} instance types; Karpenter {nodes.source()['karpenterDocsVersion']} allocatable figures")
    print()
    print("| shape | before: executor | before: median CPU / memory | before: best type | after: executor (category) | after: median CPU / memory | after: picked type |")
    print("|---|---|---:|---|---|---:|---|")
    for label, cores, heap, factor in SHAPES:
        before_shape = ExecutorShape(cores, heap, memory_overhead_mib(heap, factor))
        request = _before_request(before_shape, types)
        before = [(t, *_shares(before_shape, request, t)) for t in types]
        b_median, b_best = _summary(before)

        advice = fit.advise(cores, types, overhead_factor=factor, memory_mib=heap)
        picked = advice.picked
        allowed = [r.instance_type for r in picked.rows if r.vcpus in picked.vcpus]
        after = [(t, *_shares(picked.shape, picked.request_milli, t)) for t in allowed]
        a_median, _ = _summary(after)
        best = max(after, key=lambda r: (min(r[2], r[3]), r[0]))
        print(
            f"| {label} | {format_mib(heap)} + {format_mib(before_shape.overhead_mib)}, {request}m | {b_median} | {b_best} "
            f"| {format_mib(picked.shape.memory_mib)} + {format_mib(picked.shape.overhead_mib)}, {picked.request_milli}m ({picked.category}) "
            f"| {a_median} | {best[0]} {best[1]}x: {best[2]:.0%} / {best[3]:.0%} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
