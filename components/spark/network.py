"""NetworkPolicies of the Spark Operator's and YuniKorn's namespaces: the controllers talk to the
Kubernetes API only; the control plane calls their admission webhooks; Prometheus scrapes their metrics."""

from __future__ import annotations

from typing import Any

from components.observability.network import scraper
from sparkeks.netpol import Allowance, ClusterNetwork, dns, namespace_policies, rule, tcp

OPERATOR = {"app.kubernetes.io/name": "spark-operator", "app.kubernetes.io/instance": "spark-operator"}
CONTROLLER = {**OPERATOR, "app.kubernetes.io/component": "controller"}
WEBHOOK = {**OPERATOR, "app.kubernetes.io/component": "webhook"}
METRICS_PORT = 8080
WEBHOOK_PORT = 9443
YUNIKORN_SCHEDULER = {"app": "yunikorn", "component": "yunikorn-scheduler"}
YUNIKORN_ADMISSION = {"app": "yunikorn", "component": "yunikorn-admission-controller"}
YUNIKORN_ADMISSION_PORT = 9089
YUNIKORN_REST_PORT = 9080  # REST API and metrics; the web UI in the same pod reads it over localhost
YUNIKORN_WEB_PORT = 9889


def operator_network_policies(namespace: str, network: ClusterNetwork) -> list[dict[str, Any]]:
    api = [dns(), network.api_server()]
    return namespace_policies(
        namespace,
        [
            # Controller, webhook and the chart's CRD-upgrade hook: the Kubernetes API and nothing else
            # (spark-submit inside the controller only creates the driver pod through it).
            Allowance("operator-to-api", {}, egress=api),
            Allowance("operator-controller", CONTROLLER, ingress=[rule([scraper()], tcp(METRICS_PORT), "ingress")]),
            Allowance(
                "operator-webhook",
                WEBHOOK,
                ingress=[network.from_api_server(WEBHOOK_PORT), rule([scraper()], tcp(METRICS_PORT), "ingress")],
            ),
        ],
    )


def yunikorn_network_policies(namespace: str, network: ClusterNetwork) -> list[dict[str, Any]]:
    """The scheduler pod (scheduler and web UI) and the admission controller, which runs on the pod network
    (helm-values/yunikorn.yaml): its configuration checks call the scheduler's REST API, and the control
    plane reaches its webhook at its pod address, as for every webhook on the VPC CNI."""
    return namespace_policies(
        namespace,
        [
            Allowance("yunikorn-to-api", {}, egress=[dns(), network.api_server()]),
            Allowance(
                "yunikorn-scheduler",
                YUNIKORN_SCHEDULER,
                ingress=[
                    rule([scraper()], tcp(YUNIKORN_REST_PORT), "ingress"),
                    rule([{"podSelector": {"matchLabels": YUNIKORN_ADMISSION}}], tcp(YUNIKORN_REST_PORT), "ingress"),
                ],
            ),
            Allowance(
                "yunikorn-admission-controller",
                YUNIKORN_ADMISSION,
                ingress=[network.from_api_server(YUNIKORN_ADMISSION_PORT)],
                egress=[rule([{"podSelector": {"matchLabels": YUNIKORN_SCHEDULER}}], tcp(YUNIKORN_REST_PORT), "egress")],
            ),
        ],
    )
