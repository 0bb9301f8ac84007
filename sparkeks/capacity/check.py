"""Does the platform fit? The fixed-size system node group must hold its pods with headroom; every
platform pod must fit a node the `platform` NodePool can launch. Plus the footprint table of summary.md.

Available capacity is Karpenter's published allocatable figures for the instance type (`sparkeks.nodes`),
the smallest of the group's types, times the group's desired size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparkeks.capacity.footprint import EVERY_NODE, PodSet, platform_pods
from sparkeks.placement import PLATFORM_POOL, SYSTEM_POOL
from sparkeks.quantities import cpu_millis, memory_mib

# Share of the system nodes' allocatable CPU and memory kept free: a rolling update's surge pod,
# add-on upgrades, and the kubelet's own growth.
SYSTEM_HEADROOM = 0.2
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
QUOTA = "kubernetes:core/v1:ResourceQuota"


@dataclass(frozen=True)
class SystemGroup:
    instance_types: tuple[str, ...]
    desired_size: int

    def allocatable(self) -> tuple[str, int, float, int]:
        """(smallest type, CPU millicores, memory MiB, pods) of one node: the smallest of each figure."""
        from sparkeks.nodes import allocatable

        figures = {t: allocatable(t) for t in self.instance_types}
        smallest = min(figures, key=lambda t: (figures[t][1], figures[t][0]))
        return smallest, min(f[0] for f in figures.values()), float(min(f[1] for f in figures.values())), min(f[2] for f in figures.values())


def _gib(mib: float) -> str:
    return f"{mib / 1024:.1f} GiB"


def _cpu(milli: float) -> str:
    return f"{milli / 1000:.2f} CPU"


def system_group(resources: list[dict[str, Any]]) -> SystemGroup | None:
    groups = [r for r in resources if r["type"] == NODE_GROUP and r["inputs"].get("nodeGroupName") == "system"]
    if not groups:
        return None
    inputs = groups[0]["inputs"]
    return SystemGroup(tuple(inputs["instanceTypes"]), int(inputs["scalingConfig"]["desiredSize"]))


@dataclass(frozen=True)
class SystemFit:
    group: SystemGroup
    instance_type: str
    requested_cpu: int
    requested_memory: float
    requested_pods: int
    available_cpu: float
    available_memory: float
    available_pods: int

    @property
    def fits(self) -> bool:
        return (
            self.requested_cpu <= self.available_cpu
            and self.requested_memory <= self.available_memory
            and self.requested_pods <= self.available_pods
        )


def system_fit(resources: list[dict[str, Any]], pods: list[PodSet] | None = None) -> SystemFit | None:
    group = system_group(resources)
    if group is None:
        return None
    pods = platform_pods(resources) if pods is None else pods
    instance_type, cpu, memory, max_pods = group.allocatable()
    nodes = group.desired_size
    steady = [p for p in pods if not p.transient]
    on_group = [p for p in steady if p.placement == SYSTEM_POOL]
    daemons = [p for p in steady if p.placement == EVERY_NODE]
    usable = 1 - SYSTEM_HEADROOM
    return SystemFit(
        group=group,
        instance_type=instance_type,
        requested_cpu=sum(p.total_cpu_milli for p in on_group) + nodes * sum(p.cpu_milli for p in daemons),
        requested_memory=sum(p.total_memory_mib for p in on_group) + nodes * sum(p.memory_mib for p in daemons),
        requested_pods=sum(p.replicas for p in on_group) + nodes * len(daemons),
        available_cpu=nodes * cpu * usable,
        available_memory=nodes * memory * usable,
        available_pods=nodes * max_pods,
    )


def _platform_pool(resources: list[dict[str, Any]]) -> dict[str, Any] | None:
    pools = [r for r in resources if r["type"] == NODE_POOL and r["inputs"]["metadata"]["name"] == PLATFORM_POOL]
    return pools[0]["inputs"] if pools else None


def platform_pool_types(resources: list[dict[str, Any]]) -> list[str]:
    """The instance types the platform NodePool may launch (its family x vCPU requirements)."""
    from sparkeks.instances import FAMILIES

    pool = _platform_pool(resources)
    if pool is None:
        return []
    requirements = {r["key"]: r["values"] for r in pool["spec"]["template"]["spec"]["requirements"]}
    cpus = [int(c) for c in requirements["karpenter.k8s.aws/instance-cpu"]]
    return [t for f in requirements["karpenter.k8s.aws/instance-family"] for t in FAMILIES[f].instance_types(cpus)]


def capacity_problems(resources: list[dict[str, Any]], stack_file: str, project: str) -> list[str]:
    """One line per platform that does not fit, empty when it does."""
    from sparkeks.nodes import allocatable

    pods = platform_pods(resources)
    problems = []
    fit = system_fit(resources, pods)
    if fit is not None and not fit.fits:
        group = fit.group
        problems.append(
            f"{stack_file}: {project}:cluster.systemNodeGroup: the system node group ({group.desired_size} x {', '.join(group.instance_types)})"
            f" cannot hold its pods: requested {_cpu(fit.requested_cpu)}, {_gib(fit.requested_memory)}, {fit.requested_pods} pods;"
            f" available {_cpu(fit.available_cpu)}, {_gib(fit.available_memory)}, {fit.available_pods} pods"
            f" ({int((1 - SYSTEM_HEADROOM) * 100)}% of Karpenter's allocatable figures for {fit.instance_type}"
            f" x {group.desired_size} node{'' if group.desired_size == 1 else 's'});"
            " raise desiredSize or choose larger instanceTypes"
        )
    types = platform_pool_types(resources)
    if types:
        daemons = [p for p in pods if p.placement == EVERY_NODE and not p.transient]
        room = max((allocatable(t)[0] - sum(p.cpu_milli for p in daemons), allocatable(t)[1] - sum(p.memory_mib for p in daemons)) for t in types)
        for pod in pods:
            if pod.placement == PLATFORM_POOL and (pod.cpu_milli > room[0] or pod.memory_mib > room[1]):
                problems.append(
                    f"{stack_file}: {project}:karpenter.platform.instanceCpus: {pod.source} requests {_cpu(pod.cpu_milli)}, {_gib(pod.memory_mib)}"
                    f" per pod, more than the largest platform node offers ({_cpu(room[0])}, {_gib(room[1])} after DaemonSets); allow larger sizes"
                )
    problems += _platform_limit_problems(resources, pods, stack_file, project)
    return problems


def _platform_limit_problems(resources: list[dict[str, Any]], pods: list[PodSet], stack_file: str, project: str) -> list[str]:
    """The pool's limits cap the capacity of its nodes; what its pods request (History Servers at their
    quota, not at rest) must fit under them, or pods stay pending with the pool at its limit."""
    pool = _platform_pool(resources)
    if pool is None:
        return []
    steady = [p for p in pods if p.placement == PLATFORM_POOL and not p.transient and not p.source.startswith("spark-history/")]
    cpu = sum(p.total_cpu_milli for p in steady)
    memory = sum(p.total_memory_mib for p in steady)
    quota = _quota(resources, "spark-history")
    if quota is not None:
        cpu += cpu_millis(quota["requests.cpu"])
        memory += memory_mib(quota["requests.memory"])
    limits = pool["spec"]["limits"]
    if cpu <= cpu_millis(limits["cpu"]) and memory <= memory_mib(limits["memory"]):
        return []
    return [
        f"{stack_file}: {project}:karpenter.platform.limits: platform services request {_cpu(cpu)}, {_gib(memory)}"
        f" (History Servers at their quota), more than the platform pool's limits ({limits['cpu']} CPU, {limits['memory']}); raise them"
    ]


def _quota(resources: list[dict[str, Any]], namespace: str) -> dict[str, str] | None:
    for r in resources:
        if r["type"] == QUOTA and r["inputs"]["metadata"].get("namespace") == namespace:
            return r["inputs"]["spec"]["hard"]
    return None


def footprint_table(resources: list[dict[str, Any]]) -> list[str]:
    """The summary.md section: requests per placement, the system group's fit, the History Servers' cap."""
    fit = system_fit(resources)
    if fit is None:
        return []
    pods = [p for p in platform_pods(resources) if not p.transient]
    rows: dict[str, list[float]] = {}
    for pod in pods:
        row = rows.setdefault(pod.placement, [0, 0, 0.0])
        row[0] += pod.replicas
        row[1] += pod.total_cpu_milli
        row[2] += pod.total_memory_mib
    lines = [
        "## Platform footprint",
        "",
        "Requests of the platform's own pods by placement (DaemonSets per node). Spark pods are not included.",
        "",
        "| placement | pods | CPU requested | memory requested |",
        "|---|---:|---:|---:|",
    ]
    for placement in (SYSTEM_POOL, PLATFORM_POOL, EVERY_NODE, *sorted(set(rows) - {SYSTEM_POOL, PLATFORM_POOL, EVERY_NODE})):
        if placement in rows:
            count, cpu, memory = rows[placement]
            label = f"{placement} (per node)" if placement == EVERY_NODE else placement
            lines.append(f"| {label} | {int(count)} | {_cpu(cpu)} | {_gib(memory)} |")
    lines += [
        "",
        f"System node group: {fit.group.desired_size} x {', '.join(fit.group.instance_types)}; its pods and DaemonSets request"
        f" {_cpu(fit.requested_cpu)} and {_gib(fit.requested_memory)} of {_cpu(fit.available_cpu)} and {_gib(fit.available_memory)}"
        f" available ({int((1 - SYSTEM_HEADROOM) * 100)}% of Karpenter's allocatable figures for {fit.instance_type}).",
    ]
    quota = _quota(resources, "spark-history")
    if quota is not None:
        servers = [p for p in pods if p.source.startswith("spark-history/")]
        running = sum(p.replicas for p in servers)
        planned = (
            f"{len(servers)} team{'' if len(servers) == 1 else 's'}, {running} pods running at plan time"
            if servers
            else "no server planned yet (they wait for the platform image)"
        )
        lines += [
            "",
            f"History Servers: {planned}; at most {quota['pods']} pods,"
            f" {_gib(memory_mib(quota['requests.memory']))} and {_cpu(cpu_millis(quota['requests.cpu']))} together (ResourceQuota of `spark-history`).",
        ]
    return lines
