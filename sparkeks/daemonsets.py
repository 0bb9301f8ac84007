"""The DaemonSet pods the platform runs on every Spark node, and what they request.

A Spark node's room for executors is its allocatable capacity (`sparkeks.nodes`) minus these pods'
requests: the scheduler counts requests, not use. Two kinds:

- EKS add-ons' DaemonSets, installed with their upstream requests (our `addon_configuration` switches
  the network policy agent on and sets the requests of CoreDNS and the EBS CSI controller, which are
  Deployments on the system nodes, not DaemonSets). Their requests are facts of the pinned
  build, recorded below with where they were read; `tests/test_nodes.py` fails when a pin in
  `sparkeks/versions.py` moves past the build they were read for.
- Helm DaemonSets (Fluent Bit, node-exporter): read from the values the platform renders (the project's
  `helm-values/`), falling back to the chart's own default when our values set none.

A DaemonSet counts only if it tolerates the Spark pools' taint (`spark-on-eks.io/pool`, NoSchedule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sparkeks.placement import POOL_LABEL
from sparkeks.project import helm_values


@dataclass(frozen=True)
class DaemonSetPod:
    name: str
    cpu_milli: int
    memory_mib: int
    source: str


@dataclass(frozen=True)
class AddonPod:
    """An EKS add-on's DaemonSet pod: requests per container, read for one build."""

    addon: str
    pod: str
    checked_builds: tuple[str, ...]
    """Add-on versions (before `-eksbuild`) the requests were read for."""
    containers: tuple[tuple[int, int], ...]
    """(CPU millicores, memory MiB) each regular container requests."""
    init_containers: tuple[tuple[int, int], ...]
    source: str

    def requests(self) -> tuple[int, int]:
        # A pod's effective request: the larger of its containers' sum and its largest init container.
        cpu = max(sum(c for c, _ in self.containers), max((c for c, _ in self.init_containers), default=0))
        memory = max(sum(m for _, m in self.containers), max((m for _, m in self.init_containers), default=0))
        return cpu, memory


# Every add-on DaemonSet tolerates all taints (`operator: Exists`; the EBS CSI node's tolerateAllTaints),
# so all four run on Spark nodes.
EKS_ADDON_PODS = (
    AddonPod(
        addon="vpc-cni",
        pod="kube-system/aws-node",
        checked_builds=("v1.22.4",),
        # aws-node and aws-eks-nodeagent; the init container aws-vpc-cni-init.
        containers=((25, 0), (25, 0)),
        init_containers=((25, 0),),
        source="aws/amazon-vpc-cni-k8s tag v1.22.4, charts/aws-vpc-cni: resources.requests.cpu 25m, "
        "used by aws-node, and by default by the node agent and the init container; no memory request",
    ),
    AddonPod(
        addon="kube-proxy",
        pod="kube-system/kube-proxy",
        checked_builds=("v1.34", "v1.35", "v1.36"),
        containers=((100, 0),),
        init_containers=(),
        source="EKS kube-proxy add-on DaemonSet as EKS installs it (requests cpu 100m, no memory); EKS does not "
        "publish this manifest in a repository: check with `kubectl -n kube-system get ds kube-proxy -o yaml`",
    ),
    AddonPod(
        addon="eks-pod-identity-agent",
        pod="kube-system/eks-pod-identity-agent",
        checked_builds=("v1.3.10",),
        containers=((0, 0),),
        init_containers=((0, 0),),
        source="aws/eks-pod-identity-agent charts/eks-pod-identity-agent values.yaml: resources {} (no requests)",
    ),
    AddonPod(
        addon="aws-ebs-csi-driver",
        pod="kube-system/ebs-csi-node",
        checked_builds=("v1.63.1",),
        # ebs-plugin (node.resources), node-driver-registrar and liveness-probe (the template's defaults).
        containers=((10, 40), (10, 32), (10, 32)),
        init_containers=(),
        source="kubernetes-sigs/aws-ebs-csi-driver tag v1.63.1, charts/aws-ebs-csi-driver: node.resources.requests "
        "10m/40Mi; templates/_node.tpl sidecar defaults 10m/32Mi each",
    ),
)

# Chart defaults for DaemonSets whose requests our values leave unset (chart version: default requests).
HELM_CHART_DEFAULT_REQUESTS = {
    # fluent/helm-charts charts/fluent-bit 0.58.1 values.yaml: `resources: {}`.
    "fluent-bit": (0, 0),
    # prometheus-community/helm-charts charts/prometheus-node-exporter 4.56.1 (kube-prometheus-stack 88.5.3's
    # dependency) values.yaml: `resources: {}`.
    "prometheus-node-exporter": (0, 0),
}


def cpu_milli(quantity: Any) -> int:
    text = str(quantity)
    return int(text[:-1]) if text.endswith("m") else round(float(text) * 1000)


_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def memory_mib(quantity: Any) -> int:
    """A Kubernetes memory quantity in MiB, rounded up."""
    text = str(quantity)
    for table in (_BINARY, _DECIMAL):
        for suffix, factor in table.items():
            if text.endswith(suffix):
                return math.ceil(float(text[: -len(suffix)]) * factor / 2**20)
    return math.ceil(float(text) / 2**20)


def tolerates_spark_pools(tolerations: list[dict[str, Any]] | None) -> bool:
    for t in tolerations or []:
        if t.get("operator") == "Exists" and t.get("key") in (None, POOL_LABEL):
            return True
        if t.get("key") == POOL_LABEL and t.get("effect") in (None, "NoSchedule"):
            return True
    return False


def _helm_pod(name: str, chart: str, values: dict[str, Any], source: str) -> DaemonSetPod | None:
    if not tolerates_spark_pools(values.get("tolerations")):
        return None
    requests = (values.get("resources") or {}).get("requests")
    if requests:
        cpu, memory = cpu_milli(requests.get("cpu", 0)), memory_mib(requests.get("memory", 0))
        where = f"{source}: resources.requests"
    else:
        cpu, memory = HELM_CHART_DEFAULT_REQUESTS[chart]
        where = f"{source}: no requests set; chart default"
    return DaemonSetPod(name, cpu, memory, where)


def helm_daemonset_pods() -> tuple[DaemonSetPod, ...]:
    """The observability DaemonSets, from the values the platform renders."""
    pods = []
    fluent = helm_values("fluent-bit")
    if fluent.get("kind", "DaemonSet") == "DaemonSet":
        pod = _helm_pod("monitoring/fluent-bit", "fluent-bit", fluent, "helm-values/fluent-bit.yaml")
        if pod:
            pods.append(pod)
    stack = helm_values("kube-prometheus-stack")
    if (stack.get("nodeExporter") or {}).get("enabled", True):
        pod = _helm_pod(
            "monitoring/prometheus-node-exporter",
            "prometheus-node-exporter",
            stack.get("prometheus-node-exporter") or {},
            "helm-values/kube-prometheus-stack.yaml prometheus-node-exporter",
        )
        if pod:
            pods.append(pod)
    return tuple(pods)


def spark_node_daemonsets(*, observability: bool = True) -> tuple[DaemonSetPod, ...]:
    """Every DaemonSet pod on a Spark node; `observability=False` for stacks without the monitoring stack."""
    addons = tuple(DaemonSetPod(a.pod, *a.requests(), a.source) for a in EKS_ADDON_PODS)
    return addons + (helm_daemonset_pods() if observability else ())


def overhead(*, observability: bool = True) -> tuple[int, int, int]:
    """(CPU millicores, memory MiB, pods) the DaemonSets take from every Spark node."""
    pods = spark_node_daemonsets(observability=observability)
    return sum(p.cpu_milli for p in pods), sum(p.memory_mib for p in pods), len(pods)
