"""The pods each Helm release of the platform runs, described by the chart values that shape them.

The offline plan has no chart templates, only the values it hands each release; this catalog says, per
release, which pods those values produce: where each container's `resources` live, how many replicas,
which nodeSelector places them, and what protects a stateful pod from node consolidation. The tests
check it against the pinned charts' own values files: every `resources` key a chart defines is either a
container here or switched off by our values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ChartPods:
    release: str
    name: str
    containers: tuple[str, ...]
    """Value path of each container's `resources` (a path repeats when several containers share it)."""
    replicas: str | int
    """Value path of the replica count, or the fixed count the chart renders."""
    placement: str | None
    """Value path of the pods' nodeSelector; None for a DaemonSet (one pod on every node)."""
    enabled: str | None = None
    """Value path that turns these pods off when false."""
    stateful: bool = False
    """Holds data a restart elsewhere loses or must re-attach (a volume, a WAL)."""
    disruption_budget: str | None = None
    """Value path of the PodDisruptionBudget settings the chart renders for these pods."""
    pod_annotations: str | None = None
    """Value path of the pods' annotations (where `karpenter.sh/do-not-disrupt` goes)."""
    spread: str | None = None
    """Value path of the pods' topologySpreadConstraints."""
    transient: bool = False
    """Install/upgrade Jobs: they need requests, but do not stay."""
    fixed_resources: tuple[str, ...] = field(default=())
    """Containers the chart gives no resources setting (named for the report)."""


CHART_PODS: tuple[ChartPods, ...] = (
    ChartPods("karpenter", "karpenter", ("controller.resources",), "replicas", "nodeSelector", disruption_budget="podDisruptionBudget",
              spread="topologySpreadConstraints"),
    ChartPods(
        "spark-operator", "controller", ("controller.resources",), "controller.replicas", "controller.nodeSelector",
        disruption_budget="controller.podDisruptionBudget", spread="controller.topologySpreadConstraints",
    ),
    ChartPods(
        "spark-operator", "webhook", ("webhook.resources",), "webhook.replicas", "webhook.nodeSelector",
        enabled="webhook.enable", disruption_budget="webhook.podDisruptionBudget", spread="webhook.topologySpreadConstraints",
    ),
    ChartPods("spark-operator", "crd-upgrade-hook", (), 1, "hook.nodeSelector", enabled="hook.upgradeCrd", transient=True, fixed_resources=("upgrade-crd",)),
    ChartPods("yunikorn", "scheduler", ("resources", "web.resources"), 1, "nodeSelector"),
    ChartPods("yunikorn", "admission-controller", ("admissionController.resources",), "admissionController.replicaCount", "admissionController.nodeSelector"),
    ChartPods("kube-prometheus-stack", "prometheus-operator", ("prometheusOperator.resources",), 1, "prometheusOperator.nodeSelector"),
    ChartPods(
        "kube-prometheus-stack", "admission-webhook-certificates", ("prometheusOperator.admissionWebhooks.patch.resources",), 1,
        "prometheusOperator.admissionWebhooks.patch.nodeSelector", enabled="prometheusOperator.admissionWebhooks.patch.enabled", transient=True,
    ),
    ChartPods(
        "kube-prometheus-stack", "prometheus",
        ("prometheus.prometheusSpec.resources", "prometheusOperator.prometheusConfigReloader.resources"),
        "prometheus.prometheusSpec.replicas", "prometheus.prometheusSpec.nodeSelector",
        stateful=True, pod_annotations="prometheus.prometheusSpec.podMetadata.annotations",
    ),
    ChartPods(
        "kube-prometheus-stack", "alertmanager",
        ("alertmanager.alertmanagerSpec.resources", "prometheusOperator.prometheusConfigReloader.resources"),
        "alertmanager.alertmanagerSpec.replicas", "alertmanager.alertmanagerSpec.nodeSelector", enabled="alertmanager.enabled",
        stateful=True, disruption_budget="alertmanager.podDisruptionBudget", pod_annotations="alertmanager.alertmanagerSpec.podMetadata.annotations",
        spread="alertmanager.alertmanagerSpec.topologySpreadConstraints",
    ),
    # Grafana's dashboard and datasource sidecars share `sidecar.resources`.
    ChartPods(
        "kube-prometheus-stack", "grafana", ("grafana.resources", "grafana.sidecar.resources", "grafana.sidecar.resources"),
        "grafana.replicas", "grafana.nodeSelector", enabled="grafana.enabled",
    ),
    ChartPods("kube-prometheus-stack", "kube-state-metrics", ("kube-state-metrics.resources",), "kube-state-metrics.replicas", "kube-state-metrics.nodeSelector"),
    ChartPods("kube-prometheus-stack", "node-exporter", ("prometheus-node-exporter.resources",), 1, None),
    # The Loki pod carries the rules sidecar.
    ChartPods(
        "loki", "loki", ("singleBinary.resources", "sidecar.resources"), "singleBinary.replicas", "singleBinary.nodeSelector",
        stateful=True, disruption_budget="singleBinary.podDisruptionBudget", pod_annotations="singleBinary.podAnnotations",
        spread="singleBinary.topologySpreadConstraints",
    ),
    ChartPods(
        "loki", "loki-gateway", ("gateway.resources", "gateway.metrics.resources"), "gateway.replicas", "gateway.nodeSelector",
        enabled="gateway.enabled", disruption_budget="gateway.podDisruptionBudget", spread="gateway.topologySpreadConstraints",
    ),
    ChartPods("fluent-bit", "fluent-bit", ("resources",), 1, None),
    # Celeborn (optional): masters hold the Raft log on a volume, workers the running jobs' shuffle data.
    # Both get the platform's own PodDisruptionBudgets (the chart renders none); workers are pinned by
    # karpenter.sh/do-not-disrupt on their own NodePool.
    ChartPods("celeborn", "master", ("master.resources",), "master.replicas", "master.nodeSelector", stateful=True, pod_annotations="master.annotations"),
    ChartPods("celeborn", "worker", ("worker.resources",), "worker.replicas", "worker.nodeSelector", stateful=True, pod_annotations="worker.annotations"),
    ChartPods("opencost", "opencost", ("opencost.exporter.resources", "opencost.ui.resources"), "opencost.exporter.replicas", "opencost.nodeSelector"),
)

# Chart `resources` keys whose pods our values never create, with the value that keeps them off.
# (path of the resources key, path of the switch, the value our values give it)
NOT_RENDERED: dict[str, tuple[tuple[str, str, Any], ...]] = {
    "kube-prometheus-stack": (
        ("crds.upgradeJob.resources", "crds.upgradeJob.enabled", False),
        ("prometheusOperator.admissionWebhooks.deployment.resources", "prometheusOperator.admissionWebhooks.deployment.enabled", False),
        ("thanosRuler.thanosRulerSpec.resources", "thanosRuler.enabled", False),
        ("grafana.initChownData.resources", "grafana.persistence.enabled", False),
        ("grafana.imageRenderer.resources", "grafana.imageRenderer.enabled", False),
        ("grafana.downloadDashboards.resources", "grafana.dashboards", {}),
        # Rendered only for `helm test`, never installed.
        ("grafana.testFramework.resources", "grafana.testFramework.enabled", True),
    ),
    "opencost": (
        # The SigV4 proxy only runs for Amazon Managed Prometheus; custom CA trust is off.
        ("opencost.sigV4Proxy.resources", "opencost.prometheus.amp.enabled", False),
        ("opencost.updateCaTrust.resources", "opencost.updateCaTrust.enabled", False),
    ),
    "loki": (
        ("lokiCanary.resources", "lokiCanary.enabled", False),
        ("write.resources", "write.replicas", 0),
        ("read.resources", "read.replicas", 0),
        ("backend.resources", "backend.replicas", 0),
        *(
            (f"{target}.resources", "deploymentMode", "Monolithic")
            for target in (
                "ingester", "distributor", "querier", "queryFrontend", "queryScheduler", "indexGateway", "compactor",
                "bloomGateway", "bloomPlanner", "bloomBuilder", "patternIngester", "ruler", "overridesExporter",
            )
        ),
        ("resultsCache.resources", "resultsCache.enabled", False),
        ("chunksCache.resources", "chunksCache.enabled", False),
        ("chunksCache.l2.resources", "chunksCache.enabled", False),
        ("memcachedExporter.resources", "chunksCache.enabled", False),
        ("minio.resources", "minio.enabled", False),
        ("tableManager.resources", "tableManager.enabled", False),
    ),
    "fluent-bit": (("hotReload.resources", "hotReload.enabled", False),),
}


_MISSING = object()


def value_at(values: dict[str, Any], path: str, default: Any = _MISSING) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is _MISSING:
                raise KeyError(path)
            return default
        node = node[part]
    return node


def pods_of_release(release: str) -> list[ChartPods]:
    return [p for p in CHART_PODS if p.release == release]
