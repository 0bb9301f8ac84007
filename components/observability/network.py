"""NetworkPolicies of the monitoring namespace: nothing in or out but what each component needs.

Loki (gateway and store) admits Fluent Bit writing, Grafana reading, Prometheus scraping and its own
replicas; no team pod reaches it, tenant header or not. Prometheus scrapes every metrics port the platform
exposes; Grafana reads Prometheus, Loki and Alertmanager; Alertmanager sends to Slack. node-exporter runs on
the host network, where NetworkPolicies do not apply."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from components.observability.values import LOKI_GATEWAY_PORT
from components.observability.values import NAMESPACE as MONITORING_NAMESPACE
from sparkeks.netpol import Allowance, ClusterNetwork, dns, namespace_policies, pod_identity, pods, rule, tcp
from sparkeks.spark import celeborn

NAME = "app.kubernetes.io/name"
PROMETHEUS = {NAME: "prometheus"}
ALERTMANAGER = {NAME: "alertmanager"}
GRAFANA = {NAME: "grafana"}
KUBE_STATE_METRICS = {NAME: "kube-state-metrics"}
FLUENT_BIT = {NAME: "fluent-bit"}
OPENCOST = {NAME: "opencost"}
LOKI_PODS = {NAME: "loki"}
LOKI_GATEWAY = {**LOKI_PODS, "app.kubernetes.io/component": "gateway"}
# kube-prometheus-stack labels its operator and its webhook-certificate Jobs with `app: <chart>-<part>`.
OPERATOR = {"app": "kube-prometheus-stack-operator"}
WEBHOOK_JOBS = ("kube-prometheus-stack-admission-create", "kube-prometheus-stack-admission-patch")

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
GRAFANA_PORT = 3000
LOKI_HTTP, LOKI_GRPC, LOKI_MEMBERLIST = 3100, 9095, 7946
OPERATOR_PORT = 10250  # the operator's HTTPS port: its admission webhook and its metrics
CONFIG_RELOADER_PORT = 8080  # the config-reloader sidecar of Prometheus and Alertmanager
KUBE_STATE_METRICS_PORTS = (8080, 8081)
FLUENT_BIT_PORT = 2020
OPENCOST_PORTS = (9003, 9090)  # exporter (metrics and API), UI
KUBELET_PORT, NODE_EXPORTER_PORT, KUBE_PROXY_METRICS_PORT = 10250, 9100, 10249
COREDNS_METRICS_PORT = 9153

# Every port Prometheus scrapes on a pod: Spark drivers' UI port (their metrics servlets), the platform
# controllers' metrics ports, and the ports below. Components in other namespaces add theirs.
SPARK_UI_PORT = 4040
POD_SCRAPE_PORTS = sorted(
    {
        SPARK_UI_PORT,
        8080,  # Karpenter, Spark Operator, kube-state-metrics, config reloaders
        8081,  # kube-state-metrics' own telemetry
        PROMETHEUS_PORT,
        ALERTMANAGER_PORT,
        GRAFANA_PORT,
        OPERATOR_PORT,
        LOKI_HTTP,
        FLUENT_BIT_PORT,
        9003,  # OpenCost
        9080,  # YuniKorn's scheduler REST (metrics)
        44180,  # the History Servers' oauth2-proxy metrics
        celeborn.MASTER_HTTP_PORT,
        celeborn.WORKER_HTTP_PORT,
        COREDNS_METRICS_PORT,
    }
)


def scraper() -> dict[str, Any]:
    """The peer other namespaces admit on their metrics ports: this namespace's Prometheus."""
    return pods_in_monitoring(PROMETHEUS)


def pods_in_monitoring(labels: dict[str, str]) -> dict[str, Any]:
    return pods(MONITORING_NAMESPACE, labels)


def _local(labels: dict[str, str]) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": dict(labels)}}


def _tempo_egress(tempo_url: str | None, network: ClusterNetwork) -> list[dict[str, Any]]:
    """Grafana's way to an existing Tempo: a Service in the cluster (`name.namespace.svc...`) by namespace,
    anything else in the VPC or public by address on the URL's port."""
    if not tempo_url:
        return []
    parts = urlsplit(tempo_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    labels = (parts.hostname or "").split(".")
    if len(labels) >= 3 and labels[2] == "svc":
        return [rule([pods(labels[1])], tcp(port), "egress")]
    public = network.aws_public_endpoints()
    return [rule(network.interface_endpoints()["to"] + public["to"], tcp(port), "egress")]


def network_policies(namespace: str, network: ClusterNetwork, *, loki_on_s3: bool, tempo_url: str | None = None) -> list[dict[str, Any]]:
    api, aws_public = network.api_server(), network.aws_public_endpoints()
    scrape = [_local(PROMETHEUS)]
    allowances = [
        Allowance(
            "prometheus",
            PROMETHEUS,
            ingress=[
                rule([_local(GRAFANA), _local(OPENCOST)], tcp(PROMETHEUS_PORT), "ingress"),
                rule(scrape, tcp(PROMETHEUS_PORT, CONFIG_RELOADER_PORT), "ingress"),
            ],
            egress=[
                dns(),
                api,
                # Every namespace's pods on the scrape ports; each namespace's own policies decide who is scraped.
                rule([{"namespaceSelector": {}}], tcp(*POD_SCRAPE_PORTS), "egress"),
                network.nodes(KUBELET_PORT, NODE_EXPORTER_PORT, KUBE_PROXY_METRICS_PORT),
                rule([_local(ALERTMANAGER)], tcp(ALERTMANAGER_PORT), "egress"),
            ],
        ),
        Allowance(
            "alertmanager",
            ALERTMANAGER,
            ingress=[
                rule([_local(PROMETHEUS), _local(GRAFANA)], tcp(ALERTMANAGER_PORT), "ingress"),
                rule(scrape, tcp(CONFIG_RELOADER_PORT), "ingress"),
            ],
            # Receivers: Slack's webhook (public HTTPS).
            egress=[dns(), aws_public],
        ),
        Allowance(
            "grafana",
            GRAFANA,
            ingress=[rule(scrape, tcp(GRAFANA_PORT), "ingress")],
            egress=[
                dns(),
                api,  # the dashboard and datasource sidecars watch ConfigMaps and Secrets here
                rule([_local(PROMETHEUS)], tcp(PROMETHEUS_PORT), "egress"),
                rule([_local(LOKI_GATEWAY)], tcp(LOKI_GATEWAY_PORT), "egress"),
                rule([_local(ALERTMANAGER)], tcp(ALERTMANAGER_PORT), "egress"),
                *_tempo_egress(tempo_url, network),
            ],
        ),
        Allowance(
            "kube-state-metrics",
            KUBE_STATE_METRICS,
            ingress=[rule(scrape, tcp(*KUBE_STATE_METRICS_PORTS), "ingress")],
            egress=[dns(), api],
        ),
        Allowance(
            "prometheus-operator",
            OPERATOR,
            ingress=[network.from_api_server(OPERATOR_PORT), rule(scrape, tcp(OPERATOR_PORT), "ingress")],
            egress=[dns(), api],
        ),
        Allowance(
            "webhook-certificate-jobs",
            pod_expressions=[{"key": "app", "operator": "In", "values": list(WEBHOOK_JOBS)}],
            egress=[dns(), api],
        ),
        Allowance(
            "fluent-bit",
            FLUENT_BIT,
            ingress=[rule(scrape, tcp(FLUENT_BIT_PORT), "ingress")],
            egress=[dns(), api, rule([_local(LOKI_GATEWAY)], tcp(LOKI_GATEWAY_PORT), "egress")],
        ),
        Allowance(
            "opencost",
            OPENCOST,
            ingress=[rule(scrape, tcp(OPENCOST_PORTS[0]), "ingress")],
            egress=[dns(), api, rule([_local(PROMETHEUS)], tcp(PROMETHEUS_PORT), "egress")],
        ),
        Allowance(
            "loki-clients-only",
            LOKI_PODS,
            ingress=[
                rule([_local(FLUENT_BIT), _local(GRAFANA)], tcp(LOKI_GATEWAY_PORT), "ingress"),
                rule(scrape, tcp(LOKI_GATEWAY_PORT, LOKI_HTTP), "ingress"),
                # The gateway to the store, and the store's replicas to each other.
                rule([_local(LOKI_PODS)], tcp(LOKI_HTTP, LOKI_GRPC, LOKI_MEMBERLIST), "ingress"),
            ],
            egress=[
                dns(),
                api,  # the rules sidecar watches ConfigMaps
                rule([_local(LOKI_PODS)], tcp(LOKI_HTTP, LOKI_GRPC, LOKI_MEMBERLIST), "egress"),
                # Chunks and index in S3 (gateway endpoint), credentials from the Pod Identity Agent.
                *([pod_identity(), aws_public] if loki_on_s3 else []),
            ],
        ),
    ]
    return namespace_policies(namespace, allowances)
