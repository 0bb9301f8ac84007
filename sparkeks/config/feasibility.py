"""Stacks that deploy but never run: pools whose limits keep out the nodes their pods need.

Karpenter launches no node that would take a NodePool past its limits. A pool capped below its smallest
instance type never starts a node; a pool capped below its larger types never starts those, so any pod
only they can hold stays Pending for good. `sparkeks job` sizes a job against the instance types a pool
allows (and the team's LimitRange), not against the pool's limits: the largest executor or driver a team
may ask and `job` accepts must therefore fit a node the limits let Karpenter launch. A team's container
limits default to what the largest node its pools can launch holds (sparkeks.teams.queues), so a team that
writes none fits the pool that node is in; the LimitRange is the namespace's, so the team's other pools
must launch nodes as large for the shapes their own instance types admit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic_core import PydanticCustomError

from sparkeks.config.base import memory_mib, problem
from sparkeks.config.collect import reads
from sparkeks.config.teams import POOL_KEYS

if TYPE_CHECKING:
    from sparkeks.config.karpenter import PoolLimits
    from sparkeks.config.model import StackConfig
    from sparkeks.nodes import InstanceType
    from sparkeks.spark.sizing import Node

# Karpenter counts a node's memory without the hypervisor's share (its vmMemoryOverheadPercent, 7.5%).
VM_MEMORY_OVERHEAD = 0.075
# The most cores a job spec may give one executor or driver (sparkeks/jobs/spec.py).
SPEC_MAX_CORES = 64


def effective_limits(limits: PoolLimits, scale: float = 1.0) -> tuple[int, int]:
    """(vCPUs, MiB) a NodePool's limits come to as rendered: a DR stack on standby runs a share of the
    primary's capacity, rounded up to whole vCPUs and GiB (sparkeks.standby)."""
    from sparkeks.standby import pool_limits

    return pool_limits(limits.cpu, memory_mib(limits.memory), scale)


def launchable(node: Node | InstanceType, cpu_limit: float, memory_limit_mib: float) -> bool:
    """Whether one node of this type alone stays within a pool's limits."""
    return node.vcpus <= cpu_limit and node.memory_mib * (1 - VM_MEMORY_OVERHEAD) <= memory_limit_mib


@dataclass(frozen=True)
class Stranded:
    """A pod shape `job` accepts for some teams on a pool that no node within the pool's limits holds."""

    cores: int
    pod_memory_mib: int
    teams: tuple[str, ...]
    needs: Node
    """The smallest instance type of the pool that holds the shape."""


def stranded_shapes(config: StackConfig, key: str) -> Stranded | None:
    """The largest stranded shape on pool `key`, or None when every shape teams may ask can run."""
    from sparkeks.spark.sizing import Node

    pool = config.karpenter.pools.pool(key)
    users = [t for t in config.teams if key in t.pools]
    if not users:
        return None
    nodes = [Node.of(t, observability=config.observability.enabled) for t in pool.instance_types()]
    cpu_limit, memory_limit = effective_limits(pool.limits, config.capacity_scale)
    allowed = [n for n in nodes if launchable(n, cpu_limit, memory_limit)]
    if not allowed:
        return None  # no node at all: the smallest-node check says so
    from sparkeks.teams.queues import queue_tree, team_limits

    tree = queue_tree(config)
    worst: dict[tuple[int, int], list[str]] = {}
    for team in users:
        queue = tree.team(team.name)
        limits = team_limits(team, queue)
        team_cores, team_memory = min(limits.max_cpu, SPEC_MAX_CORES), int(memory_mib(limits.max_memory))
        if limits.max_cpu > queue.max.cpu or team_memory > queue.max.memory_mib:
            continue  # a limit above the team's own max: the queue checks report that one
        # `job` takes any shape some type of the pool holds, up to the team's LimitRange: the corners.
        for node in nodes:
            shape = (min(node.vcpus, team_cores), min(node.pod_memory_mib, team_memory))
            if not any(n.vcpus >= shape[0] and n.pod_memory_mib >= shape[1] for n in allowed):
                worst.setdefault(shape, []).append(team.name)
    if not worst:
        return None
    cores, memory = max(worst, key=lambda s: (s[1], s[0]))
    holders = [n for n in nodes if n.vcpus >= cores and n.pod_memory_mib >= memory]
    needs = min(holders, key=lambda n: (n.memory_mib, n.vcpus, n.instance_type))
    return Stranded(cores, memory, tuple(sorted(set(worst[(cores, memory)]))), needs)


def _gib(mib: float) -> str:
    return f"{mib / 1024:.1f}".rstrip("0").rstrip(".") + " GiB"


@reads("karpenter", "teams", "orgs", "dr", "observability")
def largest_pods_fit_the_pool_limits(config: StackConfig) -> Iterator[PydanticCustomError]:
    scale = config.capacity_scale
    for key in POOL_KEYS:
        found = stranded_shapes(config, key)
        if found is None:
            continue
        pool = config.karpenter.pools.pool(key)
        what = "a driver" if key == "driver" else "an executor"
        teams = f"team {found.teams[0]}" if len(found.teams) == 1 else f"teams {', '.join(found.teams)}"
        scaled = f" x dr.capacityScale {scale:g}" if scale != 1.0 else ""
        needs = found.needs
        yield problem(
            f"{what} of {found.cores} cores and {_gib(found.pod_memory_mib)} (with overhead), the largest {teams} may ask "
            f"and `sparkeks job` accepts, fits only nodes these limits{scaled} never launch (the smallest is {needs.instance_type}: "
            f"{needs.vcpus} vCPUs, {_gib(needs.memory_mib)}); raise the limits to hold one {needs.instance_type}, "
            "or lower the team's limits.maxCpu / limits.maxMemory",
            key=f"karpenter.pools.{key}.limits",
            value=json.loads(pool.limits.model_dump_json()),
        )
