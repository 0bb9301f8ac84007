"""What the planned stack asks of its nodes: every platform pod, its requests and where it lands.

Read from the plan itself (the merged Helm values, the rendered manifests, the EKS add-ons'
configuration), so the figures are what `pulumi up` would deploy, not a second description of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sparkeks.capacity.addons import COREDNS, EBS_CSI, EBS_CSI_CONTROLLER_CONTAINERS, EBS_CSI_CONTROLLER_REPLICAS
from sparkeks.capacity.charts import CHART_PODS, ChartPods, value_at
from sparkeks.placement import POOL_LABEL, SYSTEM_POOL
from sparkeks.quantities import cpu_millis, memory_mib

EVERY_NODE = "every node"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
ADDON = "aws:eks/addon:Addon"
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}


@dataclass(frozen=True)
class PodSet:
    """`replicas` identical pods of one workload."""

    source: str
    placement: str
    replicas: int
    cpu_milli: int
    memory_mib: float
    memory_limit_mib: float | None
    containers_without_requests: tuple[str, ...] = ()
    transient: bool = False

    @property
    def total_cpu_milli(self) -> int:
        return self.cpu_milli * self.replicas

    @property
    def total_memory_mib(self) -> float:
        return self.memory_mib * self.replicas


def _requests(resources: dict[str, Any] | None) -> tuple[int, float, float | None]:
    resources = resources or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    cpu = cpu_millis(requests["cpu"]) if "cpu" in requests else 0
    memory = memory_mib(requests["memory"]) if "memory" in requests else 0.0
    limit = memory_mib(limits["memory"]) if "memory" in limits else None
    return cpu, memory, limit


def _has_requests(resources: dict[str, Any] | None) -> bool:
    requests = (resources or {}).get("requests") or {}
    return "cpu" in requests and "memory" in requests


def _sum_limits(limits: list[float | None]) -> float | None:
    return None if any(limit is None for limit in limits) else sum(limits)  # type: ignore[arg-type]


def chart_pod_set(pods: ChartPods, values: dict[str, Any]) -> PodSet | None:
    """The pods one catalog entry yields with these values (None when the values switch them off)."""
    if pods.enabled is not None and value_at(values, pods.enabled, True) is False:
        return None
    replicas = pods.replicas if isinstance(pods.replicas, int) else int(value_at(values, pods.replicas, 1))
    if replicas == 0:
        return None
    resources = [value_at(values, path, None) for path in pods.containers]
    figures = [_requests(r) for r in resources]
    if pods.placement is None:
        placement = EVERY_NODE
    else:
        placement = (value_at(values, pods.placement, None) or {}).get(POOL_LABEL, "anywhere")
    missing = tuple(path for path, r in zip(pods.containers, resources) if not _has_requests(r)) + pods.fixed_resources
    return PodSet(
        source=f"{pods.release}/{pods.name}",
        placement=placement,
        replicas=replicas,
        cpu_milli=sum(f[0] for f in figures),
        memory_mib=sum(f[1] for f in figures),
        memory_limit_mib=_sum_limits([f[2] for f in figures]) if figures else None,
        containers_without_requests=missing,
        transient=pods.transient,
    )


def _pod_template_set(manifest: dict[str, Any]) -> PodSet:
    spec = manifest["spec"]
    pod = spec["template"]["spec"]
    containers = pod.get("containers", [])
    init = pod.get("initContainers", [])
    figures = [_requests(c.get("resources")) for c in containers]
    init_figures = [_requests(c.get("resources")) for c in init]
    # A pod's effective request: its containers together, or its largest init container if larger.
    cpu = max(sum(f[0] for f in figures), max((f[0] for f in init_figures), default=0))
    memory = max(sum(f[1] for f in figures), max((f[1] for f in init_figures), default=0.0))
    kind = manifest["kind"]
    placement = EVERY_NODE if kind == "DaemonSet" else (pod.get("nodeSelector") or {}).get(POOL_LABEL, "anywhere")
    meta = manifest["metadata"]
    return PodSet(
        source=f"{meta.get('namespace')}/{meta['name']}",
        placement=placement,
        replicas=1 if kind == "DaemonSet" else int(spec.get("replicas", 1)),
        cpu_milli=cpu,
        memory_mib=memory,
        memory_limit_mib=_sum_limits([f[2] for f in figures]),
        containers_without_requests=tuple(c["name"] for c in [*containers, *init] if not _has_requests(c.get("resources"))),
    )


def _addon_sets(resources: list[dict[str, Any]]) -> list[PodSet]:
    from sparkeks.daemonsets import EKS_ADDON_PODS

    sets = []
    for addon in (r for r in resources if r["type"] == ADDON):
        name = addon["inputs"]["addonName"]
        settings = json.loads(addon["inputs"].get("configurationValues") or "{}")
        if name == COREDNS:
            cpu, memory, limit = _requests(settings.get("resources"))
            sets.append(PodSet("kube-system/coredns", SYSTEM_POOL, int(settings.get("replicaCount", 2)), cpu, memory, limit))
        elif name == EBS_CSI:
            cpu, memory, limit = _requests((settings.get("controller") or {}).get("resources"))
            n = EBS_CSI_CONTROLLER_CONTAINERS
            sets.append(
                PodSet("kube-system/ebs-csi-controller", SYSTEM_POOL, EBS_CSI_CONTROLLER_REPLICAS, cpu * n, memory * n, None if limit is None else limit * n)
            )
    installed = {r["inputs"]["addonName"] for r in resources if r["type"] == ADDON}
    for pod in EKS_ADDON_PODS:
        if pod.addon in installed:
            cpu, memory = pod.requests()
            sets.append(PodSet(pod.pod, EVERY_NODE, 1, cpu, float(memory), None))
    return sets


def platform_pods(resources: list[dict[str, Any]]) -> list[PodSet]:
    """Every platform pod set of a plan's resources (the `resources` list of a Plan or inventory)."""
    from sparkeks.plan.writer import is_manifest, manifest_of

    sets = _addon_sets(resources)
    by_release = {}
    for resource in resources:
        if resource["type"] == HELM_RELEASE:
            by_release[resource["inputs"].get("name")] = resource["inputs"].get("values") or {}
    for pods in CHART_PODS:
        if pods.release in by_release:
            pod_set = chart_pod_set(pods, by_release[pods.release])
            if pod_set is not None:
                sets.append(pod_set)
    for resource in resources:
        if is_manifest(resource) and resource["inputs"].get("kind") in _WORKLOADS:
            sets.append(_pod_template_set(manifest_of(resource)))
    return sets
