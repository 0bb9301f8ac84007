"""NetworkPolicies of the monitoring namespace: Loki (gateway and store) admits Fluent Bit writing,
Grafana reading, Prometheus scraping and its own replicas; no team pod reaches it, tenant header or not."""

from __future__ import annotations

from typing import Any

from sparkeks.netpol import network_policy

LOKI_PODS = {"app.kubernetes.io/name": "loki"}
# The pods of the releases in this namespace, as their charts label them.
LOKI_CLIENTS = {
    "fluent-bit": {"app.kubernetes.io/name": "fluent-bit"},
    "grafana": {"app.kubernetes.io/name": "grafana"},
    "prometheus": {"app.kubernetes.io/name": "prometheus"},
    "loki": LOKI_PODS,
}


def network_policies(namespace: str) -> list[dict[str, Any]]:
    peers = [{"podSelector": {"matchLabels": dict(labels)}} for labels in LOKI_CLIENTS.values()]
    return [network_policy("loki-clients-only", namespace, LOKI_PODS, ingress=[{"from": peers}])]
