"""Spark on Kubernetes sizing: memory strings, overhead, and how executors pack onto a pool's nodes.

Kubernetes OOM-kills a container the moment it passes its memory limit (YARN tolerated a small
overrun), and a node's allocatable CPU is less than its vCPUs. These rules make executors fit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sparkeks import nodes

MIN_OVERHEAD_MIB = 384
OVERHEAD_GRANULE_MIB = 256

_MEMORY = re.compile(r"^(?P<number>[0-9]+)\s*(?P<unit>b|k|kb|m|mb|g|gb|t|tb|p|pb)?$", re.IGNORECASE)
_UNIT_MIB = {"b": 1 / 1024 / 1024, "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024**2, "p": 1024**3}


class SizingError(ValueError):
    pass


def parse_memory_mib(value: str | int) -> int:
    """A Spark memory string (`14g`, `512m`, `2048`: MiB without a unit) in MiB, as Spark reads it."""
    match = _MEMORY.match(str(value).strip())
    if not match:
        raise SizingError(f"{value!r} is not a Spark memory size; use a whole number with k, m, g or t, like 14g or 512m")
    unit = (match["unit"] or "m").lower()[0]
    mib = int(match["number"]) * _UNIT_MIB[unit]
    if mib < 1:
        raise SizingError(f"{value!r} is less than 1 MiB")
    return math.ceil(mib)


def format_mib(mib: int) -> str:
    return f"{mib // 1024}g" if mib % 1024 == 0 else f"{mib}m"


def kubernetes_memory(mib: int) -> str:
    """MiB as a Kubernetes quantity (3072 -> 3Gi)."""
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def memory_overhead_mib(memory_mib: int, factor: float) -> int:
    """max(384 MiB, factor x memory rounded up to 256 MiB): 14g at 0.2 -> 3g."""
    return max(MIN_OVERHEAD_MIB, math.ceil(memory_mib * factor / OVERHEAD_GRANULE_MIB) * OVERHEAD_GRANULE_MIB)


@dataclass(frozen=True)
class Node:
    """A Spark node's room for executors: Karpenter's published allocatable figures for the type minus
    the DaemonSets the platform runs on every Spark node (`sparkeks.nodes.spark_room`)."""

    instance_type: str
    vcpus: int
    memory_mib: int
    pod_cpu_milli: int
    pod_memory_mib: int
    pods: int

    @classmethod
    def of(cls, instance_type: str, *, observability: bool = True) -> Node:
        it = nodes.instance_type(instance_type)
        cpu, memory, pods = nodes.spark_room(instance_type, observability=observability)
        return cls(instance_type, it.vcpus, it.memory_mib, cpu, memory, pods)


@dataclass(frozen=True)
class ExecutorShape:
    cores: int
    memory_mib: int
    overhead_mib: int

    @property
    def pod_memory_mib(self) -> int:
        return self.memory_mib + self.overhead_mib


def fits(node: Node, shape: ExecutorShape, request_milli: int) -> int:
    """How many executors of `shape` requesting `request_milli` CPU one node holds."""
    return min(node.pod_cpu_milli // request_milli, node.pod_memory_mib // shape.pod_memory_mib, node.pods)


def executor_request_milli(shape: ExecutorShape, nodes: list[Node]) -> int:
    """The CPU request that packs as many executors as the node has `cores`-sized slots.

    Asking for all 4 cores on an 8-vCPU node fits one executor, not two, once kube-reserved and
    DaemonSet CPU are taken; asking for what is left per slot (in 50m steps) fits both, on every node
    size of the pool. Spark still runs `cores` task threads.
    """
    viable = [n for n in nodes if n.vcpus >= shape.cores and n.pod_memory_mib >= shape.pod_memory_mib]
    if not viable:
        raise SizingError("no node of the pool holds one executor")
    request = shape.cores * 1000
    for node in viable:
        slots = node.vcpus // shape.cores
        request = min(request, node.pod_cpu_milli // slots // 50 * 50)
    return request


def packing(shape: ExecutorShape, nodes: list[Node], request_milli: int) -> dict[str, int]:
    """Executors per node for each instance type of the pool (0: does not fit)."""
    return {n.instance_type: max(fits(n, shape, request_milli), 0) for n in nodes}


def largest_executor(nodes: list[Node]) -> tuple[int, int]:
    """(vCPUs, MiB for the whole pod) of the largest node's room for a single pod."""
    best = max(nodes, key=lambda n: (n.vcpus, n.pod_memory_mib))
    return best.vcpus, max(n.pod_memory_mib for n in nodes)
