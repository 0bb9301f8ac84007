"""Pure builders of what the Celeborn chart does not render: the namespace, disruption budgets, the
PodMonitors, the NetworkPolicies and the workers' NodePool."""

from __future__ import annotations

from typing import Any

from components.celeborn.values import WORKER_POOL, role_labels
from components.karpenter.nodes import NVME_NODE_CLASS, node_pools
from components.spark.teams import MONITORING_LABEL, TEAM_LABEL
from sparkeks.config.shuffle import CelebornWorkerPoolConfig
from sparkeks.netpol import Allowance, dns, namespace_policies, tcp
from sparkeks.spark import celeborn

METRICS_PORT_NAME = "metrics"  # the chart's name for each pod's HTTP (metrics) port
METRICS_PATH = "/metrics/prometheus"
ROLES = ("master", "worker")


def namespace() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": celeborn.NAMESPACE,
            # The pods run as uid 10006 with no privilege; nothing here needs host access.
            "labels": {"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted"},
        },
    }


def disruption_budget(role: str) -> dict[str, Any]:
    """One pod of a role down at a time: two of three masters keep the Raft quorum; with replication on,
    every block of a lost worker has its copy on another."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"{celeborn.RELEASE}-{role}", "namespace": celeborn.NAMESPACE},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": role_labels(role)}},
    }


def pod_monitor(role: str) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": f"{celeborn.RELEASE}-{role}", "namespace": celeborn.NAMESPACE, "labels": {"app.kubernetes.io/part-of": "spark-on-eks"}},
        "spec": {
            "selector": {"matchLabels": role_labels(role)},
            "podMetricsEndpoints": [
                {
                    "port": METRICS_PORT_NAME,
                    "path": METRICS_PATH,
                    "interval": "30s",
                }
            ],
        },
    }


def network_policies() -> list[dict[str, Any]]:
    """Default-deny both ways (sparkeks.netpol), then: team namespaces reach the client ports only (masters'
    RPC, workers' RPC, push and fetch), where each application authenticates (rpc_auth.py); masters and
    workers talk among themselves (Raft, the internal ports, replication), none of which authenticates,
    and resolve each other's names; Prometheus reaches the HTTP ports. No team pod reaches the HTTP ports,
    which also serve Celeborn's REST API (read-only unless the stack opens it: rest_api.py); Celeborn calls
    nothing outside its release."""
    teams = {"namespaceSelector": {"matchExpressions": [{"key": TEAM_LABEL, "operator": "Exists"}]}}
    prometheus = {
        "namespaceSelector": {"matchLabels": {MONITORING_LABEL: "true"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    same_release = {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": celeborn.RELEASE}}}
    worker = celeborn.WORKER_PORTS
    peer_ports = (worker["rpc"], worker["push"], worker["fetch"], worker["replicate"], worker["internal"])
    internal = tcp(celeborn.MASTER_PORT, celeborn.MASTER_INTERNAL_PORT, celeborn.MASTER_RAFT_PORT, *peer_ports)
    return namespace_policies(
        celeborn.NAMESPACE,
        [
            Allowance(
                f"{celeborn.RELEASE}-master",
                role_labels("master"),
                ingress=[
                    {"from": [teams], "ports": tcp(celeborn.MASTER_PORT)},
                    {"from": [same_release], "ports": tcp(celeborn.MASTER_PORT, celeborn.MASTER_INTERNAL_PORT, celeborn.MASTER_RAFT_PORT)},
                    {"from": [prometheus], "ports": tcp(celeborn.MASTER_HTTP_PORT)},
                ],
            ),
            Allowance(
                f"{celeborn.RELEASE}-worker",
                role_labels("worker"),
                ingress=[
                    {"from": [teams], "ports": tcp(worker["rpc"], worker["push"], worker["fetch"])},
                    {"from": [same_release], "ports": tcp(*peer_ports)},
                    {"from": [prometheus], "ports": tcp(celeborn.WORKER_HTTP_PORT)},
                ],
            ),
            Allowance(f"{celeborn.RELEASE}-peers", {"app.kubernetes.io/instance": celeborn.RELEASE}, egress=[dns(), {"to": [same_release], "ports": internal}]),
        ],
    )


def worker_node_pools(pool: CelebornWorkerPoolConfig, *, zones: list[str]) -> list[dict[str, Any]]:
    """On-demand NVMe nodes, one worker each. `WhenEmpty`: a node goes only once its worker has gone (a
    lowered `workers`), never for being underused; the workers' do-not-disrupt annotation keeps drift and
    consolidation off a node while its worker runs."""
    return node_pools(
        "celeborn", pool, zones=zones, node_class=NVME_NODE_CLASS, consolidation_policy="WhenEmpty", name=WORKER_POOL
    )
