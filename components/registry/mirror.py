"""Pure builders for a private cluster: the charts' public images through ECR pull-through cache.

Without NAT, nodes reach only AWS (the ECR and S3 endpoints). ECR fetches an upstream image into the
stack's registry on first pull and serves it from there, with the upstream's digest, so a chart that pins
by digest still verifies. Each image the pinned charts can render is listed below by its path in the
chart's values; `private_image_values` points every one of them at the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Upstream:
    registry: str
    """The registry as images name it."""
    url: str
    """The registry ECR pulls from."""
    prefix: str
    """ECR repository prefix of its cache."""
    credentials: str | None = None
    """Key of the Secrets Manager secret ECR needs for it (`network.pullThroughCredentials`), if any."""


UPSTREAMS = {
    u.registry: u
    for u in (
        Upstream("public.ecr.aws", "public.ecr.aws", "ecr-public"),
        Upstream("quay.io", "quay.io", "quay"),
        Upstream("registry.k8s.io", "registry.k8s.io", "k8s"),
        Upstream("docker.io", "registry-1.docker.io", "docker-hub", credentials="dockerHub"),
        Upstream("ghcr.io", "ghcr.io", "github", credentials="github"),
    )
}


@dataclass(frozen=True)
class ChartImage:
    path: tuple[str, ...]
    """Where the image is in the chart's values."""
    upstream: str
    repository: str
    """Repository path at the upstream (Docker Hub's official images under library/)."""
    embedded: bool = False
    """The chart takes `repository` with the registry host in it (no `registry` key)."""


def _images(*entries: tuple[str, str, str] | tuple[str, str, str, bool]) -> tuple[ChartImage, ...]:
    return tuple(ChartImage(tuple(e[0].split(".")), e[1], e[2], *(e[3:])) for e in entries)


# Every image the pinned charts' values name (checked against their values.yaml in the tests), by chart
# name as the releases install it. Fluent Bit's own registry (cr.fluentbit.io) has no ECR pull-through
# support; the project publishes the same images on Docker Hub.
CHART_IMAGES: dict[str, tuple[ChartImage, ...]] = {
    "karpenter": _images(("controller.image", "public.ecr.aws", "karpenter/controller", True)),
    "spark-operator": _images(
        ("image", "ghcr.io", "kubeflow/spark-operator/controller"),
        ("hook.image", "ghcr.io", "kubeflow/spark-operator/kubectl"),
    ),
    "kube-prometheus-stack": _images(
        ("crds.upgradeJob.image.busybox", "docker.io", "library/busybox"),
        ("crds.upgradeJob.image.kubectl", "registry.k8s.io", "kubectl"),
        ("alertmanager.alertmanagerSpec.image", "quay.io", "prometheus/alertmanager"),
        ("prometheusOperator.admissionWebhooks.deployment.image", "quay.io", "prometheus-operator/admission-webhook"),
        ("prometheusOperator.admissionWebhooks.patch.image", "ghcr.io", "jkroepke/kube-webhook-certgen"),
        ("prometheusOperator.image", "quay.io", "prometheus-operator/prometheus-operator"),
        ("prometheusOperator.prometheusConfigReloader.image", "quay.io", "prometheus-operator/prometheus-config-reloader"),
        ("prometheusOperator.thanosImage", "quay.io", "thanos/thanos"),
        ("prometheus.prometheusSpec.image", "quay.io", "prometheus/prometheus"),
        ("thanosRuler.thanosRulerSpec.image", "quay.io", "thanos/thanos"),
        # Subcharts: their values files are not among the pinned schemas; registry and path as they publish.
        ("kube-state-metrics.image", "registry.k8s.io", "kube-state-metrics/kube-state-metrics"),
        ("prometheus-node-exporter.image", "quay.io", "prometheus/node-exporter"),
        ("grafana.image", "docker.io", "grafana/grafana"),
        ("grafana.testFramework.image", "docker.io", "bats/bats"),
        ("grafana.downloadDashboardsImage", "docker.io", "curlimages/curl"),
        ("grafana.initChownData.image", "docker.io", "library/busybox"),
        ("grafana.sidecar.image", "quay.io", "kiwigrid/k8s-sidecar"),
        ("grafana.imageRenderer.image", "docker.io", "grafana/grafana-image-renderer"),
    ),
    "loki": _images(
        ("defaults.statefulSetRecreateJob.image", "registry.k8s.io", "kubectl"),
        ("loki.image", "docker.io", "grafana/loki"),
        ("test.image", "docker.io", "grafana/loki-helm-test"),
        ("lokiCanary.image", "docker.io", "grafana/loki-canary"),
        ("gateway.image", "docker.io", "nginxinc/nginx-unprivileged"),
        ("gateway.metrics.image", "ghcr.io", "jkroepke/access-log-exporter"),
        ("memcached.image", "docker.io", "library/memcached"),
        ("memcachedExporter.image", "docker.io", "prom/memcached-exporter"),
        ("sidecar.image", "docker.io", "kiwigrid/k8s-sidecar"),
    ),
    "fluent-bit": _images(
        ("image", "docker.io", "fluent/fluent-bit", True),
        ("testFramework.image", "docker.io", "library/busybox", True),
        ("hotReload.image", "ghcr.io", "jimmidyson/configmap-reload", True),
    ),
    "opencost": _images(
        ("opencost.exporter.image", "ghcr.io", "opencost/opencost"),
        ("opencost.ui.image", "ghcr.io", "opencost/opencost-ui"),
    ),
    "celeborn": _images(("image", "docker.io", "apache/celeborn")),
    "yunikorn": _images(
        ("image", "docker.io", "apache/yunikorn", True),
        ("admissionController.image", "docker.io", "apache/yunikorn", True),
        ("web.image", "docker.io", "apache/yunikorn", True),
    ),
}


def cache_registry(registry_host: str, upstream: str) -> str:
    return f"{registry_host}/{UPSTREAMS[upstream].prefix}"


def private_image_values(chart: str, registry_host: str) -> dict[str, Any]:
    """Values that point every image of `chart` at the stack's pull-through cache (tags and digests stay)."""
    values: dict[str, Any] = {}
    for image in CHART_IMAGES.get(chart, ()):
        node = values
        for key in image.path:
            node = node.setdefault(key, {})
        registry = cache_registry(registry_host, image.upstream)
        if image.embedded:
            node["repository"] = f"{registry}/{image.repository}"
        else:
            node["registry"] = registry
            node["repository"] = image.repository
    return values


def upstreams_in_use(charts: list[str]) -> list[str]:
    return sorted({image.upstream for chart in charts for image in CHART_IMAGES.get(chart, ())})
