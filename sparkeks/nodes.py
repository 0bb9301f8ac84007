"""What a node of each instance type offers pods, from Karpenter's own published figures.

`sparkeks/data/karpenter-instance-types.json` holds, per instance type the toolkit may launch, the
allocatable CPU, memory and pod count that Karpenter's instance-types reference lists for the pinned
Karpenter minor (AL2023, no kubelet overrides: what our EC2NodeClasses render). It is produced by
`tools/karpenter_instance_types.py` from a local copy of that page; nothing here needs the network.
The DaemonSets the platform runs on every Spark node come off that in `sparkeks.daemonsets`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

DATA_FILE = Path(__file__).resolve().parent / "data" / "karpenter-instance-types.json"


@dataclass(frozen=True)
class InstanceType:
    """One instance type as Karpenter sees it: capacity and what the kubelet leaves allocatable."""

    name: str
    family: str
    category: str
    architecture: str
    vcpus: int
    memory_mib: int
    allocatable_cpu_milli: int
    allocatable_memory_mib: int
    max_pods: int

    @property
    def memory_per_vcpu_gib(self) -> float:
        return self.memory_mib / 1024 / self.vcpus


@cache
def _document() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text())


@cache
def instance_types() -> MappingProxyType:
    """Every instance type with published figures, by name."""
    rows = _document()["instanceTypes"]
    return MappingProxyType(
        {
            name: InstanceType(
                name=name,
                family=row["family"],
                category=row["category"],
                architecture=row["architecture"],
                vcpus=row["vcpus"],
                memory_mib=row["memoryMiB"],
                allocatable_cpu_milli=row["allocatableCpuMilli"],
                allocatable_memory_mib=row["allocatableMemoryMiB"],
                max_pods=row["maxPods"],
            )
            for name, row in rows.items()
        }
    )


def source() -> dict[str, str]:
    """Where the figures come from: repository, path, commit, Karpenter docs version, date checked."""
    return dict(_document()["source"])


class UnknownInstanceType(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"{self.name}: no allocatable figures for this instance type (Karpenter {source()['karpenterDocsVersion']} reference)"


def instance_type(name: str) -> InstanceType:
    try:
        return instance_types()[name]
    except KeyError:
        raise UnknownInstanceType(name) from None


def exists(name: str) -> bool:
    return name in instance_types()


def allocatable(name: str) -> tuple[int, int, int]:
    """(CPU millicores, memory MiB, pods) the kubelet of a fresh node of this type offers pods,
    before any DaemonSet: Karpenter's published figures."""
    it = instance_type(name)
    return it.allocatable_cpu_milli, it.allocatable_memory_mib, it.max_pods


def spark_room(name: str, *, observability: bool = True) -> tuple[int, int, int]:
    """(CPU millicores, memory MiB, pods) left for Spark pods on a node of this type: allocatable minus
    the DaemonSets the platform runs on every Spark node. The advisor never plans beyond this."""
    from sparkeks.daemonsets import overhead

    cpu, memory, pods = allocatable(name)
    ds_cpu, ds_memory, ds_pods = overhead(observability=observability)
    return cpu - ds_cpu, memory - ds_memory, pods - ds_pods


def absent() -> tuple[str, ...]:
    """Family and size combinations the size table allows but that do not exist upstream."""
    return tuple(_document()["absent"])
